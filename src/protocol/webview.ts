/**
 * Host <-> webview messages of the panels, in GitLens's style: every message is a named constant
 * (`DASHBOARD.history === 'dashboard/history'`), commands flow webview -> host, notifications host ->
 * webview, and both sides import these definitions and check what arrives with
 * `parseWebviewToHost` / `parseHostToWebview` (they never throw).
 *
 * The handshake: a webview posts `webview/ready` once its listener is in place; only then does the host
 * post. For the dashboard the host answers with one `dashboard/history` (the whole run so far, read from
 * metrics.jsonl and validation.jsonl, or from what it relayed) and then relays the trainer's live events
 * in `dashboard/event`, plus a `dashboard/state` whenever the run's state changes. A second `history`
 * replaces everything (it is sent again after the webview was hidden and shown, or reloaded).
 *
 * Markers: the history also carries the run's configuration at start (`baseConfig`), its interventions
 * (interventions.jsonl) and its other marks (checkpoints, skipped steps, pauses, resumes, where a resumed
 * run picked up); after each `trainer/applied` the host sends interventions.jsonl again in
 * `dashboard/interventions` (the event names the control, the log says what it did). A click on a chart
 * sends `dashboard/openStep`: the host opens the Rollout Groups panel at that step (or the nearest kept one).
 */
import { EVENT, EVENT_SCHEMAS, type TrainerEvent, type ValidationEvent } from './events.js';
import { type InterventionLine, MAX_INTERVENTIONS, interventionLine } from './interventionLog.js';
import { type LiveConfig, liveConfig } from './liveConfig.js';
import { RUN_STATES } from './runFolderRecords.js';
import { MAX_CONTROL_CHARS, MAX_DEPTH, MAX_LABEL_CHARS, MAX_METRICS, MAX_PATH_CHARS, MAX_TEXT_CHARS, STEP_RANGE } from './limits.js';
import { type ParseResult, describeThrown, parseEvent, parseTypedMessage } from './parse.js';
import { type Check, FORBIDDEN_KEYS, FieldError, arrayOf, childPath, finite, isPlainObject, measureJson, object, oneOf, recordOf, text } from './schema.js';

/** Messages every panel shares. */
export const WEBVIEW = {
  /** Webview -> host: the message listener is installed; the host may start posting. */
  ready: 'webview/ready',
} as const;

/** The Dashboard panel's messages: notifications (host -> webview) and commands (webview -> host). */
export const DASHBOARD = {
  /** Host -> webview: the run so far, replacing whatever the webview shows. */
  history: 'dashboard/history',
  /** Host -> webview: one trainer event, relayed unchanged. */
  event: 'dashboard/event',
  /** Host -> webview: the run's state changed (the host is the only source of the state). */
  state: 'dashboard/state',
  /** Webview -> host: pause the trainer (the host sends `control/pause`). */
  pause: 'dashboard/pause',
  resume: 'dashboard/resume',
  stop: 'dashboard/stop',
  /** Webview -> host: reveal the run directory in the OS file manager. */
  openRunFolder: 'dashboard/openRunFolder',
  /** Webview -> host: open the Rollout Groups panel at this step (a click on a chart). */
  openStep: 'dashboard/openStep',
  /** Host -> webview: interventions.jsonl, read again after a `trainer/applied`. */
  interventions: 'dashboard/interventions',
} as const;

/**
 * Marks on the step axis besides interventions: a checkpoint written at `step`, a step skipped because
 * something turned non-finite, a pause after `step`, a resume at `step`, and `resumedFrom`: a resumed run
 * picked up from its checkpoint of `step` (the boundary of a crash or a stop and the resume).
 */
const RUN_MARK_KINDS = ['checkpoint', 'skipped', 'pause', 'resume', 'resumedFrom'] as const;
export type RunMarkKind = (typeof RUN_MARK_KINDS)[number];

export interface RunMark {
  kind: RunMarkKind;
  step: number;
  /** What happened, in the trainer's words (why a step was skipped). */
  detail?: string;
}

/** Most marks in one history. */
export const MAX_RUN_MARKS = 100_000;

/** How the trainer words a skipped step (its `trainer/error` message and its trainer.log line). */
const SKIPPED_STEP = /^step (\d+) skipped: (.*)$/;

/**
 * The skipped step a trainer error (or a trainer.log message) reports, with why, or undefined when it
 * reports something else: the trainer says `step 12 skipped: the gradients are non-finite (...)`.
 */
