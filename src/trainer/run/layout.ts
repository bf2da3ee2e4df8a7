/**
 * The layout of a run directory, readable without the extension (jq, pandas):
 *
 * ```
 * <runs folder>/<run name>/
 *   config.json            the trainer config (pretty JSON)
 *   status.json            {state, step, pid, updatedAt, message?}, rewritten atomically
 *   metrics.jsonl          one line per step: {"step": 1, "elapsedMs": ..., "actor/pg_loss": ..., ...}
 *   validation.jsonl       one line per validation: {"step", "accuracy", "reward", "perLevel"?}
 *   interventions.jsonl    one line per handled control: applied {"step", "at", "kind", "controlId", "control"}
 *                          or, for an inbox line, refused {"step", "at", "refused", "controlId"?, "kind"?, "inboxLine"?}
 *   inbox.jsonl            controls appended by readers (one per line), read at step boundaries (./inbox.ts)
 *   rollouts/step-000010.jsonl   one RolloutGroup (src/protocol) per line, for the steps kept (every
 *                          config.rolloutsEvery-th, the last, any intervened on: ./retention.ts)
 *   images/                PNGs written by the task suite, referenced by RolloutGroup.image (those of kept steps)
 *   checkpoints/step-000010/     manifest.json + the parts; `checkpoints/latest` names the newest
 *   trainer.log            plain text, one line per log message
 * ```
 * Names starting with `.tmp-` are unfinished writes; resuming a run removes them. A run folder holds no
 * symbolic links (the trainer refuses one that does).
 */
import { RunDirectoryError } from './errors.js';

export const CONFIG_FILE = 'config.json';
export const STATUS_FILE = 'status.json';
export const METRICS_FILE = 'metrics.jsonl';
export const VALIDATION_FILE = 'validation.jsonl';
export const INTERVENTIONS_FILE = 'interventions.jsonl';
/** Controls appended by readers (never written by the trainer); advertised in status.json as `inbox`. */
export const INBOX_FILE = 'inbox.jsonl';
export const LOG_FILE = 'trainer.log';
export const ROLLOUTS_DIR = 'rollouts';
export const IMAGES_DIR = 'images';
export const CHECKPOINTS_DIR = 'checkpoints';
export const LATEST_POINTER = 'latest';
export const CHECKPOINT_MANIFEST = 'manifest.json';
/** Prefix of unfinished writes (temp files and checkpoint folders being written). */
export const TMP_PREFIX = '.tmp-';

/** JSONL files holding one record per step (with a numeric `step` field). */
export const STEP_LOGS = [METRICS_FILE, VALIDATION_FILE, INTERVENTIONS_FILE] as const;

export const MAX_STEP = 1e9;

/** Throws unless `step` is a whole number in [0, MAX_STEP]. */
export function checkStep(step: unknown, what = 'step'): number {
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > MAX_STEP) {
    throw new RunDirectoryError(String(step), 'INVALID_INPUT', `${what} must be a whole number in [0, ${MAX_STEP}], got ${String(step)}`);
  }
  return step;
}

/** `step-000010`: zero-padded so names sort by step in a file browser. */
export function stepName(step: number): string {
  return `step-${String(checkStep(step)).padStart(6, '0')}`;
}

/** The step of a `step-000010` name (optionally with an extension), or undefined for any other name. */
export function stepOfName(name: string, extension = ''): number | undefined {
  if (!name.endsWith(extension)) return undefined;
  const match = /^step-(\d{6,10})$/.exec(name.slice(0, name.length - extension.length));
  if (!match) return undefined;
  const step = Number(match[1]);
  return step <= MAX_STEP ? step : undefined;
}

export function rolloutsFile(step: number): string {
  return `${ROLLOUTS_DIR}/${stepName(step)}.jsonl`;
}
