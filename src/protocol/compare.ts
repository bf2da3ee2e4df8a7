/**
 * Host <-> webview messages of the Compare Runs panel (as ./webview.ts for the Dashboard): named constants,
 * checked on arrival by `parseCompareHostToWebview` / `parseCompareWebviewToHost` (they never throw).
 *
 * The handshake: the webview posts `webview/ready`; the host answers with one `compare/runs` (every run
 * compared, read from its run folder, columnar: one array of steps and one array per metric), and then
 * `compare/run` whenever a run's files change (a live run, or a study whose cells are still training): it
 * replaces that run, or adds it when it is new (a study's next cell). Columns travel as Float64Arrays. A click on a chart sends
 * `compare/openStep` with the run under the cursor: the host opens Rollout Groups on that run at that step.
 * Charts are exported with the `chart/export` message of ./compareExport.ts.
 */
import { MAX_LABEL_CHARS, MAX_METRICS, MAX_PATH_CHARS, MAX_TEXT_CHARS, STEP_RANGE } from './limits.js';
import { type ParseResult, parseTypedMessage } from './parse.js';
import { type Check, FORBIDDEN_KEYS, FieldError, arrayOf, bool, childPath, finite, isPlainObject, object, oneOf, text } from './schema.js';
import { DASHBOARD_RUN_STATES, type DashboardRunState, MAX_HISTORY_STEPS, MAX_HISTORY_VALIDATIONS, WEBVIEW, type ReadyMessage } from './webview.js';
import { CHART_EXPORT, type ChartExportMessage, MAX_CHART_EXPORT_CHARS, chartExportMessage } from './compareExport.js';

export const COMPARE = {
  /** Host -> webview: every run compared; replaces whatever the webview shows. */
  runs: 'compare/runs',
  /** Host -> webview: one run read again (its files changed); replaces the run with its `runDir`, or adds it. */
  run: 'compare/run',
  /** Webview -> host: open the Rollout Groups panel on `runDir` at `step` (a click on a chart). */
  openStep: 'compare/openStep',
} as const;

/** Most metric values of one run (metrics x steps): 100,000 steps of 200 metrics. */
export const MAX_COMPARE_VALUES_PER_RUN = 20_000_000;

/** Most runs in one comparison (a study of 5 estimators x 3 G x 5 seeds plus sensitivity cells fits). */
export const MAX_COMPARED_RUNS = 256;

/**
 * A run's metrics.jsonl as columns: `steps[i]` and `columns[name][i]` come from the same line; NaN = missing
 * (metrics.jsonl's null). Typed arrays: VS Code posts their buffers as they are (no JSON of millions of
 * numbers), and the charts use them without a conversion.
 */
export interface CompareTrainTable {
  steps: Float64Array;
  columns: Record<string, Float64Array>;
}

/** A run's validation.jsonl as columns. */
export interface CompareValidationTable {
  steps: Float64Array;
  accuracy: Float64Array;
  reward: Float64Array;
}

/** One run of the comparison: who it is (legend, summary table) and its curves. */
export interface CompareRun {
  /** Absolute path of the run folder: the run's identity. */
  runDir: string;
  runName: string;
  estimator?: string;
  groupSize?: number;
  seed?: number;
  /** The backend the trainer chose (trainer.log), e.g. `wasm`. */
  backend?: string;
  /**
   * The arm the run belongs to: runs of one arm differ only by their seed (a study's cells `durian-G8-s1`,
   * `durian-G8-s2` are the arm `durian-G8`). Grouped runs are drawn as the arm's mean with a min-max band.
   */
  arm: string;
  state: DashboardRunState;
  totalSteps?: number;
  /** Training time: the last metrics line's `elapsedMs`. */
  durationMs?: number;
  train: CompareTrainTable;
  validation: CompareValidationTable;
}

