/**
 * The live configuration: in force now (the trainer's report) or at a past step (replayed from the log),
 * and the coefficient editor's draft and its validation.
 */
import type { EstimatorName } from '../../src/core/estimators/registry.js';
import { LIVE_RANGES } from '../../src/protocol/limits.js';
import { ESTIMATOR_CHOICES, type LiveConfig, type LiveConfigKey } from '../../src/protocol/liveConfig.js';
import { type InterventionLine, replayConfig } from '../../src/protocol/rolloutsWebview.js';
import { type NumberRange, describeRange } from '../../src/protocol/schema.js';
import type { RolloutsModel } from './stateModel.js';

/** The coefficient editor's fields, as typed (text), keyed by what they edit. */
export const DRAFT_FIELDS = ['estimator', 'a_ori', 'a_perc', 'a_reas', 'reasoningBins', 'minPromptsPerBin', 'eps', 'poolZeroVariance', 'lr', 'klBeta', 'clipLow', 'clipHigh', 'temperature'] as const;
export type DraftField = (typeof DRAFT_FIELDS)[number];
export type ConfigDraft = Partial<Record<DraftField, string>>;

export interface ConfigTimeline {
  config: LiveConfig;
  /** The step from which each setting holds (absent: since the run started). */
  since: Partial<Record<LiveConfigKey, number>>;
}

/**
 * The live configuration after the interventions that hold at `step` (all of them when undefined):
 * config.json's, then each `setConfig` in log order, an `undo` of one restoring what it replaced
 * (as the trainer's control state does).
 */
export function configTimeline(base: LiveConfig, interventions: readonly InterventionLine[], step?: number): ConfigTimeline {
  const since: Partial<Record<LiveConfigKey, number>> = {};
  const { steps, config } = replayConfig(base, step === undefined ? interventions : interventions.filter((line) => line.step <= step));
  for (const { line, changed } of steps) for (const key of changed) since[key] = line.step;
  return { config, since };
}

/**
 * The configuration in force at `step` (now when undefined): the trainer's own report from the step it
 * holds on; for earlier steps, config.json's replayed with the log (undefined when neither is known).
 */
export function configAt(model: RolloutsModel, step?: number): LiveConfig | undefined {
  const reported = model.reportedConfig;
  if (reported && (step === undefined || step >= reported.step)) return reported.config;
  return model.baseConfig ? configTimeline(model.baseConfig, model.interventions, step).config : undefined;
}

/**
 * The configuration in force now and since which step each setting holds: the trainer's report when it
 * sent one (a setting it changed since the log was read holds from the report's step), else the replay.
 */
export function currentConfigTimeline(model: RolloutsModel): ConfigTimeline | undefined {
  const replayed = model.baseConfig ? configTimeline(model.baseConfig, model.interventions) : undefined;
  const reported = model.reportedConfig;
  if (!reported) return replayed;
  const since = { ...replayed?.since };
  for (const key of Object.keys(reported.config) as LiveConfigKey[]) {
    if (replayed && JSON.stringify(replayed.config[key]) !== JSON.stringify(reported.config[key])) since[key] = reported.step;
  }
  return { config: reported.config, since };
}

export interface DraftCheck {
  /** The settings the draft changes (valid fields only). */
  changes: Partial<LiveConfig>;
  /** Why a field is not valid, by field. */
  errors: Partial<Record<DraftField, string>>;
  /** The configuration with the valid changes. */
  config: LiveConfig;
  /** a_ori + a_perc + a_reas of `config`. */
  weightSum: number;
}

