/**
 * Trainer -> host events: one named type each (`EVENT.step === 'trainer/step'`), the TypeScript shape
 * and its runtime schema side by side. The host relays them to the webviews unchanged, so the panels
 * import these same definitions. Rollout groups carry an image path relative to the run directory,
 * never image bytes.
 */
import type { PerceptualBucket } from '../core/difficulty/binning.js';
import type { EstimatorName } from '../core/estimators/registry.js';
import { CONTROL_KINDS, type ControlKind, controlId } from './controls.js';
import { ESTIMATOR_CHOICES, type LiveConfig, liveConfig } from './liveConfig.js';
import {
  LIVE_RANGES,
  MAX_DEPTH,
  MAX_GROUPS,
  MAX_ID_CHARS,
  MAX_LABEL_CHARS,
  MAX_METRICS,
  MAX_PATH_CHARS,
  MAX_TEXT_CHARS,
  MAX_TOKENS_PER_ROLLOUT,
  STEP_RANGE,
  GROUP_WEIGHT_RANGE,
} from './limits.js';
import { type Check, FieldError, type JsonValue, arrayOf, bool, finite, jsonObject, object, oneOf, recordOf, text } from './schema.js';

export const EVENT = {
  hello: 'trainer/hello',
  step: 'trainer/step',
  groups: 'trainer/groups',
  validation: 'trainer/validation',
  applied: 'trainer/applied',
  checkpoint: 'trainer/checkpoint',
  error: 'trainer/error',
  done: 'trainer/done',
  log: 'trainer/log',
  paused: 'trainer/paused',
  resumed: 'trainer/resumed',
} as const;

export type EventKind = keyof typeof EVENT;
export const EVENT_KINDS = Object.keys(EVENT) as EventKind[];

/** First event of every run: who is training, where, with what. */
export interface HelloEvent {
  type: typeof EVENT.hello;
  /** The trainer's PROTOCOL_VERSION; the host refuses one it does not support. */
  protocolVersion: number;
  runId: string;
  /** Absolute path of the run directory (images are relative to it). */
  runDir: string;
  /** Compute backend, e.g. `tfjs-node`, `tfjs-node-gpu`, `wasm`, `cpu`. */
  backend: string;
  /** Human description of the device, e.g. `CPU (2 cores)` or `NVIDIA H100`. */
  device: string;
  /** The trainer's full configuration, as written to config.json. */
  config: Record<string, JsonValue>;
  /**
   * The effective live configuration the run starts (or, resumed, goes on) with: config.json's, with every
   * setConfig and undo of the checkpoint applied. The trainer always sends it.
   */
  liveConfig?: LiveConfig;
  /** Set when the run resumed from a checkpoint: the checkpoint's step. */
  resumedFromStep?: number;
}

/** One optimiser step finished; metric names as in verl (`critic/advantages/mean`, `actor/pg_loss`). */
export interface StepEvent {
  type: typeof EVENT.step;
  step: number;
  totalSteps: number;
  /** Finite values only: a non-finite metric is reported through `error` or `log`, not here. */
  metrics: Record<string, number>;
  elapsedMs: number;
}

export interface Rollout {
  response: string;
  /** Response token ids, when the trainer sends them. */
  tokens?: number[];
  reward: number;
  /** 1 when the answer is in the expected format, else 0 (fractional for partial credit). */
  format: number;
  /** 1 when the answer is right, else 0. */
  accuracy: number;
  /** Length-normalised sequence log-prob under the rollout policy. */
  meanLogprob: number;
  /** Advantage under the active estimator, group weight applied. */
  advantage: number;
  /** Plain GRPO advantage of the same rewards, for comparison. */
  advantageGrpo: number;
  /** Durian's three unweighted terms, when the estimator is durian. */
  components?: { grpo: number; perceptual: number; reasoning: number };
  /** The reward was set by the user (`control/relabel`). */
  relabeled?: boolean;
}

