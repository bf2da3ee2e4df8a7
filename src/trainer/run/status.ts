/**
 * `status.json`: what a run is doing now, rewritten atomically by the trainer at every change of state
 * and after a step when the last write is over a second old, so the Runs view and scripts can poll it. A trainer that dies without writing
 * `crashed` is detected by its pid: a `running`/`paused` status whose process is gone reads as `crashed`.
 * The record itself is the protocol's (src/protocol/runFolderRecords.ts).
 */
import { isProcessAlive } from '../../node/process.js';
import { type RunState, type RunStatus, effectiveRunState, parseRunStatus } from '../../protocol/index.js';

export { RUN_STATES, type RunState, type RunStatus } from '../../protocol/index.js';
export { isProcessAlive } from '../../node/process.js';

/** The status as read, or null when it is not a well-formed status (the protocol's check). */
export const asRunStatus = parseRunStatus;

/** `running`/`paused` whose trainer process is gone reads as `crashed` (this process counts as alive). */
export function effectiveState(status: RunStatus, alive: (pid: number) => boolean = isProcessAlive): RunState {
  return effectiveRunState(status, (pid) => pid === process.pid || alive(pid));
}
