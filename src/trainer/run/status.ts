/**
 * `status.json`: what a run is doing now, rewritten atomically by the trainer at every change of state
 * and after a step when the last write is over a second old, so the Runs view and scripts can poll it. A trainer that dies without writing
 * `crashed` is detected by its pid: a `running`/`paused` status whose process is gone reads as `crashed`.
 */

export const RUN_STATES = ['running', 'paused', 'stopped', 'completed', 'crashed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export interface RunStatus {
  state: RunState;
  /** Last finished step (0 before the first). */
  step: number;
  /** Process id of the trainer that wrote it. */
  pid: number;
  /** ISO 8601 time of the write. */
  updatedAt: string;
  /** Why it stopped or crashed, when known. */
  message?: string;
  /** Present while the trainer reads controls appended to this file of the run (schemas/README.md "Control inbox"). */
  inbox?: 'inbox.jsonl';
}

/** Whether a process with this id exists (on this machine). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The status as read, or null when it is not a well-formed status. */
export function asRunStatus(value: unknown): RunStatus | null {
  if (value === null || typeof value !== 'object') return null;
  const status = value as Partial<RunStatus>;
  if (!RUN_STATES.includes(status.state as RunState)) return null;
  if (typeof status.step !== 'number' || typeof status.pid !== 'number' || typeof status.updatedAt !== 'string') return null;
  return {
    state: status.state as RunState,
    step: status.step,
    pid: status.pid,
    updatedAt: status.updatedAt,
    ...(typeof status.message === 'string' ? { message: status.message } : {}),
    ...(status.inbox === 'inbox.jsonl' ? { inbox: status.inbox } : {}),
  };
}

/** `running`/`paused` whose trainer process is gone reads as `crashed`. */
export function effectiveState(status: RunStatus, alive: (pid: number) => boolean = isProcessAlive): RunState {
  if ((status.state === 'running' || status.state === 'paused') && status.pid !== process.pid && !alive(status.pid)) return 'crashed';
  return status.state;
}
