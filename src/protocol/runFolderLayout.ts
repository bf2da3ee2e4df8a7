/**
 * The run folder's names and format version (schemas/README.md): the one declaration of what a run folder
 * holds, shared by the trainer's writer (src/trainer/run), the extension, the CLI and the study.
 *
 * ```
 * <runs folder>/<run name>/
 *   config.json            the trainer config (pretty JSON)
 *   meta.json              {formatVersion, starts: [{at, backend, device, resumedFromStep?}], policy?}
 *   status.json            {state, step, pid, updatedAt, message?, formatVersion, backend?, inbox?}, rewritten atomically
 *   metrics.jsonl          one line per step: {"step": 1, "elapsedMs": ..., "actor/pg_loss": ...} (./metrics.ts)
 *   validation.jsonl       one line per validation: {"step", "accuracy", "reward", "perLevel"?}
 *   interventions.jsonl    one line per handled control: applied or refused
 *   inbox.jsonl            controls appended by readers (one per line), read at step boundaries
 *   rollouts/step-000010.jsonl   one RolloutGroup per line, for the steps kept
 *   images/                PNGs referenced by RolloutGroup.image
 *   checkpoints/step-000010/     manifest.json + the parts; `checkpoints/latest` names the newest
 *   trainer.log            plain text, one line per log message
 * ```
 * Names starting with `.tmp-` are unfinished writes.
 */
import { type Control } from './controls.js';
import { MAX_CONTROL_CHARS } from './limits.js';
import { parseControl } from './parse.js';

/** The run-folder format this code writes and reads (status.json `formatVersion`; absent in older folders = 1). */
export const RUN_FOLDER_FORMAT_VERSION = 1;

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
/** Facts no step changes: every start of a writer (backend, device), the policy (./runFolderRecords.ts RunMeta). */
export const META_FILE = 'meta.json';
/** Prefix of unfinished writes (temp files and checkpoint folders being written). */
export const TMP_PREFIX = '.tmp-';

/** JSONL files holding one record per step (with a numeric `step` field). */
export const STEP_LOGS = [METRICS_FILE, VALIDATION_FILE, INTERVENTIONS_FILE] as const;

/** The largest step a run folder names. */
export const MAX_STEP = 1e9;

/** `step-000010`: zero-padded so names sort by step in a file browser. The caller checks the step. */
export function stepName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/** The step of a `step-000010` name (optionally with an extension), or undefined for any other name. */
export function stepOfName(name: string, extension = ''): number | undefined {
  if (!name.endsWith(extension)) return undefined;
  const match = /^step-(\d{6,10})$/.exec(name.slice(0, name.length - extension.length));
  if (!match) return undefined;
  const step = Number(match[1]);
  return step <= MAX_STEP ? step : undefined;
}

/**
 * The name of a new run's folder: `20261202-031500-durian-s1` (UTC start time, estimator, seed), the one
 * format of `durian train` and the extension. Folders named otherwise (older runs, `--out` names) are read
 * the same: nothing reads meaning from a run's name.
 */
export function newRunName(estimator: string, seed: number, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `${stamp}-${estimator}-s${seed}`;
}

/** `rollouts/step-000010.jsonl`, relative to the run folder. */
export function rolloutsFile(step: number): string {
  return `${ROLLOUTS_DIR}/${stepName(step)}.jsonl`;
}

/**
 * One line of `inbox.jsonl` for `control` (JSON + "\n"), after checking it as the trainer will: append the
 * result to the run folder's INBOX_FILE in one write. Throws an Error naming the field when the control is
 * not valid (the trainer would refuse it) or is too long for one inbox line.
 */
export function controlInboxLine(control: Control): string {
  const checked = parseControl(control);
  if (!checked.ok) throw new Error(`not a valid control for ${INBOX_FILE}: ${checked.error}`);
  const line = JSON.stringify(checked.value);
  if (line.length > MAX_CONTROL_CHARS) throw new Error(`the control is ${line.length} characters of JSON; an ${INBOX_FILE} line holds at most ${MAX_CONTROL_CHARS}`);
  return `${line}\n`;
}
