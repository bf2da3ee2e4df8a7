/**
 * The settings a user may change while training runs (`control/setConfig`), with their ranges.
 * Names follow src/core's estimator options (`reasoningBins`, `minPromptsPerBin`, `eps`,
 * `poolZeroVariance`) and the usual PPO/GRPO names for the optimiser (`lr`, `klBeta`, clip-higher
 * `clipLow`/`clipHigh`, sampling `temperature`, `groupSize` G, `batchSize` prompts per step).
 */
import type { EstimatorName } from '../core/estimators/registry.js';
import { LIVE_RANGES, SETTINGS, defaultOf } from './settings.js';
import { type Check, FieldError, bool, finite, isPlainObject, object, oneOf, tuple } from './schema.js';

/** The estimators of src/core's registry; the type check below fails to compile if they drift apart. */
export const ESTIMATOR_CHOICES = ['grpo', 'dr_grpo', 'rloo', 'batch_std', 'durian'] as const satisfies readonly EstimatorName[];
type MissingEstimator = Exclude<EstimatorName, (typeof ESTIMATOR_CHOICES)[number]>;
const everyEstimatorListed: [MissingEstimator] extends [never] ? true : false = true;
void everyEstimatorListed;

export interface LiveConfig {
  /** Advantage estimator of the next update. */
  estimator: EstimatorName;
  /** Durian's [a_ori, a_perc, a_reas]; need not sum to 1. */
  durianWeights: [number, number, number];
  /** Durian's b, equal-frequency confidence bins. */
  reasoningBins: number;
  minPromptsPerBin: number;
  /** Added to every std. */
  eps: number;
  /** Whether all-same prompts' rewards enter Durian's pooled stds. */
  poolZeroVariance: boolean;
  /** Learning rate, in (0, 1]. */
  lr: number;
  /** KL coefficient beta (k3 estimator), in [0, 10]. */
  klBeta: number;
  /** PPO clip range below 1 (eps_low), in [0, 1]. */
  clipLow: number;
  /** PPO clip range above 1 (eps_high; DAPO clip-higher), in [0, 1]. */
  clipHigh: number;
  /** Sampling temperature, in (0, 10]. */
  temperature: number;
  /** Rollouts per prompt G, 2..64. */
  groupSize: number;
  /** Prompts per step, 1..1024. */
  batchSize: number;
}

export type LiveConfigKey = keyof LiveConfig;

const liveConfigFields: { [K in LiveConfigKey]: Check<LiveConfig[K]> } = {
  estimator: oneOf(ESTIMATOR_CHOICES),
  durianWeights: tuple(finite(LIVE_RANGES.durianWeight), ['a_ori', 'a_perc', 'a_reas']) as Check<[number, number, number]>,
  reasoningBins: finite(LIVE_RANGES.reasoningBins),
  minPromptsPerBin: finite(LIVE_RANGES.minPromptsPerBin),
  eps: finite(LIVE_RANGES.eps),
  poolZeroVariance: bool,
  lr: finite(LIVE_RANGES.lr),
  klBeta: finite(LIVE_RANGES.klBeta),
  clipLow: finite(LIVE_RANGES.clipLow),
  clipHigh: finite(LIVE_RANGES.clipHigh),
  temperature: finite(LIVE_RANGES.temperature),
  groupSize: finite(LIVE_RANGES.groupSize),
  batchSize: finite(LIVE_RANGES.batchSize),
};

export const LIVE_CONFIG_KEYS = Object.keys(liveConfigFields) as LiveConfigKey[];

const anyChanges = object({}, liveConfigFields);

/** A non-empty `Partial<LiveConfig>`: every given setting within its range, no unknown settings. */
export const liveConfigChanges: Check<Partial<LiveConfig>> = (value, path) => {
  const changes = anyChanges(value, path) as Partial<LiveConfig>;
  if (Object.keys(changes).length === 0) throw new FieldError(path, 'must change at least one setting');
  return changes;
};

/** A complete LiveConfig (e.g. what the trainer reports it is running with). */
export const liveConfig: Check<LiveConfig> = object(liveConfigFields) as Check<LiveConfig>;

/**
 * Estimator options that the live configuration does not carry (band, confidence, maxPromptsPerBin: every
 * estimator option of the settings table without a `live` key), kept from config.json, by name.
 */
export type FixedEstimatorOptions = Readonly<Record<string, unknown>>;

/** The settings of estimator options fixed for a run (not live), from the settings table. */
const FIXED_ESTIMATOR_SETTINGS = SETTINGS.filter((setting) => setting.feeds === 'estimatorOptions' && setting.live === undefined);

