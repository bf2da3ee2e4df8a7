/**
 * The layout of a run directory: the names and format version are the protocol's (src/protocol/runFolderLayout.ts,
 * schemas/README.md); this module adds the writer's checks on steps.
 */
import { MAX_STEP, rolloutsFile as protocolRolloutsFile, stepName as protocolStepName } from '../../protocol/index.js';
import { RunDirectoryError } from './errors.js';

// The names and format version, as the protocol declares them; stepName and rolloutsFile below add the checks.
export * from '../../protocol/runFolderLayout.js';

/** Throws unless `step` is a whole number in [0, MAX_STEP]. */
export function checkStep(step: unknown, what = 'step'): number {
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > MAX_STEP) {
    throw new RunDirectoryError(String(step), 'INVALID_INPUT', `${what} must be a whole number in [0, ${MAX_STEP}], got ${String(step)}`);
  }
  return step;
}

/** `step-000010` for a checked step. */
export function stepName(step: number): string {
  return protocolStepName(checkStep(step));
}

/** `rollouts/step-000010.jsonl` for a checked step. */
export function rolloutsFile(step: number): string {
  return protocolRolloutsFile(checkStep(step));
}
