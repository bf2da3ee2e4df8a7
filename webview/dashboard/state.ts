/**
 * The Dashboard's model and the reducer that builds it from host messages, with no DOM: `reduce`
 * folds `dashboard/history`, `dashboard/event` and `dashboard/state` messages into series per metric
 * (typed arrays, see series.ts), header fields and notices; `estimateEtaMs` reads the ETA off it.
 *
 * For speed with long runs the reducer updates the model in place (`applyMessage` returns the same
 * object); `revision` changes with every update so a view knows when to redraw.
 */
import { EVENT, type TrainerEvent } from '../../src/protocol/events.js';
import type { LiveConfig } from '../../src/protocol/liveConfig.js';
import { METRICS_LINE_FIELDS, VALIDATION_METRIC } from '../../src/protocol/metrics.js';
import {
  DASHBOARD,
  type DashboardAdvice,
  type DashboardHistoryMessage,
  type DashboardRunState,
  type HostToWebviewMessage,
  type RunIdentity,
  type RunMark,
  type ReportedConfig,
  type ValidationLine,
  reportedConfigOf,
  skippedStepOf,
} from '../../src/protocol/webview.js';
import { type ChartMarker, type MarkerLog, buildMarkers, emptyMarkerLog, interventionMarkers } from './markers.js';
import { SeriesTable } from './series.js';

/** The train table's column of wall time since the run started (metrics.jsonl's `elapsedMs`). */
export const ELAPSED_COLUMN = METRICS_LINE_FIELDS.elapsedMs;
/** Validation columns: `accuracy`, `reward`, and one `perLevel/<level>` per difficulty level (src/protocol/metrics.ts). */
export const VALIDATION_ACCURACY = VALIDATION_METRIC.accuracy;
export const VALIDATION_REWARD = VALIDATION_METRIC.reward;
export const PER_LEVEL_PREFIX = `${VALIDATION_METRIC.perLevel}/`;
/** Newest notices kept; older ones are dropped. */
export const MAX_NOTICES = 8;
/** Steps looked back over to measure the current pace for the ETA. */
export const ETA_WINDOW_STEPS = 50;

/** Before the host's first message the state is not known yet. */
export type HeaderState = DashboardRunState | 'waiting';

export interface DashboardHeader {
  runName: string;
  runDir: string;
  state: HeaderState;
  /** Why the run stopped or crashed, from the host. */
  message?: string;
  /** What to do about a crashed run, from the host. */
  advice?: string;
  estimator?: string;
  backend?: string;
  device?: string;
  /** Last finished step. */
  step?: number;
  totalSteps?: number;
  /** Wall time since the run started, at the last step (ms). */
  elapsedMs?: number;
  lastCheckpointStep?: number;
  /** The trainer resumed from this checkpoint step (its hello said so). */
  resumedFromStep?: number;
}

/** Time the run spent paused, seen by this webview (the trainer's elapsed time keeps counting while paused). */
export interface PauseLog {
  /** This webview's clock (ms) when the current pause began, and the last step finished before it. */
  current?: { since: number; afterStep: number };
  /** Finished pauses: the last step before each and how long it lasted; ascending by step. */
  intervals: PausedInterval[];
}

export interface PausedInterval {
  /** The pause came after this step: its time is in the next step's elapsed time. */
  afterStep: number;
  ms: number;
}

export interface DashboardNotice {
  level: 'error' | 'warning';
  text: string;
}

export interface DashboardModel {
  header: DashboardHeader;
  /** One row per training step: `elapsedMs` and every metric the trainer sent (NaN where missing). */
  train: SeriesTable;
  /** One row per validation: `accuracy`, `reward`, `perLevel/<level>`. */
  validation: SeriesTable;
  /** Newest last, at most MAX_NOTICES. */
  notices: DashboardNotice[];
  /** Paused time, left out of the pace the ETA is computed from. */
  pauses: PauseLog;
  /** What the markers on the step axis are built from. */
  markerLog: MarkerLog;
  /** Changes whenever `markerLog` does. */
  markerRevision: number;
  /** The live configuration the trainer last reported (hello, applied): the coefficients in force now. */
  reportedConfig?: ReportedConfig;
  /** Changes with every update. */
  revision: number;
}