/** One prompt and its G rollouts, with the difficulty signals Durian regroups by. */
export interface RolloutGroup {
  promptId: string;
  question: string;
  groundTruth: string;
  /** PNG path relative to the run directory, e.g. `images/p-000123.png`. */
  image: string;
  visualEntropy: number;
  /** Mean (or sum) of the rollouts' mean token log-probs. */
  confidence: number;
  perceptualBucket: PerceptualBucket;
  reasoningBin: number;
  /** Unbiased std of the group's own rewards. */
  groupStd: number;
  perceptualPooledStd: number;
  reasoningPooledStd: number;
  /** The user's weight for this prompt (1 unless set); 0 = left out of the update. */
  weight: number;
  /** Left out of the update (weight 0, band filter or `control/excludePrompt`). */
  excluded: boolean;
  rollouts: Rollout[];
}

export interface GroupsEvent {
  type: typeof EVENT.groups;
  step: number;
  estimator: EstimatorName;
  groups: RolloutGroup[];
}

export interface ValidationEvent {
  type: typeof EVENT.validation;
  step: number;
  /** Mean accuracy over the validation set, in [0, 1]. */
  accuracy: number;
  reward: number;
  /** Accuracy per task difficulty level, in [0, 1]. */
  perLevel?: Record<string, number>;
}

/** A control took effect: it holds from `step` on (the step whose update first used it). */
export interface AppliedEvent {
  type: typeof EVENT.applied;
  controlId: string;
  kind: ControlKind;
  step: number;
  /**
   * The effective live configuration from `step` on, after this control (and every earlier one) was applied.
   * The trainer always sends it; an `applied` rebuilt from interventions.jsonl has none.
   */
  config?: LiveConfig;
}

export interface CheckpointEvent {
  type: typeof EVENT.checkpoint;
  step: number;
  /** Checkpoint folder relative to the run directory, e.g. `checkpoints/step-000010`. */
  path: string;
}

export interface ErrorEvent {
  type: typeof EVENT.error;
  message: string;
  /** What failed: a field path (`setConfig.changes.lr`), a phase (`rollout`), a file. */
  where?: string;
  /** The trainer stops after a fatal error. */
  fatal: boolean;
  /** Set when the error is the rejection of this control. */
  controlId?: string;
}