export function skippedStepOf(message: string): RunMark | undefined {
  const match = SKIPPED_STEP.exec(message);
  if (!match) return undefined;
  const at = Number(match[1]);
  return Number.isSafeInteger(at) ? { kind: 'skipped', step: at, detail: match[2].slice(0, MAX_TEXT_CHARS) } : undefined;
}

/** The first index of `sorted` (ascending) whose value is >= `value` (`sorted.length` when there is none). */
export function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid] < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The kept step nearest to `step` among `steps` (ascending), the earlier one on a tie; undefined when there
 * is none. Runs keep the groups of every rolloutsEvery-th step and of the steps intervened on.
 */
export function nearestKeptStep(steps: readonly number[], step: number): number | undefined {
  if (steps.length === 0) return undefined;
  const low = lowerBound(steps, step);
  if (low === 0) return steps[0];
  if (low === steps.length) return steps[steps.length - 1];
  return step - steps[low - 1] <= steps[low] - step ? steps[low - 1] : steps[low];
}

/**
 * What a run is doing, as the host sees it: `starting` until the trainer says hello, then the states
 * of the run directory's status.json (`running`, `paused`, `stopped`, `completed`, `crashed`).
 */
export const DASHBOARD_RUN_STATES = ['starting', ...RUN_STATES] as const;
export type DashboardRunState = (typeof DASHBOARD_RUN_STATES)[number];

/** |advantage| above which a rollout counts as extreme (declared with the metrics that count them). */
export { EXTREME_ADVANTAGE } from './metrics.js';

/** Largest `dashboard/history`: a million steps of ~25 metrics fit; measured before any parsing. */
export const MAX_HISTORY_CHARS = 256 * 1024 * 1024;
/** Most metrics lines in one history (the trainer's `steps` cap is 1,000,000). */
export const MAX_HISTORY_STEPS = 1_000_000;
/** Most validation lines in one history. */
export const MAX_HISTORY_VALIDATIONS = 100_000;

// ---- webview -> host ----

export interface ReadyMessage {
  type: typeof WEBVIEW.ready;
  /** The last step the webview showed before it was hidden or reloaded (from its saved state). */
  lastStep?: number;
}

export interface DashboardPauseMessage {
  type: typeof DASHBOARD.pause;
}

export interface DashboardResumeMessage {
  type: typeof DASHBOARD.resume;
}

/** Stop after the current step (with a checkpoint); the host may ask the user to confirm. */
export interface DashboardStopMessage {
  type: typeof DASHBOARD.stop;
}

export interface DashboardOpenRunFolderMessage {
  type: typeof DASHBOARD.openRunFolder;
}

/** Open the Rollout Groups panel at `step`. */
export interface DashboardOpenStepMessage {
  type: typeof DASHBOARD.openStep;
  step: number;
}

export type WebviewToHostMessage =
  | ReadyMessage
  | DashboardPauseMessage
  | DashboardResumeMessage
  | DashboardStopMessage
  | DashboardOpenRunFolderMessage
  | DashboardOpenStepMessage;

// ---- host -> webview ----

/**
 * One line of metrics.jsonl as the trainer writes it: `step`, usually `elapsedMs` (ms since the run
 * started), then metrics named as in verl. Non-finite values are stored as `null` and read as missing.
 */
export interface MetricsLine {
  step: number;
  [metric: string]: number | null;
}

/** The effective live configuration a trainer reported (`hello`, `applied`), and the step from which it holds. */
export interface ReportedConfig {
  config: LiveConfig;
  step: number;
}

/** The reported configuration of a trainer event, or undefined when it carries none (an older trainer, a replayed log line). */
export function reportedConfigOf(event: TrainerEvent): ReportedConfig | undefined {
  if (event.type === EVENT.hello && event.liveConfig) return { config: event.liveConfig, step: event.resumedFromStep ?? 0 };
  if (event.type === EVENT.applied && event.config) return { config: event.config, step: event.step };
  return undefined;
}

/** One line of validation.jsonl: a `trainer/validation` event without its `type`. */
export type ValidationLine = Omit<ValidationEvent, 'type'>;

/** Who, where and how, shown in the panel's header; every field but the run's name may be unknown. */
export interface RunIdentity {
  /** The run directory's folder name. */
  runName: string;
  /** Absolute path of the run directory. */
  runDir: string;
  state: DashboardRunState;
  /** Why it stopped or crashed, when known. */
  message?: string;
}

/** The Dashboard's header also says what to do about a crashed run (resume it, or fix and start again). */
export interface DashboardAdvice {
  advice?: string;
}