export function createModel(): DashboardModel {
  return {
    header: { runName: '', runDir: '', state: 'waiting' },
    train: new SeriesTable(),
    validation: new SeriesTable(),
    notices: [],
    pauses: { intervals: [] },
    markerLog: emptyMarkerLog(),
    markerRevision: 0,
    revision: 0,
  };
}

interface MarkerState {
  revision: number;
  markers: ChartMarker[];
  config: LiveConfig | undefined;
}

/** Built once per change of the marker log (the charts and the header ask every frame). */
const markerCache = new WeakMap<DashboardModel, MarkerState>();

function markerState(model: DashboardModel): MarkerState {
  const cached = markerCache.get(model);
  if (cached?.revision === model.markerRevision) return cached;
  const { markerLog } = model;
  const state = { revision: model.markerRevision, markers: buildMarkers(markerLog), config: interventionMarkers(markerLog.baseConfig, markerLog.interventions).config };
  markerCache.set(model, state);
  return state;
}

/** The model's markers, ascending by step. */
export function markersOf(model: DashboardModel): ChartMarker[] {
  return markerState(model).markers;
}

/**
 * The live configuration now: what the trainer last reported (hello, applied); without a report (an older
 * trainer, a finished run), the run's start replayed with its setConfig controls (less those undone).
 */
export function currentCoefficients(model: DashboardModel): LiveConfig | undefined {
  return model.reportedConfig?.config ?? markerState(model).config;
}

/** Folds messages, in order, into `model` (a new one by default) and returns it. */
export function reduce(messages: Iterable<HostToWebviewMessage>, model: DashboardModel = createModel()): DashboardModel {
  for (const message of messages) applyMessage(model, message);
  return model;
}

/**
 * Applies one checked host message to the model, in place; returns the model. `now` is this webview's
 * clock, which times the pauses (the trainer's elapsed time does not leave them out).
 */
export function applyMessage(model: DashboardModel, message: HostToWebviewMessage, now: number = Date.now()): DashboardModel {
  switch (message.type) {
    case DASHBOARD.history: {
      const sameRun = model.header.runDir === message.runDir;
      if (!sameRun) model.pauses = { intervals: [] };
      applyHistory(model, message);
      trackPause(model, message.state === 'paused', now);
      break;
    }
    case DASHBOARD.state:
      applyIdentity(model.header, message);
      trackPause(model, message.state === 'paused', now);
      break;
    case DASHBOARD.interventions: {
      const log = model.markerLog;
      log.interventions = message.interventions;
      const logged = new Set(message.interventions.map((line) => line.controlId));
      log.applied = log.applied.filter((applied) => !logged.has(applied.controlId));
      model.markerRevision++;
      break;
    }
    case DASHBOARD.event:
      applyEvent(model, message.event);
      if (message.event.type === EVENT.paused) trackPause(model, true, now, message.event.step);
      else if (message.event.type === EVENT.resumed) trackPause(model, false, now);
      break;
  }
  model.revision++;
  return model;
}

/** Records a problem to show (a rejected message, a trainer error); keeps the newest MAX_NOTICES. */
export function addNotice(model: DashboardModel, text: string, level: DashboardNotice['level'] = 'error'): void {
  model.notices.push({ level, text });
  if (model.notices.length > MAX_NOTICES) model.notices.splice(0, model.notices.length - MAX_NOTICES);
  model.revision++;
}

export function clearNotices(model: DashboardModel): void {
  model.notices = [];
  model.revision++;
}

