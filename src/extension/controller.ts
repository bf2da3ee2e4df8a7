/**
 * The extension's training controller: at most one TrainingSession at a time, its status bar item,
 * context keys (so Stop/Pause/Resume are enabled only when they make sense), a progress notification
 * until the first step, the Output channel, the crash report (exit code, last error, what to do) and the
 * notification of a completed run (validation accuracy before -> after, its Dashboard and Rollout Groups).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Control, TrainerEvent } from '../protocol/index.js';
import { readRunDetails } from './runFiles.js';
import { completionMessage, crashAdvice } from './runReports.js';
import { type SessionSnapshot, TrainingSession } from './trainingSession.js';

const NO_RUN = 'no training run is active';

export interface StartRequest {
  /** A new run: the config object and where the run goes. */
  config?: Record<string, unknown>;
  runDir?: string;
  /** Or continue this run. */
  resumeDir?: string;
}

export class TrainingController implements vscode.Disposable {
  private session: TrainingSession | null = null;
  /** Sessions whose end (crash or completion) was already reported. */
  private readonly reported = new WeakSet<TrainingSession>();
  private readonly statusBar: vscode.StatusBarItem;
  private readonly eventEmitter = new vscode.EventEmitter<TrainerEvent>();
  private readonly stateEmitter = new vscode.EventEmitter<SessionSnapshot>();
  readonly onEvent = this.eventEmitter.event;
  readonly onState = this.stateEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    private readonly onRunsChanged: () => void,
  ) {
    this.statusBar = vscode.window.createStatusBarItem('durian.status', vscode.StatusBarAlignment.Left, 50);
    this.statusBar.name = 'Durian RL training';
    this.statusBar.command = 'durian.openDashboard';
    void this.setContext();
  }

  get snapshot(): SessionSnapshot | undefined {
    return this.session?.state;
  }

  get runDir(): string | undefined {
    return this.session?.state.runDir;
  }

  get active(): boolean {
    const state = this.session?.state.state;
    return state === 'starting' || state === 'running' || state === 'paused' || state === 'stopping';
  }

  log(line: string): void {
    this.output.appendLine(line);
  }

  /** Starts the trainer bundle; resolves once it is running (or failed to start). */
  start(request: StartRequest): TrainingSession {
    if (this.active) throw new Error('a training run is already active: stop it first');
    const storage = this.context.globalStorageUri.fsPath;
    mkdirSync(storage, { recursive: true });
    const args = ['--cache-dir', path.join(storage, 'cache')];
    if (request.resumeDir) {
      args.push('--resume', request.resumeDir);
    } else {
      const configFile = path.join(storage, `config-${Date.now()}.json`);
      writeFileSync(configFile, JSON.stringify(request.config ?? {}, null, 2));
      args.push('--config', configFile, '--out', request.runDir as string);
    }
    const session = new TrainingSession({
      trainerPath: this.context.asAbsolutePath(path.join('dist', 'trainer.js')),
      args,
      runDir: path.resolve(request.resumeDir ?? (request.runDir as string)),
      log: (line) => this.output.appendLine(line),
    });
    this.session = session;
    this.output.appendLine(`starting the trainer: ${args.join(' ')}`);
    session.onEvent((event) => this.eventEmitter.fire(event));
    session.onState((snapshot) => this.onSessionState(session, snapshot));
    session.start();
    this.showStartProgress(session);
    this.onSessionState(session, session.state);
    return session;
  }

  private showStartProgress(session: TrainingSession): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Durian: starting training', cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          token.onCancellationRequested(() => {
            session.stop();
            resolve();
          });
          const offEvent = session.onEvent((event) => {
            if (event.type === 'trainer/hello') progress.report({ message: `${event.backend} (${event.device}); preparing the base policy and encoder...` });
            if (event.type === 'trainer/log' && /warm-up/.test(event.message)) progress.report({ message: event.message });
            if (event.type === 'trainer/step' || event.type === 'trainer/done') finish();
          });
          const offState = session.onState((snapshot) => {
            if (snapshot.state === 'crashed' || snapshot.state === 'stopped' || snapshot.state === 'completed') finish();
          });
          function finish() {
            offEvent();
            offState();
            resolve();
          }
        }),
    );
  }

  private onSessionState(session: TrainingSession, snapshot: SessionSnapshot): void {
    if (session !== this.session) return;
    this.updateStatusBar(snapshot);
    void this.setContext();
    this.stateEmitter.fire(snapshot);
    if ((snapshot.state === 'crashed' || snapshot.state === 'completed') && !this.reported.has(session)) {
      this.reported.add(session);
      if (snapshot.state === 'crashed') this.reportCrash(snapshot, session);
      else this.reportCompletion(snapshot);
    }
    if (snapshot.state !== 'running' || snapshot.step === 0) this.onRunsChanged();
  }

  private reportCrash(snapshot: SessionSnapshot, session: TrainingSession): void {
    const exit = snapshot.signal ? `signal ${snapshot.signal}` : `exit code ${snapshot.exitCode ?? '?'}`;
    this.output.appendLine(`the trainer stopped unexpectedly (${exit}): ${snapshot.lastError ?? 'no error message'}`);
    if (session.logTail) this.output.appendLine(`last trainer output:\n${session.logTail}`);
    const runDir = snapshot.runDir;
    const resumable = runDir !== undefined && readRunDetails(runDir).hasCheckpoint;
    const actions = resumable ? ['Resume Run', 'Show Log'] : ['Show Log'];
    const error = (snapshot.lastError ?? 'see the log').replace(/\.$/, '');
    void vscode.window
      .showErrorMessage(`Durian: the trainer crashed (${exit}) at step ${snapshot.step}: ${error}. ${this.crashAdvice(snapshot)}`, ...actions)
      .then((choice) => {
        if (choice === 'Show Log') this.output.show();
        if (choice === 'Resume Run' && runDir) void vscode.commands.executeCommand('durian.resumeRun', runDir);
      });
  }

  /** What to do after the crash of this session's run (for the notification and the Dashboard). */
  crashAdvice(snapshot: SessionSnapshot): string {
    const runDir = snapshot.runDir;
    const runFolderExists = runDir !== undefined && existsSync(path.join(runDir, 'config.json'));
    return crashAdvice({ runFolderExists, hasCheckpoint: runFolderExists && readRunDetails(runDir).hasCheckpoint, step: snapshot.step });
  }

  private reportCompletion(snapshot: SessionSnapshot): void {
    const runDir = snapshot.runDir;
    if (!runDir) return;
    const message = completionMessage(path.basename(runDir), snapshot.step, readRunDetails(runDir));
    this.output.appendLine(message);
    void vscode.window.showInformationMessage(message, 'Open Dashboard', 'Open Rollout Groups').then((choice) => {
      if (choice === 'Open Dashboard') void vscode.commands.executeCommand('durian.openDashboard', runDir);
      if (choice === 'Open Rollout Groups') void vscode.commands.executeCommand('durian.openRolloutGroups', runDir);
    });
  }

  private updateStatusBar(snapshot: SessionSnapshot): void {
    const { state, step, totalSteps, metrics, backend } = snapshot;
    if (state === 'stopped' || state === 'completed' || state === 'crashed') {
      this.statusBar.text = `$(${state === 'crashed' ? 'error' : 'check'}) Durian ${state} at step ${step}`;
      this.statusBar.tooltip = snapshot.lastError ?? 'Open the dashboard';
      this.statusBar.show();
      return;
    }
    const icon = state === 'paused' ? '$(debug-pause)' : '$(sync~spin)';
    const reward = metrics['reward/mean'];
    const accuracy = metrics['accuracy/mean'];
    const progress = `step ${step}/${totalSteps ?? '?'}`;
    const parts = [`${icon} Durian ${state === 'starting' ? 'starting' : state === 'paused' ? `paused · ${progress}` : progress}`];
    if (reward !== undefined) parts.push(`reward ${reward.toFixed(3)}`);
    if (accuracy !== undefined) parts.push(`acc ${accuracy.toFixed(3)}`);
    if (backend) parts.push(backend);
    this.statusBar.text = parts.join(' · ');
    this.statusBar.tooltip = `${state}${snapshot.validationAccuracy !== undefined ? ` · validation accuracy ${snapshot.validationAccuracy.toFixed(3)}` : ''} · click to open the dashboard`;
    this.statusBar.show();
  }

  private async setContext(): Promise<void> {
    const state = this.session?.state.state;
    await vscode.commands.executeCommand('setContext', 'durian.trainingActive', this.active);
    await vscode.commands.executeCommand('setContext', 'durian.trainingPaused', state === 'paused');
    await vscode.commands.executeCommand('setContext', 'durian.trainingRunning', state === 'running');
  }

  /** Each returns why the control was not sent (no run, the trainer is not running), or undefined when it was. */
  pause(): string | undefined {
    return this.session ? this.session.pause() : NO_RUN;
  }

  resume(): string | undefined {
    return this.session ? this.session.resume() : NO_RUN;
  }

  stop(): string | undefined {
    return this.session ? this.session.stop() : NO_RUN;
  }

  /** Sends a control to the running trainer; returns why it was not sent (invalid, or no run). */
  send(control: Control): string | undefined {
    return this.session ? this.session.send(control) : NO_RUN;
  }

  /** Stops the trainer cleanly (used when the window closes or the extension deactivates). */
  async shutdown(): Promise<void> {
    await this.session?.dispose();
  }

  dispose(): void {
    void this.shutdown();
    this.statusBar.dispose();
    this.eventEmitter.dispose();
    this.stateEmitter.dispose();
  }
}
