/**
 * The Compare panel's state, pure (no DOM): the runs the host sent, their columns as Float64Arrays (NaN =
 * missing), and what the user chose: runs hidden, grouping by arm, smoothing, the summary table's sort.
 * `applyMessage` folds a host message in; `revision` changes whenever the runs change.
 */
import { COMPARE, type CompareHostToWebviewMessage, type CompareRun } from '../../src/protocol/compare.js';

export interface RunSeries {
  /** The run as the host sent it, but for its tables (below). */
  meta: Omit<CompareRun, 'train' | 'validation'>;
  steps: Float64Array;
  columns: Map<string, Float64Array>;
  validation: { steps: Float64Array; accuracy: Float64Array; reward: Float64Array };
  /** Changes when this run is replaced (its derived series must be recomputed). */
  revision: number;
}

export const SUMMARY_COLUMNS = ['run', 'estimator', 'groupSize', 'seed', 'steps', 'finalAccuracy', 'bestAccuracy', 'duration', 'backend'] as const;
export type SummaryColumn = (typeof SUMMARY_COLUMNS)[number];

export interface CompareViewState {
  /** EMA weight of the train curves, as the Dashboard's slider. */
  smoothing: number;
  /** Show each arm's mean and min-max band instead of one line per run. */
  groupByArm: boolean;
  /** Runs (by runDir) or arms (by arm) switched off in the legend. */
  hidden: string[];
  sort: { column: SummaryColumn; descending: boolean };
}

export interface CompareModel {
  title: string;
  study: boolean;
  /** In the host's order (the legend's and the colours' order). */
  runs: RunSeries[];
  revision: number;
  received: boolean;
}

export function createModel(): CompareModel {
  return { title: '', study: false, runs: [], revision: 0, received: false };
}

export const DEFAULT_VIEW_STATE: CompareViewState = { smoothing: 0.6, groupByArm: false, hidden: [], sort: { column: 'run', descending: false } };

/** The saved view state, checked field by field (a bad field falls back to its default). */
export function restoreViewState(raw: unknown): CompareViewState {
  const saved = (raw && typeof raw === 'object' ? raw : {}) as Partial<CompareViewState>;
  const state: CompareViewState = { ...DEFAULT_VIEW_STATE, hidden: [], sort: { ...DEFAULT_VIEW_STATE.sort } };
  if (typeof saved.smoothing === 'number' && saved.smoothing >= 0 && saved.smoothing < 1) state.smoothing = saved.smoothing;
  if (typeof saved.groupByArm === 'boolean') state.groupByArm = saved.groupByArm;
  if (Array.isArray(saved.hidden)) state.hidden = saved.hidden.filter((entry): entry is string => typeof entry === 'string').slice(0, 1000);
  const sort = saved.sort;
  if (sort && (SUMMARY_COLUMNS as readonly string[]).includes(sort.column) && typeof sort.descending === 'boolean') state.sort = { column: sort.column, descending: sort.descending };
  return state;
}

let nextRevision = 1;

/** A run the host sent, as the charts read it. */
export function runSeriesOf(run: CompareRun): RunSeries {
  const { train, validation, ...meta } = run;
  // The message was checked (and copied) by parseCompareHostToWebview: its arrays are this run's own.
  return { meta, steps: train.steps, columns: new Map(Object.entries(train.columns)), validation, revision: nextRevision++ };
}

export function applyMessage(model: CompareModel, message: CompareHostToWebviewMessage): void {
  if (message.type === COMPARE.runs) {
    model.title = message.title;
    model.study = message.study;
    model.runs = message.runs.map(runSeriesOf);
  } else {
    const replaced = runSeriesOf(message.run);
    const at = model.runs.findIndex((run) => run.meta.runDir === message.run.runDir);
    if (at >= 0) model.runs[at] = replaced;
    else model.runs.push(replaced);
  }
  model.received = true;
  model.revision++;
}

/** The arms, in the order their first run comes; each with its runs. */
export function armsOf(runs: readonly RunSeries[]): { arm: string; runs: RunSeries[] }[] {
  const arms = new Map<string, RunSeries[]>();
  for (const run of runs) {
    const list = arms.get(run.meta.arm);
    if (list) list.push(run);
    else arms.set(run.meta.arm, [run]);
  }
  return [...arms].map(([arm, list]) => ({ arm, runs: list }));
}

// ---- the summary table ----

export interface SummaryRow {
  runDir: string;
  run: string;
  estimator?: string;
  groupSize?: number;
  seed?: number;
  /** The last step trained. */
  steps?: number;
  finalAccuracy?: number;
  bestAccuracy?: number;
  /** Training time in ms. */
  duration?: number;
  backend?: string;
}

export function summaryRow(run: RunSeries): SummaryRow {
  const accuracy = run.validation.accuracy;
  let best: number | undefined;
  for (const value of accuracy) if (best === undefined || value > best) best = value;
  const row: SummaryRow = { runDir: run.meta.runDir, run: run.meta.runName };
  if (run.meta.estimator !== undefined) row.estimator = run.meta.estimator;
  if (run.meta.groupSize !== undefined) row.groupSize = run.meta.groupSize;
  if (run.meta.seed !== undefined) row.seed = run.meta.seed;
  if (run.steps.length > 0) row.steps = run.steps[run.steps.length - 1];
  if (accuracy.length > 0) row.finalAccuracy = accuracy[accuracy.length - 1];
  if (best !== undefined) row.bestAccuracy = best;
  if (run.meta.durationMs !== undefined) row.duration = run.meta.durationMs;
  if (run.meta.backend !== undefined) row.backend = run.meta.backend;
  return row;
}

/** The rows sorted by `column` (missing values last either way; ties keep the host's order). */
export function sortedSummary(runs: readonly RunSeries[], sort: CompareViewState['sort']): SummaryRow[] {
  const rows = runs.map(summaryRow);
  const sign = sort.descending ? -1 : 1;
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const x = a.row[sort.column];
      const y = b.row[sort.column];
      if (x === undefined || y === undefined) return x === y ? a.index - b.index : x === undefined ? 1 : -1;
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return order !== 0 ? sign * order : a.index - b.index;
    })
    .map(({ row }) => row);
}