export interface DoneEvent {
  type: typeof EVENT.done;
  step: number;
  reason: 'completed' | 'stopped';
  /** Final numbers (last metrics, best validation accuracy, wall time). */
  summary: Record<string, number>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const satisfies readonly LogLevel[];

export interface LogEvent {
  type: typeof EVENT.log;
  level: LogLevel;
  message: string;
}

export interface PausedEvent {
  type: typeof EVENT.paused;
  step: number;
}

export interface ResumedEvent {
  type: typeof EVENT.resumed;
  step: number;
}

export type TrainerEvent =
  | HelloEvent
  | StepEvent
  | GroupsEvent
  | ValidationEvent
  | AppliedEvent
  | CheckpointEvent
  | ErrorEvent
  | DoneEvent
  | LogEvent
  | PausedEvent
  | ResumedEvent;

export type EventOf<K extends EventKind> = Extract<TrainerEvent, { type: (typeof EVENT)[K] }>;

// ---- schemas ----

const step = finite(STEP_RANGE);
const anyFinite = finite();
const nonNegative = finite({ min: 0 });
const unit = finite({ min: 0, max: 1 });
const id = text({ max: MAX_ID_CHARS, min: 1 });
const label = text({ max: MAX_LABEL_CHARS });
const longText = text({ max: MAX_TEXT_CHARS });
const numbers = recordOf(anyFinite, { maxKeys: MAX_METRICS, maxKeyLength: MAX_LABEL_CHARS });

/**
 * A path relative to the run directory, checked by shape only (no file system here): not absolute,
 * no `..` segment, no NUL, forward slashes. The run directory resolves it again before any file access.
 */
export const relativePath: Check<string> = (value, path) => {
  const candidate = text({ max: MAX_PATH_CHARS, min: 1 })(value, path);
  if (candidate.includes('\0')) throw new FieldError(path, 'must not contain a NUL character');
  if (candidate.includes('\\')) throw new FieldError(path, `must use forward slashes, got ${JSON.stringify(candidate.slice(0, 80))}`);
  if (candidate.startsWith('/') || /^[A-Za-z]:/.test(candidate)) {
    throw new FieldError(path, `must be relative to the run directory, got the absolute path ${JSON.stringify(candidate.slice(0, 80))}`);
  }
  if (candidate.split('/').some((segment) => segment === '..')) {
    throw new FieldError(path, `must stay inside the run directory (no ".." segments), got ${JSON.stringify(candidate.slice(0, 80))}`);
  }
  return candidate;
};

const rollout: Check<Rollout> = object(
  {
    response: longText,
    reward: anyFinite,
    format: unit,
    accuracy: unit,
    meanLogprob: anyFinite,
    advantage: anyFinite,
    advantageGrpo: anyFinite,
  },
  {
    tokens: arrayOf(finite({ min: 0, max: 2 ** 31 - 1, integer: true }), { max: MAX_TOKENS_PER_ROLLOUT }),
    components: object({ grpo: anyFinite, perceptual: anyFinite, reasoning: anyFinite }),
    relabeled: bool,
  },
);

export const rolloutGroup: Check<RolloutGroup> = object({
  promptId: id,
  question: longText,
  groundTruth: longText,
  image: relativePath,
  visualEntropy: anyFinite,
  confidence: anyFinite,
  perceptualBucket: oneOf(['low', 'mid', 'high'] as const),
  reasoningBin: finite({ min: 0, max: LIVE_RANGES.reasoningBins.max - 1, integer: true }),
  groupStd: nonNegative,
  perceptualPooledStd: nonNegative,
  reasoningPooledStd: nonNegative,
  weight: finite(GROUP_WEIGHT_RANGE),
  excluded: bool,
  rollouts: arrayOf(rollout, { min: 1, max: LIVE_RANGES.groupSize.max }),
});

function eventSchema<K extends EventKind>(kind: K, required: Record<string, Check<unknown>>, optional?: Record<string, Check<unknown>>) {
  return object({ type: oneOf([EVENT[kind]]), ...required }, optional) as unknown as Check<EventOf<K>>;
}

export const EVENT_SCHEMAS: { [K in EventKind]: Check<EventOf<K>> } = {
  hello: eventSchema(
    'hello',
    {
      protocolVersion: finite({ min: 1, max: 1e6, integer: true }),
      runId: id,
      runDir: text({ max: MAX_PATH_CHARS, min: 1 }),
      backend: text({ max: MAX_LABEL_CHARS, min: 1 }),
      device: label,
      config: jsonObject({ maxDepth: MAX_DEPTH - 2, maxStringLength: MAX_TEXT_CHARS, maxKeyLength: MAX_LABEL_CHARS }),
    },
    { liveConfig, resumedFromStep: step },
  ),
  step: eventSchema('step', {
    step,
    totalSteps: step,
    metrics: numbers,
    elapsedMs: nonNegative,
  }),
  groups: eventSchema('groups', {
    step,
    estimator: oneOf(ESTIMATOR_CHOICES),
    groups: arrayOf(rolloutGroup, { max: MAX_GROUPS }),
  }),
  validation: eventSchema(
    'validation',
    { step, accuracy: unit, reward: anyFinite },
    { perLevel: recordOf(unit, { maxKeys: 256, maxKeyLength: MAX_LABEL_CHARS }) },
  ),
  applied: eventSchema('applied', { controlId, kind: oneOf(CONTROL_KINDS), step }, { config: liveConfig }),
  checkpoint: eventSchema('checkpoint', { step, path: relativePath }),
  error: eventSchema(
    'error',
    { message: text({ max: MAX_TEXT_CHARS, min: 1 }), fatal: bool },
    { where: label, controlId },
  ),
  done: eventSchema('done', { step, reason: oneOf(['completed', 'stopped'] as const), summary: numbers }),
  log: eventSchema('log', { level: oneOf(LOG_LEVELS), message: longText }),
  paused: eventSchema('paused', { step }),
  resumed: eventSchema('resumed', { step }),
};

/**
 * Splits metrics into the finite ones (sendable in `step`) and the names of the others, so the loop
 * can report a diverging loss instead of sending NaN (which JSON would turn into null).
 */
export function splitFiniteMetrics(metrics: Readonly<Record<string, number>>): { finite: Record<string, number>; nonFinite: string[] } {
  const out: Record<string, number> = {};
  const nonFinite: string[] = [];
  for (const [name, value] of Object.entries(metrics)) {
    if (Number.isFinite(value)) out[name] = value;
    else nonFinite.push(name);
  }
  return { finite: out, nonFinite };
}