/** Starts timing a pause, or ends the one being timed; repeated news of the same pause changes nothing. */
function trackPause(model: DashboardModel, paused: boolean, now: number, step?: number): void {
  const { pauses } = model;
  if (paused) {
    pauses.current ??= { since: now, afterStep: step ?? model.header.step ?? 0 };
  } else if (pauses.current) {
    const ms = Math.max(0, now - pauses.current.since);
    if (ms > 0) pauses.intervals.push({ afterStep: pauses.current.afterStep, ms });
    pauses.current = undefined;
  }
}

function applyIdentity(header: DashboardHeader, identity: RunIdentity & DashboardAdvice): void {
  header.runName = identity.runName;
  header.runDir = identity.runDir;
  header.state = identity.state;
  header.message = identity.message;
  if (identity.advice !== undefined) header.advice = identity.advice;
  else delete header.advice;
}

const SKIP_STEP = new Set(['step']);

function applyHistory(model: DashboardModel, history: DashboardHistoryMessage): void {
  const { train, validation } = model;
  train.clear();
  validation.clear();
  model.header = { runName: '', runDir: '', state: history.state };
  const header = model.header;
  applyIdentity(header, history);
  header.estimator = history.estimator;
  header.backend = history.backend;
  header.device = history.device;
  header.totalSteps = history.totalSteps;
  for (const line of history.metrics) train.append(line.step, line, SKIP_STEP);
  for (const line of history.validations) appendValidation(validation, line);
  model.markerLog = {
    ...(history.baseConfig ? { baseConfig: history.baseConfig } : {}),
    interventions: history.interventions ?? [],
    marks: history.marks ?? [],
    applied: [],
  };
  model.reportedConfig = history.reportedConfig;
  model.markerRevision++;
  header.step = train.lastStep;
  header.elapsedMs = lastFinite(train.column(ELAPSED_COLUMN));
}

function appendValidation(table: SeriesTable, line: ValidationLine): void {
  const row: Record<string, number> = { [VALIDATION_ACCURACY]: line.accuracy, [VALIDATION_REWARD]: line.reward };
  if (line.perLevel) for (const [level, accuracy] of Object.entries(line.perLevel)) row[PER_LEVEL_PREFIX + level] = accuracy;
  table.append(line.step, row);
}

/** Applies one relayed trainer event. The run's state is not read from events: the host sends it. */
export function applyEvent(model: DashboardModel, event: TrainerEvent): void {
  const { header } = model;
  switch (event.type) {
    case EVENT.hello: {
      model.reportedConfig = reportedConfigOf(event) ?? model.reportedConfig;
      header.backend = event.backend;
      header.device = event.device;
      const { estimator, steps } = event.config;
      if (typeof estimator === 'string') header.estimator = estimator;
      if (typeof steps === 'number') header.totalSteps = steps;
      if (event.resumedFromStep !== undefined) {
        // The trainer repeats the steps after its checkpoint: forget what it will send again.
        header.resumedFromStep = event.resumedFromStep;
        model.train.truncateFrom(event.resumedFromStep + 1);
        model.validation.truncateFrom(event.resumedFromStep + 1);
        const from = event.resumedFromStep;
        model.pauses.intervals = model.pauses.intervals.filter((pause) => pause.afterStep < from);
        header.step = model.train.lastStep;
        forgetMarksAfter(model, from);
        addMark(model, { kind: 'resumedFrom', step: from });
        model.markerRevision++;
      }
      break;
    }
    case EVENT.step:
      model.train.append(event.step, { ...event.metrics, [ELAPSED_COLUMN]: event.elapsedMs });
      header.step = event.step;
      header.totalSteps = event.totalSteps;
      header.elapsedMs = event.elapsedMs;
      break;
    case EVENT.validation:
      appendValidation(model.validation, event);
      break;
    case EVENT.groups:
      header.estimator = event.estimator;
      break;
    case EVENT.checkpoint:
      header.lastCheckpointStep = event.step;
      addMark(model, { kind: 'checkpoint', step: event.step });
      break;
    case EVENT.done:
      header.step = event.step;
      break;
    case EVENT.error: {
      const skipped = skippedStepOf(event.message);
      if (skipped) addMark(model, skipped);
      addNotice(model, `Trainer ${event.fatal ? 'error' : 'warning'}${event.where ? ` (${event.where})` : ''}: ${event.message}`, event.fatal ? 'error' : 'warning');
      break;
    }
    case EVENT.log:
      if (event.level === 'error') addNotice(model, `Trainer: ${event.message}`, 'error');
      break;
    case EVENT.applied: {
      const before = currentCoefficients(model);
      const reported = reportedConfigOf(event);
      if (reported) model.reportedConfig = reported;
      if (!model.markerLog.applied.some((applied) => applied.controlId === event.controlId)) {
        const change = before && reported ? { change: { before, after: reported.config } } : {};
        model.markerLog.applied.push({ controlId: event.controlId, kind: event.kind, step: event.step, ...change });
        model.markerRevision++;
      }
      break;
    }
    case EVENT.paused:
      addMark(model, { kind: 'pause', step: event.step });
      break;
    case EVENT.resumed:
      addMark(model, { kind: 'resume', step: event.step });
      break;
  }
}