export interface DashboardHistoryMessage extends RunIdentity, DashboardAdvice {
  type: typeof DASHBOARD.history;
  /** Advantage estimator (config.json's `estimator`). */
  estimator?: string;
  /** Compute backend and device, from the trainer's hello when the host saw one. */
  backend?: string;
  device?: string;
  /** config.json's `steps`. */
  totalSteps?: number;
  /** metrics.jsonl, in file order. The host drops lines that fail `parseMetricsLine`. */
  metrics: MetricsLine[];
  /** validation.jsonl, in file order. The host drops lines that fail `parseValidationLine`. */
  validations: ValidationLine[];
  /** The live configuration config.json started with (before any `setConfig`). */
  baseConfig?: LiveConfig;
  /** The effective live configuration the trainer last reported (`hello` or `applied`), when the host saw one. */
  reportedConfig?: ReportedConfig;
  /** interventions.jsonl, in file order. */
  interventions?: InterventionLine[];
  /** Checkpoints on disk, skipped steps, and the pauses, resumes and resume boundaries the host saw. */
  marks?: RunMark[];
}

export interface DashboardEventMessage {
  type: typeof DASHBOARD.event;
  event: TrainerEvent;
}

export interface DashboardStateMessage extends RunIdentity, DashboardAdvice {
  type: typeof DASHBOARD.state;
}

export interface DashboardInterventionsMessage {
  type: typeof DASHBOARD.interventions;
  interventions: InterventionLine[];
}

export type HostToWebviewMessage = DashboardHistoryMessage | DashboardEventMessage | DashboardStateMessage | DashboardInterventionsMessage;

export type WebviewMessageType = WebviewToHostMessage['type'] | HostToWebviewMessage['type'];

// ---- schemas ----

const step = finite(STEP_RANGE);
const runName = text({ max: MAX_PATH_CHARS, min: 1 });
const runDir = text({ max: MAX_PATH_CHARS, min: 1 });
const label = text({ max: MAX_LABEL_CHARS });
const runState = oneOf(DASHBOARD_RUN_STATES);
const reason = text({ max: MAX_TEXT_CHARS });

const metricValue: Check<number | null> = (value, path) => (value === null ? null : finite()(value, path));
/** `step` + `elapsedMs` + up to MAX_METRICS metrics. */
const metricsRecord = recordOf(metricValue, { maxKeys: MAX_METRICS + 2, maxKeyLength: MAX_LABEL_CHARS });
const elapsedMs = finite({ min: 0 });

/**
 * Whether `value` is a plain object of at most MAX_METRICS + 2 safe keys whose values are finite
 * numbers or null: the common case, checked without building a path per value (a history holds
 * hundreds of thousands). Anything else goes through `metricsRecord`, which names the problem.
 */
function isCleanMetricsRecord(value: unknown): value is Record<string, number | null> {
  if (!isPlainObject(value)) return false;
  let keys = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (++keys > MAX_METRICS + 2 || key.length === 0 || key.length > MAX_LABEL_CHARS || FORBIDDEN_KEYS.has(key)) return false;
    const entry = value[key];
    if (entry !== null && (typeof entry !== 'number' || !Number.isFinite(entry))) return false;
  }
  return true;
}

/** One metrics.jsonl line: a record of numbers or nulls with a whole-number `step`. Returns a copy. */
export const metricsLine: Check<MetricsLine> = (value, path) => {
  // Copy first, then check the copy: a getter cannot answer differently to the check and to the copy.
  const copy: unknown = isPlainObject(value) ? { ...value } : value;
  const record = isCleanMetricsRecord(copy) ? copy : metricsRecord(value, path);
  if (record.step === undefined) throw new FieldError(childPath(path, 'step'), 'is required');
  step(record.step, childPath(path, 'step'));
  if (record.elapsedMs !== undefined && record.elapsedMs !== null) elapsedMs(record.elapsedMs, childPath(path, 'elapsedMs'));
  return record as MetricsLine;
};

/** One validation.jsonl line: the fields of `trainer/validation`, checked by the same schema. */
export const validationLine: Check<ValidationLine> = (value, path) => {
  if (!isPlainObject(value)) throw new FieldError(path, 'must be an object');
  if ('type' in value) throw new FieldError(childPath(path, 'type'), 'is not a field here');
  const { type: _type, ...line } = EVENT_SCHEMAS.validation({ ...value, type: EVENT.validation }, path);
  return line;
};

const identity = { runName, runDir, state: runState };
const identityOptional = { message: reason };