export interface CompareRunsMessage {
  type: typeof COMPARE.runs;
  /** What is compared: the study folder's name, or `N runs`. */
  title: string;
  /** The runs come from a `durian study` folder (grouped by arm by default). */
  study: boolean;
  runs: CompareRun[];
}

export interface CompareRunMessage {
  type: typeof COMPARE.run;
  run: CompareRun;
}

export interface CompareOpenStepMessage {
  type: typeof COMPARE.openStep;
  runDir: string;
  step: number;
}

export type CompareHostToWebviewMessage = CompareRunsMessage | CompareRunMessage;
export type CompareWebviewToHostMessage = ReadyMessage | CompareOpenStepMessage | ChartExportMessage;

// ---- schemas ----

const step = finite(STEP_RANGE);
const path = text({ max: MAX_PATH_CHARS, min: 1 });
const label = text({ max: MAX_LABEL_CHARS });
const count = finite({ min: 0, max: 1e9, integer: true });

/** A Float64Array of exactly `length` finite numbers (or NaN, for missing, when `missing`); returns a copy. */
function numberColumn(value: unknown, where: string, length: number, missing: boolean): Float64Array {
  if (!(value instanceof Float64Array)) throw new FieldError(where, 'must be a Float64Array');
  if (value.length !== length) throw new FieldError(where, `must hold ${length} entries (one per step), got ${value.length}`);
  for (let i = 0; i < value.length; i++) {
    const entry = value[i];
    if (Number.isFinite(entry) || (missing && Number.isNaN(entry))) continue;
    throw new FieldError(`${where}[${i}]`, `must be a finite number${missing ? ' or NaN (missing)' : ''}, got ${entry}`);
  }
  return value.slice();
}

/** Steps: a Float64Array of whole numbers in STEP_RANGE, strictly increasing; returns a copy. */
function stepColumn(value: unknown, where: string, max: number): Float64Array {
  if (!(value instanceof Float64Array)) throw new FieldError(where, 'must be a Float64Array of steps');
  if (value.length > max) throw new FieldError(where, `must hold at most ${max} steps, got ${value.length}`);
  for (let i = 0; i < value.length; i++) {
    const entry = value[i];
    if (!Number.isInteger(entry) || entry < STEP_RANGE.min || entry > STEP_RANGE.max) {
      throw new FieldError(`${where}[${i}]`, `must be a whole number >= ${STEP_RANGE.min} and <= ${STEP_RANGE.max}, got ${entry}`);
    }
    if (i > 0 && entry <= value[i - 1]) throw new FieldError(`${where}[${i}]`, `must be larger than the step before (${value[i - 1]}), got ${entry}`);
  }
  return value.slice();
}

const trainTable: Check<CompareTrainTable> = (value, where) => {
  if (!isPlainObject(value)) throw new FieldError(where, 'must be an object');
  const steps = stepColumn(value.steps, childPath(where, 'steps'), MAX_HISTORY_STEPS);
  const columns = value.columns;
  const columnsPath = childPath(where, 'columns');
  if (!isPlainObject(columns)) throw new FieldError(columnsPath, 'must be an object');
  const names = Object.keys(columns);
  if (names.length > MAX_METRICS) throw new FieldError(columnsPath, `must hold at most ${MAX_METRICS} metrics, got ${names.length}`);
  if (names.length * steps.length > MAX_COMPARE_VALUES_PER_RUN) {
    throw new FieldError(columnsPath, `must hold at most ${MAX_COMPARE_VALUES_PER_RUN} values (metrics x steps), got ${names.length * steps.length}`);
  }
  const out: Record<string, Float64Array> = {};
  for (const name of names) {
    if (name.length === 0 || name.length > MAX_LABEL_CHARS || FORBIDDEN_KEYS.has(name)) throw new FieldError(childPath(columnsPath, name), 'is not an allowed metric name');
    out[name] = numberColumn(columns[name], childPath(columnsPath, name), steps.length, true);
  }
  for (const key of Object.keys(value)) if (key !== 'steps' && key !== 'columns') throw new FieldError(childPath(where, key), 'is not a field here (known: steps, columns)');
  return { steps, columns: out };
};