/** Adds a mark unless the same one is there (the host's history may already hold it). */
function addMark(model: DashboardModel, mark: RunMark): void {
  const marks = model.markerLog.marks;
  if (marks.some((m) => m.kind === mark.kind && m.step === mark.step)) return;
  marks.push(mark);
  model.markerRevision++;
}

/** A resumed run redoes the steps after its checkpoint: what was marked after it is gone from its files too. */
function forgetMarksAfter(model: DashboardModel, step: number): void {
  const log = model.markerLog;
  log.marks = log.marks.filter((mark) => mark.step <= step);
  log.interventions = log.interventions.filter((line) => line.step <= step);
  log.applied = log.applied.filter((applied) => applied.step <= step);
}

/**
 * Milliseconds left until `totalSteps`, from the pace of the last ETA_WINDOW_STEPS steps (a restart,
 * seen as elapsed time going backwards, starts the window afresh; time spent paused is left out).
 * Undefined when there is no pace yet, no total, or the run is not running or paused.
 */
export function estimateEtaMs(model: DashboardModel): number | undefined {
  const { header, train } = model;
  if (header.state !== 'running' && header.state !== 'paused') return undefined;
  if (header.totalSteps === undefined || header.step === undefined) return undefined;
  const remaining = header.totalSteps - header.step;
  if (remaining <= 0) return 0;
  const pace = msPerStep(train.steps, train.column(ELAPSED_COLUMN), model.pauses.intervals);
  return pace === undefined ? undefined : pace * remaining;
}

/**
 * Recent milliseconds per step, or undefined without two usable points (or one after step 0); the
 * `paused` intervals inside the window are taken off the elapsed time.
 */
export function msPerStep(steps: Float64Array, elapsed: Float64Array | undefined, paused: readonly PausedInterval[] = []): number | undefined {
  if (!elapsed) return undefined;
  let last = elapsed.length - 1;
  while (last >= 0 && !Number.isFinite(elapsed[last])) last--;
  if (last < 0) return undefined;
  let first = last;
  for (let i = last - 1; i >= 0 && steps[last] - steps[i] <= ETA_WINDOW_STEPS; i--) {
    if (!Number.isFinite(elapsed[i])) continue;
    if (elapsed[i] > elapsed[first]) break;
    first = i;
  }
  const from = first === last ? -Infinity : steps[first];
  let pausedMs = 0;
  for (const pause of paused) if (pause.afterStep >= from && pause.afterStep < steps[last]) pausedMs += pause.ms;
  if (first === last) return steps[last] > 0 ? Math.max(0, elapsed[last] - pausedMs) / steps[last] : undefined;
  const span = steps[last] - steps[first];
  return span > 0 ? Math.max(0, elapsed[last] - elapsed[first] - pausedMs) / span : undefined;
}

function lastFinite(values: Float64Array | undefined): number | undefined {
  if (!values) return undefined;
  for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i])) return values[i];
  return undefined;
}