export const reportedConfig: Check<ReportedConfig> = object({ config: liveConfig, step }) as Check<ReportedConfig>;
const runMark: Check<RunMark> = object({ kind: oneOf(RUN_MARK_KINDS), step }, { detail: reason }) as Check<RunMark>;
const interventions = arrayOf(interventionLine, { max: MAX_INTERVENTIONS });

const noPayload = <T extends string>(type: T) => object({ type: oneOf([type]) }) as unknown as Check<{ type: T }>;

const WEBVIEW_TO_HOST: Record<WebviewToHostMessage['type'], Check<WebviewToHostMessage>> = {
  [WEBVIEW.ready]: object({ type: oneOf([WEBVIEW.ready]) }, { lastStep: step }) as Check<ReadyMessage>,
  [DASHBOARD.pause]: noPayload(DASHBOARD.pause),
  [DASHBOARD.resume]: noPayload(DASHBOARD.resume),
  [DASHBOARD.stop]: noPayload(DASHBOARD.stop),
  [DASHBOARD.openRunFolder]: noPayload(DASHBOARD.openRunFolder),
  [DASHBOARD.openStep]: object({ type: oneOf([DASHBOARD.openStep]), step }) as Check<DashboardOpenStepMessage>,
};

/** A relayed event: checked by `parseEvent`, its errors prefixed with `dashboard/event.event`. */
const relayedEvent: Check<TrainerEvent> = (value, path) => {
  const parsed = parseEvent(value);
  if (!parsed.ok) throw new FieldError(path, parsed.error);
  return parsed.value;
};

const HOST_TO_WEBVIEW: Record<HostToWebviewMessage['type'], Check<HostToWebviewMessage>> = {
  [DASHBOARD.history]: object(
    {
      type: oneOf([DASHBOARD.history]),
      ...identity,
      metrics: arrayOf(metricsLine, { max: MAX_HISTORY_STEPS }),
      validations: arrayOf(validationLine, { max: MAX_HISTORY_VALIDATIONS }),
    },
    {
      ...identityOptional,
      advice: reason,
      estimator: label,
      backend: label,
      device: label,
      totalSteps: step,
      baseConfig: liveConfig,
      reportedConfig,
      interventions,
      marks: arrayOf(runMark, { max: MAX_RUN_MARKS }),
    },
  ) as Check<DashboardHistoryMessage>,
  [DASHBOARD.event]: object({ type: oneOf([DASHBOARD.event]), event: relayedEvent }) as Check<DashboardEventMessage>,
  [DASHBOARD.state]: object({ type: oneOf([DASHBOARD.state]), ...identity }, { ...identityOptional, advice: reason }) as Check<DashboardStateMessage>,
  [DASHBOARD.interventions]: object({ type: oneOf([DASHBOARD.interventions]), interventions }) as Check<DashboardInterventionsMessage>,
};

/** Checks a webview -> host command (small: at most MAX_CONTROL_CHARS of JSON). Returns a fresh copy. */
export function parseWebviewToHost(input: unknown): ParseResult<WebviewToHostMessage> {
  return parseTypedMessage(input, WEBVIEW_TO_HOST, MAX_CONTROL_CHARS, 'from a webview');
}

/** Checks a host -> webview notification (a history may be up to MAX_HISTORY_CHARS). Returns a fresh copy. */
export function parseHostToWebview(input: unknown): ParseResult<HostToWebviewMessage> {
  return parseTypedMessage(input, HOST_TO_WEBVIEW, MAX_HISTORY_CHARS, 'from the host');
}

/** Checks one metrics.jsonl line, for the host reading a run directory; errors start with `path`. */
export function parseMetricsLine(input: unknown, path = 'metrics'): ParseResult<MetricsLine> {
  return parseLine(input, path, metricsLine);
}

/** Checks one validation.jsonl line, for the host reading a run directory; errors start with `path`. */
export function parseValidationLine(input: unknown, path = 'validation'): ParseResult<ValidationLine> {
  return parseLine(input, path, validationLine);
}

function parseLine<T>(input: unknown, path: string, check: Check<T>): ParseResult<T> {
  try {
    const size = measureJson(input, MAX_CONTROL_CHARS * 4, MAX_DEPTH);
    if (!('size' in size)) return { ok: false, error: `${path}: is too large or too deeply nested` };
    return { ok: true, value: check(input, path) };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, error: error.message };
    return { ok: false, error: `${path}: could not be read (${describeThrown(error)})` };
  }
}