const NUMBER_FIELDS: Partial<Record<DraftField, { key: LiveConfigKey; range: NumberRange }>> = {
  reasoningBins: { key: 'reasoningBins', range: LIVE_RANGES.reasoningBins },
  minPromptsPerBin: { key: 'minPromptsPerBin', range: LIVE_RANGES.minPromptsPerBin },
  eps: { key: 'eps', range: LIVE_RANGES.eps },
  lr: { key: 'lr', range: LIVE_RANGES.lr },
  klBeta: { key: 'klBeta', range: LIVE_RANGES.klBeta },
  clipLow: { key: 'clipLow', range: LIVE_RANGES.clipLow },
  clipHigh: { key: 'clipHigh', range: LIVE_RANGES.clipHigh },
  temperature: { key: 'temperature', range: LIVE_RANGES.temperature },
};
const WEIGHT_FIELDS = ['a_ori', 'a_perc', 'a_reas'] as const;

/** The range of a numeric field (for the editor's min/max/step and its hint). */
export function fieldRange(field: DraftField): NumberRange | undefined {
  if ((WEIGHT_FIELDS as readonly string[]).includes(field)) return LIVE_RANGES.durianWeight;
  return NUMBER_FIELDS[field]?.range;
}

/** A number typed in a field, or why not: within the range, whole when it must be. */
export function checkNumber(text: string, range: NumberRange): { value: number } | { error: string } {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value)) return { error: `not a number: ${JSON.stringify(text.slice(0, 20))}` };
  if (range.integer && !Number.isInteger(value)) return { error: `must be a whole number ${describeRange(range)}` };
  const tooLow = range.min !== undefined && (range.exclusiveMin ? value <= range.min : value < range.min);
  if (tooLow || (range.max !== undefined && value > range.max)) return { error: `must be ${describeRange(range)}` };
  return { value };
}

/** Validates the editor's draft against `current`: an empty or unchanged field changes nothing. */
export function checkDraft(draft: ConfigDraft, current: LiveConfig): DraftCheck {
  const changes: Partial<LiveConfig> = {};
  const errors: Partial<Record<DraftField, string>> = {};
  const estimator = draft.estimator;
  if (estimator !== undefined && estimator !== '') {
    if ((ESTIMATOR_CHOICES as readonly string[]).includes(estimator)) {
      if (estimator !== current.estimator) changes.estimator = estimator as EstimatorName;
    } else {
      errors.estimator = `unknown estimator (known: ${ESTIMATOR_CHOICES.join(', ')})`;
    }
  }
  const weights = [...current.durianWeights] as [number, number, number];
  let weightsChanged = false;
  WEIGHT_FIELDS.forEach((field, i) => {
    const text = draft[field];
    if (text === undefined || text.trim() === '') return;
    const checked = checkNumber(text, LIVE_RANGES.durianWeight);
    if ('error' in checked) errors[field] = checked.error;
    else if (checked.value !== weights[i]) {
      weights[i] = checked.value;
      weightsChanged = true;
    }
  });
  if (weightsChanged && !WEIGHT_FIELDS.some((field) => errors[field])) changes.durianWeights = weights;
  for (const [field, spec] of Object.entries(NUMBER_FIELDS) as [DraftField, { key: LiveConfigKey; range: NumberRange }][]) {
    const text = draft[field];
    if (text === undefined || text.trim() === '') continue;
    const checked = checkNumber(text, spec.range);
    if ('error' in checked) errors[field] = checked.error;
    else if (checked.value !== current[spec.key]) (changes as Record<string, unknown>)[spec.key] = checked.value;
  }
  const pool = draft.poolZeroVariance;
  if (pool === 'true' || pool === 'false') {
    if ((pool === 'true') !== current.poolZeroVariance) changes.poolZeroVariance = pool === 'true';
  } else if (pool !== undefined && pool !== '') {
    errors.poolZeroVariance = 'must be true or false';
  }
  const config = { ...current, ...changes } as LiveConfig;
  return { changes, errors, config, weightSum: config.durianWeights[0] + config.durianWeights[1] + config.durianWeights[2] };
}

/** The estimator names offered in the editor. */
export const ESTIMATOR_OPTIONS: readonly EstimatorName[] = ESTIMATOR_CHOICES;
