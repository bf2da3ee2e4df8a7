/**
 * One training run driven from VS Code (the `trainedHere` RunConnection): forks the trainer bundle (Node
 * IPC), validates every event it sends, relays them, sends validated controls, and survives the trainer's
 * death — the exit code, the last error and the log tail are kept for the user, the run directory stays
 * intact and can be resumed. Disposing (window closed, VS Code quitting) asks the trainer to stop cleanly,
 * then escalates.
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as vscode from 'vscode';
import {
  type Control,
  EVENT,
  type TrainerEvent,
  isSupportedProtocolVersion,
  parseControl,
  parseEvent,
} from '../protocol/index.js';
import { type ControlOutcome, type RunConnection, type SessionSnapshot, type SessionState, isLiveState, newControlId } from './runConnection.js';

export type { SessionSnapshot, SessionState } from './runConnection.js';

export interface SessionOptions {
  trainerPath: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** The run directory the trainer is asked to create or resume: known before its hello (a crash may come first). */
  runDir?: string;
  /** Called with each line the trainer writes to stderr and each log event. */
  log: (line: string) => void;
}

export class TrainingSession implements RunConnection {
  readonly origin = 'trainedHere' as const;
  private readonly events = new vscode.EventEmitter<TrainerEvent>();
  private readonly states = new vscode.EventEmitter<SessionSnapshot>();
  private readonly outcomes = new vscode.EventEmitter<ControlOutcome>();
  readonly onEvent = this.events.event;
  readonly onState = this.states.event;
  /** Acknowledgements come as `trainer/applied` / `trainer/error` events over IPC: none through here. */
  readonly onOutcome = this.outcomes.event;
  private child: ChildProcess | null = null;
  private readonly snapshot: SessionSnapshot = { state: 'starting', step: 0, metrics: {} };
  private readonly stderrTail: string[] = [];
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: SessionOptions) {
    if (options.runDir !== undefined) this.snapshot.runDir = options.runDir;
  }

  get state(): SessionSnapshot {
    return { ...this.snapshot, metrics: { ...this.snapshot.metrics } };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines the trainer wrote to stderr (for crash reports). */
  get logTail(): string {
    return this.stderrTail.join('');
  }

  get steerable(): boolean {
    return isLiveState(this.snapshot.state) && this.child?.connected === true;
  }

  start(): void {
    const child = fork(this.options.trainerPath, this.options.args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...this.options.env, ELECTRON_RUN_AS_NODE: '1' },
      execArgv: [],
    });
    this.child = child;
    this.snapshot.pid = child.pid;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.on('data', (chunk: Buffer) => this.options.log(chunk.toString('utf8').trimEnd()));
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.stderrTail.push(text);
      while (this.stderrTail.length > 40) this.stderrTail.shift();
      this.options.log(text.trimEnd());
    });
    child.on('message', (message) => this.receive(message));
    child.on('error', (error) => {
      this.snapshot.lastError = `could not start the trainer: ${error.message}`;
      this.setState('crashed');
    });
    child.on('exit', (code, signal) => {
      this.snapshot.exitCode = code;
      this.snapshot.signal = signal;
      const clean = this.snapshot.state === 'completed' || this.snapshot.state === 'stopped';
      if (!clean) {
        this.snapshot.lastError ??= `the trainer exited ${signal ? `on signal ${signal}` : `with code ${code}`} before finishing`;
        this.setState('crashed');
      } else {
        this.setState(this.snapshot.state);
      }
    });
  }

  private receive(message: unknown): void {
    const parsed = parseEvent(message);
    if (!parsed.ok) {
      this.options.log(`ignored an invalid trainer event: ${parsed.error}`);
      return;
    }
    const event = parsed.value;
    switch (event.type) {
      case EVENT.hello:
        if (!isSupportedProtocolVersion(event.protocolVersion)) {
          this.snapshot.lastError = `the trainer speaks protocol ${event.protocolVersion}, which this extension does not support`;
          this.stop();
        }
        Object.assign(this.snapshot, {
          runDir: event.runDir,
          runId: event.runId,
          backend: event.backend,
          device: event.device,
          estimator: String(event.config.estimator),
          totalSteps: Number(event.config.steps),
          step: event.resumedFromStep ?? 0,
        });
        this.setState('running');
        break;
      case EVENT.step:
        this.snapshot.step = event.step;
        this.snapshot.totalSteps = event.totalSteps;
        this.snapshot.metrics = event.metrics;
        if (this.snapshot.state === 'starting') this.setState('running');
        else this.states.fire(this.state);
        break;
      case EVENT.validation:
        this.snapshot.validationAccuracy = event.accuracy;
        break;
      case EVENT.paused:
        this.setState('paused');
        break;
      case EVENT.resumed:
        this.setState('running');
        break;
      case EVENT.applied:
        if (event.kind === 'setConfig') this.states.fire(this.state);
        break;
      case EVENT.error:
        if (event.fatal) this.snapshot.lastError = event.message;
        this.options.log(`${event.fatal ? 'error' : 'warning'}: ${event.message}`);
        break;
      case EVENT.log:
        this.options.log(`[${event.level}] ${event.message}`);
        break;
      case EVENT.done:
        this.snapshot.step = event.step;
        this.setState(event.reason === 'completed' ? 'completed' : 'stopped');
        break;
      default:
        break;
    }
    this.events.fire(event);
  }

  private setState(state: SessionState): void {
    this.snapshot.state = state;
    this.states.fire(this.state);
  }

  /** Sends a control after validating it; returns the validation error instead of sending a bad one. */
  send(control: Control): string | undefined {
    const parsed = parseControl(control);
    if (!parsed.ok) return parsed.error;
    if (!this.child?.connected) return 'the trainer is not running';
    this.child.send(parsed.value);
    return undefined;
  }

  pause(): string | undefined {
    return this.send({ type: 'control/pause', controlId: newControlId('pause') });
  }

  resume(): string | undefined {
    return this.send({ type: 'control/resume', controlId: newControlId('resume') });
  }

  /** Asks for a clean stop: the trainer finishes its step, checkpoints and exits 0. */
  stop(): string | undefined {
    if (this.snapshot.state === 'running' || this.snapshot.state === 'paused' || this.snapshot.state === 'starting') this.setState('stopping');
    return this.send({ type: 'control/stop', controlId: newControlId('stop') });
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stop cleanly, then SIGTERM after `graceMs`, then SIGKILL. Resolves when the process is gone. */
  async dispose(graceMs = 10_000): Promise<void> {
    await this.end(graceMs);
    this.events.dispose();
    this.states.dispose();
    this.outcomes.dispose();
  }

  private async end(graceMs: number): Promise<void> {
    if (!this.alive) return;
    this.stop();
    const timeout = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
    if ((await Promise.race([this.exited.then(() => 'exited' as const), timeout(graceMs)])) === 'exited') return;
    this.child?.kill('SIGTERM');
    if ((await Promise.race([this.exited.then(() => 'exited' as const), timeout(3000)])) === 'exited') return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }
}