/**
 * The fixed estimator options of a config's `estimatorOptions`, each checked by its option's own check; one
 * that is not valid is left out (the estimator's default then holds), or, with `strict`, throws a FieldError.
 */
export function fixedEstimatorOptionsOf(estimatorOptions: unknown, where = 'estimatorOptions', strict = false): FixedEstimatorOptions {
  const given = isPlainObject(estimatorOptions) ? estimatorOptions : {};
  const out: Record<string, unknown> = {};
  for (const setting of FIXED_ESTIMATOR_SETTINGS) {
    const value = given[setting.name];
    if (value === undefined) continue;
    try {
      out[setting.name] = setting.option.parse(value, `${where}.${setting.name}`);
    } catch (error) {
      if (strict) throw new FieldError(`${where}.${setting.name}`, error instanceof Error ? error.message : String(error));
    }
  }
  return out;
}

/** Checks a message's fixed estimator options: only names of the table's fixed options, each valid. */
export const fixedEstimatorOptions: Check<FixedEstimatorOptions> = (value, path) => {
  if (!isPlainObject(value)) throw new FieldError(path, 'must be an object');
  const known = new Set(FIXED_ESTIMATOR_SETTINGS.map((setting) => setting.name));
  const unknown = Object.keys(value).find((key) => !known.has(key));
  if (unknown !== undefined) throw new FieldError(path, `${JSON.stringify(unknown.slice(0, 40))} is not a fixed estimator option (known: ${[...known].join(', ')})`);
  return fixedEstimatorOptionsOf(value, path, true);
};

/** The fields of a training config (config.json, or the trainer's parsed config) a live configuration starts from. */
export interface RunConfigFields {
  estimator?: unknown;
  estimatorOptions?: unknown;
  lr?: unknown;
  klBeta?: unknown;
  clipLow?: unknown;
  clipHigh?: unknown;
  temperature?: unknown;
  groupSize?: unknown;
  batchSize?: unknown;
}

/**
 * The live configuration a training config starts with, unchecked: estimator options `weights`,
 * `reasoningBins`, `minPromptsPerBin`, `eps`, `poolZeroVariance` with the settings table's defaults, and the optimiser's
 * settings as they are. The trainer takes it as it is (its config is already checked); the host checks it.
 */
export function liveConfigCandidate(config: RunConfigFields, defaultWeights: readonly number[]): { [K in LiveConfigKey]: unknown } {
  const options = isPlainObject(config.estimatorOptions) ? config.estimatorOptions : {};
  return {
    estimator: config.estimator,
    durianWeights: (Array.isArray(options.weights) ? options.weights : defaultWeights).slice(0, 3),
    reasoningBins: options.reasoningBins ?? defaultOf('reasoningBins'),
    minPromptsPerBin: options.minPromptsPerBin ?? defaultOf('minPromptsPerBin'),
    eps: options.eps ?? defaultOf('eps'),
    poolZeroVariance: options.poolZeroVariance ?? defaultOf('poolZeroVariance'),
    lr: config.lr,
    klBeta: config.klBeta,
    clipLow: config.clipLow,
    clipHigh: config.clipHigh,
    temperature: config.temperature,
    groupSize: config.groupSize,
    batchSize: config.batchSize,
  };
}

/**
 * The live configuration a run's config.json starts with (`liveConfigCandidate`, checked). Undefined when
 * the file does not give a valid one.
 */
export function liveConfigOfRunConfig(config: Record<string, unknown> | undefined, defaultWeights: readonly number[]): LiveConfig | undefined {
  if (!config) return undefined;
  try {
    return liveConfig(liveConfigCandidate(config, defaultWeights), 'config');
  } catch {
    return undefined;
  }
}

/**
 * The options src/core's computeAdvantages takes for `estimator`, as the settings table routes them: each
 * estimator option the estimator takes, from the live configuration `live` when it is live, else from the
 * run's fixed options (absent: the estimator's default). What the trainer uses and what the Rollout Groups
 * preview recomputes with.
 */
export function estimatorOptionsOf(estimator: string, live: LiveConfig, fixed: FixedEstimatorOptions): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    if (setting.feeds !== 'estimatorOptions' || !setting.estimators?.includes(estimator as EstimatorName)) continue;
    const value = setting.live === undefined ? fixed[setting.name] : live[setting.live as LiveConfigKey];
    if (value !== undefined) options[setting.name] = Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  return options;
}
