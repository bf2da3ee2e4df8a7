/**
 * The `attached` RunConnection: a run folder another process writes (`durian train` in a terminal, the
 * Python data-parallel trainer, any writer of schemas/README.md), followed with a FileSystemWatcher on the
 * folder. Each burst of file events is one `RunFollower.read()` (./runFollower.ts) of what was appended;
 * controls go to the folder's inbox, and their acknowledgements come back from interventions.jsonl as
 * `trainer/applied` / `trainer/error` events and `onOutcome`.
 *
 * One timer runs besides the watcher, every LIVENESS_MS: a writer that dies writes nothing, so only reading
 * status.json (one small file) tells that its pid is gone or its heartbeat stopped. It is also the fallback
 * where file events do not arrive (a network file system written from another host reports no changes to
 * this one's watcher): when status.json changed twice in a row with no file event in between, the timer
 * reads the whole update itself from then on, at that low rate, and says so once in the output.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { Control, TrainerEvent } from '../protocol/index.js';
import { type ControlOutcome, type RunConnection, type SessionSnapshot, newControlId } from './runConnection.js';
import { RunFollower } from './runFollower.js';

/** How often status.json is read to see a writer that died (and the fallback's rate). */
const LIVENESS_MS = 3000;
/** File events closer than this are one read. */
const SETTLE_MS = 100;

export class AttachedRun implements RunConnection {
  readonly origin = 'attached' as const;
  private readonly events = new vscode.EventEmitter<TrainerEvent>();
  private readonly states = new vscode.EventEmitter<SessionSnapshot>();
  private readonly outcomes = new vscode.EventEmitter<ControlOutcome>();
  readonly onEvent = this.events.event;
  readonly onState = this.states.event;
  readonly onOutcome = this.outcomes.event;
  private readonly follower: RunFollower;
  private readonly disposables: vscode.Disposable[] = [];
  private settle: NodeJS.Timeout | undefined;
  private liveness: NodeJS.Timeout | undefined;
  /** A file event arrived since the last liveness tick. */
  private heardFromWatcher = false;
  /** Liveness ticks in a row that found status.json changed with no file event. */
  private missedChanges = 0;
  private watcherMissing = false;
  private disposed = false;

  constructor(
    readonly runDir: string,
    private readonly log: (line: string) => void,
  ) {
    this.follower = new RunFollower(runDir, {
      event: (event) => this.events.fire(event),
      outcome: (outcome) => this.outcomes.fire(outcome),
      state: (snapshot) => this.states.fire(snapshot),
      log: (line) => this.log(`attached ${path.basename(runDir)}: ${line}`),
    });
  }

  get state(): SessionSnapshot {
    return this.follower.state;
  }

  get steerable(): boolean {
    return this.follower.steerable;
  }

  /** Reads where the run is, says hello, and follows it from then on. */
  start(): void {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.runDir), '**/*.{json,jsonl}'));
    const changed = () => {
      this.heardFromWatcher = true;
      this.scheduleRead();
    };
    this.disposables.push(watcher, watcher.onDidChange(changed), watcher.onDidCreate(changed), watcher.onDidDelete(changed));
    this.follower.start();
    this.liveness = setInterval(() => this.tick(), LIVENESS_MS);
  }

  private scheduleRead(): void {
    if (this.settle || this.disposed) return;
    this.settle = setTimeout(() => {
      this.settle = undefined;
      this.follower.read();
    }, SETTLE_MS);
  }

  private tick(): void {
    if (this.disposed) return;
    if (this.watcherMissing) {
      this.follower.read();
      return;
    }
    const statusChanged = this.follower.checkStatus();
    if (statusChanged && !this.heardFromWatcher) this.missedChanges++;
    else if (this.heardFromWatcher) this.missedChanges = 0;
    this.heardFromWatcher = false;
    if (statusChanged) this.follower.read();
    if (this.missedChanges >= 2) {
      this.watcherMissing = true;
      this.log(`attached ${path.basename(this.runDir)}: no file events arrive for ${this.runDir} (a network file system?): reading it every ${LIVENESS_MS / 1000} s instead`);
    }
  }

  send(control: Control): string | undefined {
    return this.follower.append(control);
  }

  pause(): string | undefined {
    return this.send({ type: 'control/pause', controlId: newControlId('pause') });
  }

  resume(): string | undefined {
    return this.send({ type: 'control/resume', controlId: newControlId('resume') });
  }

  stop(): string | undefined {
    return this.send({ type: 'control/stop', controlId: newControlId('stop') });
  }

  /** Stops following (the writer goes on). */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.settle) clearTimeout(this.settle);
    if (this.liveness) clearInterval(this.liveness);
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.events.dispose();
    this.states.dispose();
    this.outcomes.dispose();
  }
}
