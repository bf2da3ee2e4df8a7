/**
 * The extension's training controller: at most one TrainingSession at a time, its status bar item,
 * context keys (so Stop/Pause/Resume are enabled only when they make sense), a progress notification
 * until the first step, the Output channel, and the crash report (exit code, last error, log; the run
 * stays resumable).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Control, TrainerEvent } from '../protocol/index.js';
import { type SessionSnapshot, TrainingSession } from './trainingSession.js';

export interface StartRequest {
  /** A new run: the config object and where the run goes. */
  config?: Record<string, unknown>;
  runDir?: string;
  /** Or continue this run. */
  resumeDir?: string;
}

export class TrainingController implements vscode.Disposable {
  private session: TrainingSession | null = null;
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
    if (snapshot.state === 'crashed' && !(session as { reported?: boolean }).reported) {
      (session as { reported?: boolean }).reported = true;
      this.reportCrash(snapshot, session);
    }
    if (snapshot.state !== 'running' || snapshot.step === 0) this.onRunsChanged();
  }

  private reportCrash(snapshot: SessionSnapshot, session: TrainingSession): void {
    const exit = snapshot.signal ? `signal ${snapshot.signal}` : `exit code ${snapshot.exitCode ?? '?'}`;
    this.output.appendLine(`the trainer stopped unexpectedly (${exit}): ${snapshot.lastError ?? 'no error message'}`);
    if (session.logTail) this.output.appendLine(`last trainer output:\n${session.logTail}`);
    const runDir = snapshot.runDir;
    const actions = runDir ? ['Resume Run', 'Show Log'] : ['Show Log'];
    void vscode.window
      .showErrorMessage(`Durian: the trainer crashed (${exit}) at step ${snapshot.step}: ${snapshot.lastError ?? 'see the log'}.${runDir ? ' The run folder is intact and can be resumed.' : ''}`, ...actions)
      .then((choice) => {
        if (choice === 'Show Log') this.output.show();
        if (choice === 'Resume Run' && runDir) void vscode.commands.executeCommand('durian.resumeRun', runDir);
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
    const parts = [`${icon} Durian ${state === 'starting' ? 'starting' : `step ${step}/${totalSteps ?? '?'}`}`];
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

  pause(): string | undefined {
    return this.session?.pause() ?? 'no training run is active';
  }

  resume(): string | undefined {
    return this.session?.resume() ?? 'no training run is active';
  }

  stop(): string | undefined {
    return this.session?.stop() ?? 'no training run is active';
  }

  /** Sends a control to the running trainer; returns why it was not sent (invalid, or no run). */
  send(control: Control): string | undefined {
    return this.session ? this.session.send(control) : 'no training run is active';
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
