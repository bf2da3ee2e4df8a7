/**
 * What the extension knows of one run it shows live, whoever writes it: `RunConnection`, with two
 * implementations. `TrainingSession` (./trainingSession.ts) is a trainer this window started as a child
 * process (events over IPC, controls over IPC); `AttachedRun` (./attachedRun.ts) is a run folder written by
 * another process (`durian train` in a terminal, the Python data-parallel trainer, any writer of
 * schemas/README.md), followed through its files, its controls appended to the folder's inbox. The
 * controller, the status bar and the panels see only this interface, so they behave the same for both.
 */
import type * as vscode from 'vscode';
import type { Control, TrainerEvent } from '../protocol/index.js';

export type SessionState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'completed' | 'crashed';

/** A run followed live: started by this window (`trainedHere`) or a folder another process writes (`attached`). */
export type RunOrigin = 'trainedHere' | 'attached';

export interface SessionSnapshot {
  state: SessionState;
  runDir?: string;
  runId?: string;
  backend?: string;
  device?: string;
  estimator?: string;
  step: number;
  totalSteps?: number;
  metrics: Record<string, number>;
  validationAccuracy?: number;
  lastError?: string;
  exitCode?: number | null;
  signal?: string | null;
  pid?: number;
  /**
   * Something the user should know about a run that is otherwise fine or whose end is uncertain: an
   * attached run's writer that stopped its heartbeat, a folder that was deleted, a torn status.json.
   */
  notice?: string;
}

/** The writer acknowledged (`step`) or refused (`refused`) a control this window sent through the inbox. */
export interface ControlOutcome {
  controlId: string;
  kind?: string;
  step: number;
  refused?: string;
}

export interface RunConnection {
  readonly origin: RunOrigin;
  /** A copy of what is known now. */
  readonly state: SessionSnapshot;
  /** Trainer events in order (for an attached run: made from the lines its writer appends). */
  readonly onEvent: vscode.Event<TrainerEvent>;
  /** Any change of the snapshot. */
  readonly onState: vscode.Event<SessionSnapshot>;
  /** Controls sent from this window that the writer acknowledged or refused (an attached run's inbox). */
  readonly onOutcome: vscode.Event<ControlOutcome>;
  /** Controls can be sent now (a live trainer of this window; an attached writer that advertises an inbox). */
  readonly steerable: boolean;
  /** Sends a checked control; returns why it was not sent. */
  send(control: Control): string | undefined;
  pause(): string | undefined;
  resume(): string | undefined;
  /** Asks for a clean stop after the current step. */
  stop(): string | undefined;
  /** Ends this window's part: a child trainer is stopped cleanly, a followed folder is let go. */
  dispose(): Promise<void>;
}

/** States in which a run may still write steps. */
export function isLiveState(state: SessionState | undefined): boolean {
  return state === 'starting' || state === 'running' || state === 'paused' || state === 'stopping';
}

let controlCounter = 0;
/** A control id unique in this window's lifetime (and, with the time in it, across windows). */
export function newControlId(kind: string): string {
  controlCounter = (controlCounter + 1) % 1_000_000;
  return `${kind}-${Date.now().toString(36)}-${controlCounter}`;
}
