/**
 * The extension's training controller: at most one RunConnection at a time — a trainer this window started
 * (TrainingSession) or a run folder another process writes (AttachedRun) — its status bar item, context keys
 * (so Stop/Pause/Resume are enabled only when they make sense), a progress notification until the first
 * step, the Output channel, the crash report (exit code, last error, what to do), the notification of a
 * completed run (validation accuracy before -> after, its Dashboard and Rollout Groups) and, for an attached
 * run, the writer's acknowledgement or refusal of each control this window sent, with its step.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { type Control, METRIC, type TrainerEvent } from '../protocol/index.js';
import { AttachedRun } from './attachedRun.js';
import { readRunDetails } from './runFiles.js';
import { completionMessage, crashAdvice } from './runReports.js';
import { type ControlOutcome, type RunConnection, type SessionSnapshot, isLiveState } from './runConnection.js';
import { TrainingSession } from './trainingSession.js';

const NO_RUN = 'no training run is active';

export interface StartRequest {
  /** A new run: the config object and where the run goes. */
  config?: Record<string, unknown>;
  runDir?: string;
  /** Or continue this run. */
  resumeDir?: string;
  /** More trainer flags of a new run (e.g. --dataset FILE --split-column split). */
  trainerArgs?: string[];
}

export class TrainingController implements vscode.Disposable {
  private connection: RunConnection | null = null;
  /** The current connection's subscriptions. */
  private connectionListeners: vscode.Disposable[] = [];
  /** Connections whose end (crash or completion) was already reported. */
  private readonly reported = new WeakSet<RunConnection>();
  /** The last notice shown of each connection (an attached run's writer gone quiet, its folder gone). */
  private readonly noticed = new WeakMap<RunConnection, string>();
  private readonly statusBar: vscode.StatusBarItem;
  private readonly eventEmitter = new vscode.EventEmitter<TrainerEvent>();
  private readonly stateEmitter = new vscode.EventEmitter<SessionSnapshot>();
  private readonly runsEmitter = new vscode.EventEmitter<void>();
  readonly onEvent = this.eventEmitter.event;
  readonly onState = this.stateEmitter.event;
  /** The shown run started, ended or changed state in a way the Runs view shows. */
  readonly onRunsChanged = this.runsEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
  ) {
    this.statusBar = vscode.window.createStatusBarItem('durian.status', vscode.StatusBarAlignment.Left, 50);
    this.statusBar.name = 'Durian RL training';
    this.statusBar.command = 'durian.openDashboard';
    void this.setContext();
  }

  get snapshot(): SessionSnapshot | undefined {
    return this.connection?.state;
  }

  get runDir(): string | undefined {
    return this.connection?.state.runDir;
  }

  /** The run shown live is still going (trained here, or an attached run whose writer is at work). */
  get active(): boolean {
    return isLiveState(this.connection?.state.state);
  }

  /** This window's own trainer is at work (a new run or a resume must wait for it). */
  get training(): boolean {
    return this.connection?.origin === 'trainedHere' && this.active;
  }

  /** The shown run is followed from its folder (another process writes it). */
  get attached(): boolean {
    return this.connection?.origin === 'attached';
  }

  /** Controls reach the run now (the Rollout Groups panel's edits, Pause/Resume/Stop). */
  get steerable(): boolean {
    return this.connection?.steerable ?? false;
  }

  log(line: string): void {
    this.output.appendLine(line);
  }

  /** Starts the trainer bundle; an attached run is let go first. */
  start(request: StartRequest): TrainingSession {
    if (this.training) throw new Error('a training run is already active: stop it first');
    const storage = this.context.globalStorageUri.fsPath;
    mkdirSync(storage, { recursive: true });
    const args = ['--cache-dir', path.join(storage, 'cache')];
    if (request.resumeDir) {
      args.push('--resume', request.resumeDir);
    } else {
      const configFile = path.join(storage, `config-${Date.now()}.json`);
      writeFileSync(configFile, JSON.stringify(request.config ?? {}, null, 2));
      args.push('--config', configFile, '--out', request.runDir as string, ...(request.trainerArgs ?? []));
    }
    const session = new TrainingSession({
      trainerPath: this.context.asAbsolutePath(path.join('dist', 'trainer.js')),
      args,
      runDir: path.resolve(request.resumeDir ?? (request.runDir as string)),
      log: (line) => this.output.appendLine(line),
    });
    this.output.appendLine(`starting the trainer: ${args.join(' ')}`);
    this.connect(session);
    session.start();
    this.showStartProgress(session);
    this.onConnectionState(session, session.state);
    return session;
  }

  /**
   * Follows the run folder `runDir`, written by another process: its charts and groups live, its controls
   * through its inbox. Refused while this window trains a run; a run attached before is let go.
   */
  attach(runDir: string): AttachedRun {
    if (this.training) throw new Error('this window is training a run: stop it first, or open the other run\'s Dashboard without attaching');
    const run = new AttachedRun(path.resolve(runDir), (line) => this.output.appendLine(line));
    this.output.appendLine(`attached to ${run.runDir}`);
    this.connect(run);
    run.start();
    this.onConnectionState(run, run.state);
    return run;
  }

  /** Stops following an attached run (its writer goes on). */
  detach(): string | undefined {
    if (!this.attached || !this.connection) return 'no run is attached';
    const run = this.connection;
    this.output.appendLine(`detached from ${run.state.runDir ?? '?'}`);
    this.disconnect();
    void run.dispose();
    this.statusBar.hide();
    void this.setContext();
    this.runsEmitter.fire();
    return undefined;
  }

  /** Makes `connection` the one shown: an attached run before it is let go, a finished session forgotten. */
  private connect(connection: RunConnection): void {
    const previous = this.connection;
    this.disconnect();
    if (previous?.origin === 'attached') void previous.dispose();
    this.connection = connection;
    this.connectionListeners = [
      connection.onEvent((event) => this.eventEmitter.fire(event)),
      connection.onState((snapshot) => this.onConnectionState(connection, snapshot)),
      connection.onOutcome((outcome) => this.reportOutcome(outcome)),
    ];
  }

  private disconnect(): void {
    for (const listener of this.connectionListeners.splice(0)) listener.dispose();
    this.connection = null;
  }

  private showStartProgress(session: TrainingSession): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Durian: starting training', cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          const listeners: vscode.Disposable[] = [];
          const finish = () => {
            for (const listener of listeners.splice(0)) listener.dispose();
            resolve();
          };
          listeners.push(
            token.onCancellationRequested(() => {
              session.stop();
              finish();
            }),
            session.onEvent((event) => {
              if (event.type === 'trainer/hello') progress.report({ message: `${event.backend} (${event.device}); preparing the base policy and encoder...` });
              if (event.type === 'trainer/log' && /warm-up/.test(event.message)) progress.report({ message: event.message });
              if (event.type === 'trainer/step' || event.type === 'trainer/done') finish();
            }),
            session.onState((snapshot) => {
              if (snapshot.state === 'crashed' || snapshot.state === 'stopped' || snapshot.state === 'completed') finish();
            }),
          );
        }),
    );
  }

  private onConnectionState(connection: RunConnection, snapshot: SessionSnapshot): void {
    if (connection !== this.connection) return;
    this.updateStatusBar(snapshot);
    void this.setContext();
    this.stateEmitter.fire(snapshot);
    if ((snapshot.state === 'crashed' || snapshot.state === 'completed') && !this.reported.has(connection)) {
      this.reported.add(connection);
      if (snapshot.state === 'crashed') this.reportCrash(snapshot, connection);
      else this.reportCompletion(snapshot);
    }
    if (connection.origin === 'attached' && snapshot.notice && this.noticed.get(connection) !== snapshot.notice) {
      this.noticed.set(connection, snapshot.notice);
      this.output.appendLine(`attached ${path.basename(snapshot.runDir ?? '')}: ${snapshot.notice}`);
      void vscode.window.showWarningMessage(`Durian: ${path.basename(snapshot.runDir ?? '')}: ${snapshot.notice}.`);
    }
    if (snapshot.state !== 'running' || snapshot.step === 0) this.runsEmitter.fire();
  }

  /** An attached run's writer acknowledged or refused a control this window appended to its inbox. */
  private reportOutcome(outcome: ControlOutcome): void {
    const what = outcome.kind ?? 'control';
    if (outcome.refused !== undefined) {
      this.output.appendLine(`the writer refused ${what} ${outcome.controlId} at step ${outcome.step}: ${outcome.refused}`);
      void vscode.window.showWarningMessage(`Durian: the run's writer refused the ${what} at step ${outcome.step}: ${outcome.refused}`);
      return;
    }
    this.output.appendLine(`the writer applied ${what} ${outcome.controlId} from step ${outcome.step}`);
    vscode.window.setStatusBarMessage(`Durian: ${what} applied from step ${outcome.step}`, 10_000);
  }

  private reportCrash(snapshot: SessionSnapshot, connection: RunConnection): void {
    const runDir = snapshot.runDir;
    if (connection.origin === 'attached') {
      const error = (snapshot.lastError ?? 'its writer stopped').replace(/\.$/, '');
      this.output.appendLine(`attached ${runDir ?? '?'} crashed at step ${snapshot.step}: ${error}`);
      void vscode.window.showErrorMessage(`Durian: the attached run ${path.basename(runDir ?? '')} crashed at step ${snapshot.step}: ${error}.`);
      return;
    }
    const exit = snapshot.signal ? `signal ${snapshot.signal}` : `exit code ${snapshot.exitCode ?? '?'}`;
    this.output.appendLine(`the trainer stopped unexpectedly (${exit}): ${snapshot.lastError ?? 'no error message'}`);
    if (connection instanceof TrainingSession && connection.logTail) this.output.appendLine(`last trainer output:\n${connection.logTail}`);
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

  /** What to do after the crash of this session's run (for the notification and the Dashboard); none for an attached run's writer. */
  crashAdvice(snapshot: SessionSnapshot): string | undefined {
    if (this.attached) return undefined;
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
    const reward = metrics[METRIC.rewardMean];
    const accuracy = metrics[METRIC.accuracyMean];
    const progress = `step ${step}/${totalSteps ?? '?'}`;
    const parts = [`${icon} Durian ${state === 'starting' ? 'starting' : state === 'paused' ? `paused · ${progress}` : progress}`];
    if (reward !== undefined) parts.push(`reward ${reward.toFixed(3)}`);
    if (accuracy !== undefined) parts.push(`acc ${accuracy.toFixed(3)}`);
    if (backend) parts.push(backend);
    if (this.attached) parts.push(this.steerable ? 'attached' : 'attached, read-only');
    this.statusBar.text = parts.join(' · ');
    this.statusBar.tooltip = `${state}${snapshot.validationAccuracy !== undefined ? ` · validation accuracy ${snapshot.validationAccuracy.toFixed(3)}` : ''} · click to open the dashboard`;
    this.statusBar.show();
  }

  private async setContext(): Promise<void> {
    const state = this.connection?.state.state;
    const steerable = this.steerable;
    await vscode.commands.executeCommand('setContext', 'durian.trainingActive', this.training);
    await vscode.commands.executeCommand('setContext', 'durian.runSteerable', steerable && this.active);
    await vscode.commands.executeCommand('setContext', 'durian.trainingPaused', steerable && state === 'paused');
    await vscode.commands.executeCommand('setContext', 'durian.trainingRunning', steerable && state === 'running');
    await vscode.commands.executeCommand('setContext', 'durian.attached', this.attached);
  }

  /** Each returns why the control was not sent (no run, the trainer is not running), or undefined when it was. */
  pause(): string | undefined {
    return this.connection ? this.connection.pause() : NO_RUN;
  }

  resume(): string | undefined {
    return this.connection ? this.connection.resume() : NO_RUN;
  }

  stop(): string | undefined {
    return this.connection ? this.connection.stop() : NO_RUN;
  }

  /** Sends a control to the run (over IPC, or appended to an attached run's inbox); returns why it was not sent. */
  send(control: Control): string | undefined {
    return this.connection ? this.connection.send(control) : NO_RUN;
  }

  /** Stops this window's trainer cleanly, or stops following an attached run (the window closes, the extension deactivates). */
  async shutdown(): Promise<void> {
    await this.connection?.dispose();
  }

  dispose(): void {
    void this.shutdown();
    this.disconnect();
    this.statusBar.dispose();
    this.eventEmitter.dispose();
    this.stateEmitter.dispose();
    this.runsEmitter.dispose();
  }
}
