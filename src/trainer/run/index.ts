/** The run directory: the trainer's durable record of a run (layout in ./layout.ts). */
export { RunDirectory, type RunDirectoryOptions, type MetricsRecord, type InterventionRecord, type RefusalRecord, type ValidationRecord, type RepairReport, type TruncateReport, type ResumePlan, type ResumeOptions } from './runDirectory.js';
export { RunDirectoryError, type RunDirectoryProblem, isUserRunProblem } from './errors.js';
export { type RunLock, acquireRunLock, runLockHolder, lockAddress } from './lock.js';
export { RUN_STATES, type RunState, type RunStatus, effectiveState, isProcessAlive } from './status.js';
export { type CheckpointInfo, type CheckpointPart, type LoadedCheckpoint, type CheckpointManifest } from './checkpoints.js';
export { checkName, resolveInside } from './paths.js';
export * from './layout.js';
export { type InboxPosition, checkInboxPosition } from './inbox.js';