const validationTable: Check<CompareValidationTable> = (value, where) => {
  if (!isPlainObject(value)) throw new FieldError(where, 'must be an object');
  for (const key of Object.keys(value)) if (!['steps', 'accuracy', 'reward'].includes(key)) throw new FieldError(childPath(where, key), 'is not a field here (known: steps, accuracy, reward)');
  const steps = stepColumn(value.steps, childPath(where, 'steps'), MAX_HISTORY_VALIDATIONS);
  const accuracy = numberColumn(value.accuracy, childPath(where, 'accuracy'), steps.length, false);
  const reward = numberColumn(value.reward, childPath(where, 'reward'), steps.length, false);
  return { steps, accuracy, reward };
};

export const compareRun: Check<CompareRun> = object(
  { runDir: path, runName: path, arm: label, state: oneOf(DASHBOARD_RUN_STATES), train: trainTable, validation: validationTable },
  { estimator: label, groupSize: count, seed: count, backend: label, totalSteps: step, durationMs: finite({ min: 0 }) },
) as Check<CompareRun>;

const HOST_TO_WEBVIEW: Record<CompareHostToWebviewMessage['type'], Check<CompareHostToWebviewMessage>> = {
  [COMPARE.runs]: object({
    type: oneOf([COMPARE.runs]),
    title: text({ max: MAX_TEXT_CHARS }),
    study: bool,
    runs: arrayOf(compareRun, { max: MAX_COMPARED_RUNS }),
  }) as Check<CompareRunsMessage>,
  [COMPARE.run]: object({ type: oneOf([COMPARE.run]), run: compareRun }) as Check<CompareRunMessage>,
};

const WEBVIEW_TO_HOST: Record<CompareWebviewToHostMessage['type'], Check<CompareWebviewToHostMessage>> = {
  [WEBVIEW.ready]: object({ type: oneOf([WEBVIEW.ready]) }, { lastStep: step }) as Check<ReadyMessage>,
  [COMPARE.openStep]: object({ type: oneOf([COMPARE.openStep]), runDir: path, step }) as Check<CompareOpenStepMessage>,
  [CHART_EXPORT.save]: chartExportMessage,
};

/** A webview -> host message may carry a chart's PNG. */
const MAX_WEBVIEW_MESSAGE_CHARS = MAX_CHART_EXPORT_CHARS + 4096;

/**
 * Checks a host -> webview message. Unlike the other contracts it is not measured as JSON first (at 10 runs x
 * 10,000 steps that walk costs more than everything else the webview does before its first paint): its shape
 * is fixed and every array is capped (MAX_COMPARED_RUNS runs, MAX_COMPARE_VALUES_PER_RUN values a run, text
 * fields by length), which bounds it as the measure would. Returns a fresh copy; never throws.
 */
export function parseCompareHostToWebview(input: unknown): ParseResult<CompareHostToWebviewMessage> {
  try {
    if (!isPlainObject(input)) return { ok: false, error: 'message: must be an object with a "type"' };
    const type = input.type;
    if (type !== COMPARE.runs && type !== COMPARE.run) {
      const got = typeof type === 'string' ? JSON.stringify(type.slice(0, 80)) : typeof type;
      return { ok: false, error: `type: unknown message type ${got} from the host (known: ${Object.keys(HOST_TO_WEBVIEW).join(', ')})` };
    }
    return { ok: true, value: HOST_TO_WEBVIEW[type](input, type) };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, error: error.message };
    return { ok: false, error: `message: could not be read (${error instanceof Error ? error.message : String(error)})` };
  }
}

export function parseCompareWebviewToHost(input: unknown): ParseResult<CompareWebviewToHostMessage> {
  return parseTypedMessage(input, WEBVIEW_TO_HOST, MAX_WEBVIEW_MESSAGE_CHARS, 'from a webview');
}
