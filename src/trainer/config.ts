/**
 * The training configuration: every hyper-parameter in one typed object with its default and a comment
 * (CleanRL style), validated before training starts so that a bad value fails with the field and the
 * allowed range (`config.lr: must be > 0 and <= 1, got -1`), never mid-run.
 */
import {
  DurianInputError,
  type OptionSchema,
  booleanOption,
  choiceOption,
  describeValue,
  numberOption,
  parseOptions,
  validateEstimatorOptions,
  ESTIMATOR_NAMES,
} from '../core/index.js';

export interface TrainConfig {
  /** Seed of everything random: task sampling, initial weights, rollouts. */
  seed: number;
  /**
   * Total RL steps (one batch of prompts x rollouts and one update each). The default session (2000 steps,
   * ~0.1-0.15 s each, plus a base-policy warm-up of ~20 s on a fresh machine) fits in under 5 minutes on 2 CPU
   * cores; held-out accuracy is flat for the first ~300 steps and rises after (README: Training).
   */
  steps: number;
  /**
   * Prompts per step (B). 16 with 2 PPO epochs: the same update time as 32 x 1 epoch, and the steadiest
   * held-out curves of the recipes tried (README: Training).
   */
  batchSize: number;
  /** Rollouts per prompt (G). */
  groupSize: number;
  /** Advantage estimator from src/core (durian, grpo, dr_grpo, rloo, batch_std). */
  estimator: string;
  /** The estimator's own options (e.g. durian weights, reasoningBins) and `band`. */
  estimatorOptions: Record<string, unknown>;
  /** Policy objective: GRPO (symmetric clip, KL k3 to the reference, sequence-mean loss) or DAPO (clip-higher, token-mean, dynamic sampling). */
  algorithm: 'grpo' | 'dapo';
  /**
   * Adam learning rate of the RL updates (peak of the schedule). Measured on seed 1 over 1000 steps: 3e-4 is
   * too slow (+7 points), 1e-3 gains +9 to +12, 2e-3 and 3e-3 drift from the base (k3 KL ~0.6) and gain nothing.
   */
  lr: number;
  /**
   * Learning-rate schedule over the run's steps: 'cosine' decays lr from its value to lr * minLrRatio by the
   * last step (the policy settles instead of wandering at full step size when validation is read);
   * 'constant' keeps it. A live lr change from the panel sets the peak the schedule multiplies. The schedule
   * runs over `steps`: a stopped run resumes on the same curve, while extending a run (`--resume DIR --steps N`
   * with a larger N) stretches the curve from the resumed step on.
   */
  lrSchedule: 'constant' | 'cosine';
  /** Final lr as a fraction of lr under the cosine schedule. */
  minLrRatio: number;
  /**
   * Linear lr warm-up over the first N steps (0: none). A fresh Adam's first steps are about lr * sign(gradient)
   * for every weight (k3 KL to the base ~0.2 within 4 steps at 1e-3); a 100-step warm-up did not help reliably
   * (seed 1 +4.9 instead of +12.5, seed 3 +2.5 instead of +0.0), so it is off by default.
   */
  lrWarmupSteps: number;
  /** KL coefficient beta (k3 estimator, to the base policy). */
  klBeta: number;
  /** PPO ratio clip: 1 - clipLow .. 1 + clipHigh (GRPO: equal; DAPO: clip-higher 0.2 / 0.28). */
  clipLow: number;
  clipHigh: number;
  /** Sampling temperature of rollouts. */
  temperature: number;
  /** Optimisation passes over each batch (PPO epochs). */
  ppoEpochs: number;
  /** Global gradient-norm clip. */
  maxGradNorm: number;
  /** Validate on the held-out set every N steps (and at the start and end). */
  validationEvery: number;
  /** Held-out validation prompts. */
  validationSize: number;
  /** Training prompts in the pool the batches are drawn from (16384: the default session sees each about once). */
  trainSize: number;
  /** Checkpoint every N steps (and at the end / on stop). */
  checkpointEvery: number;
  /** Checkpoints kept on disk. */
  keepCheckpoints: number;
  /**
   * Write every rollout group of a step to rollouts/step-N.jsonl, and its images to images/ (off: neither is
   * written, e.g. for `durian study`'s many runs; live panels then show the groups without their images).
   */
  writeRollouts: boolean;
  /** tfjs backend: auto picks tfjs-node-gpu, tfjs-node, wasm, cpu (first that loads and passes a self-check). */
  backend: 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
  /** ONNX vision encoder; empty = the bundled media/encoder.onnx. */
  encoderPath: string;
  /** Supervised warm-up steps that make the base policy (cached by its settings). */
  warmupSteps: number;
}

const schema: OptionSchema<Omit<TrainConfig, 'estimatorOptions'>> = {
  seed: numberOption('Seed of everything random.', 1, { min: 0, max: 2 ** 31 - 1, integer: true }),
  steps: numberOption('Total RL steps.', 2000, { min: 1, max: 1_000_000, integer: true }),
  batchSize: numberOption('Prompts per step.', 16, { min: 1, max: 1024, integer: true }),
  groupSize: numberOption('Rollouts per prompt.', 8, { min: 1, max: 64, integer: true }),
  estimator: choiceOption('Advantage estimator.', 'durian', ESTIMATOR_NAMES),
  algorithm: choiceOption('Policy objective.', 'grpo', ['grpo', 'dapo'] as const),
  lr: numberOption('Adam learning rate.', 1e-3, { min: 0, exclusiveMin: true, max: 1 }),
  lrSchedule: choiceOption('Learning-rate schedule.', 'cosine', ['constant', 'cosine'] as const),
  minLrRatio: numberOption('Final lr / lr under the cosine schedule.', 0.1, { min: 0, max: 1 }),
  lrWarmupSteps: numberOption('Linear lr warm-up steps.', 0, { min: 0, max: 1_000_000, integer: true }),
  klBeta: numberOption('KL coefficient.', 0.01, { min: 0, max: 10 }),
  clipLow: numberOption('Lower ratio clip.', 0.2, { min: 0, max: 1 }),
  clipHigh: numberOption('Upper ratio clip.', 0.2, { min: 0, max: 1 }),
  temperature: numberOption('Sampling temperature.', 1, { min: 0, exclusiveMin: true, max: 10 }),
  ppoEpochs: numberOption('PPO epochs per batch.', 2, { min: 1, max: 16, integer: true }),
  maxGradNorm: numberOption('Gradient-norm clip.', 1, { min: 0, exclusiveMin: true, max: 1e6 }),
  validationEvery: numberOption('Validation interval in steps.', 100, { min: 1, integer: true }),
  validationSize: numberOption('Held-out validation prompts.', 512, { min: 1, max: 100_000, integer: true }),
  trainSize: numberOption('Training prompts.', 16384, { min: 1, max: 1_000_000, integer: true }),
  checkpointEvery: numberOption('Checkpoint interval in steps.', 100, { min: 1, integer: true }),
  keepCheckpoints: numberOption('Checkpoints kept.', 3, { min: 1, max: 1000, integer: true }),
  writeRollouts: booleanOption('Write rollouts per step.', true),
  backend: choiceOption('tfjs backend.', 'auto', ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const),
  encoderPath: {
    description: 'ONNX vision encoder path.',
    default: '',
    parse(value, where) {
      if (typeof value !== 'string' || value.length > 4096 || value.includes('\0')) {
        throw new DurianInputError(where, `must be a file path, got ${describeValue(value)}`);
      }
      return value;
    },
  },
  warmupSteps: numberOption('Supervised warm-up steps for the base policy.', 600, { min: 0, max: 100_000, integer: true }),
};

export const CONFIG_DESCRIPTIONS: Record<string, string> = Object.fromEntries(
  Object.entries(schema).map(([key, spec]) => [key, (spec as { description: string }).description]),
);

/** Defaults per algorithm: DAPO uses clip-higher and drops all-same groups (dynamic sampling). */
function algorithmDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  if (raw.algorithm !== 'dapo') return {};
  return { clipHigh: 0.28 };
}

/**
 * Validates a raw config (from a file, the CLI or the extension) against the schema; fills defaults.
 * `stored` marks a run's own config.json (defaults already filled in, validated when the run began).
 */
export function parseTrainConfig(raw: unknown, parsing: { stored?: boolean } = {}): TrainConfig {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new DurianInputError('config', `must be a JSON object, got ${describeValue(raw)}`);
  const { estimatorOptions, ...rest } = raw as Record<string, unknown>;
  const withDefaults = { ...algorithmDefaults(rest), ...rest };
  const config = parseOptions(schema, withDefaults, 'config', 'the training config') as Omit<TrainConfig, 'estimatorOptions'>;
  const defaultsForDapo = config.algorithm === 'dapo' && (estimatorOptions as Record<string, unknown> | undefined)?.band === undefined ? { band: [0.01, 0.99] } : {};
  const options = validateEstimatorOptions(config.estimator, { ...defaultsForDapo, ...((estimatorOptions as object) ?? {}) }, 'config.estimatorOptions');
  const groupEstimator = config.estimator !== 'batch_std';
  if (groupEstimator && config.groupSize < 2) {
    throw new DurianInputError('config.groupSize', `must be >= 2 for the group estimator ${config.estimator} (a group of 1 has no baseline), got ${config.groupSize}`);
  }
  if (config.estimator === 'durian') {
    const minPerBin = (options.minPromptsPerBin as number) ?? 2;
    const explicitBins = (estimatorOptions as Record<string, unknown> | undefined)?.reasoningBins;
    if (!parsing.stored && typeof explicitBins === 'number' && explicitBins > Math.floor(config.batchSize / minPerBin)) {
      throw new DurianInputError(
        'config.estimatorOptions.reasoningBins',
        `${explicitBins} bins need at least ${explicitBins * minPerBin} prompts per batch at minPromptsPerBin ${minPerBin}, but batchSize is ${config.batchSize} (allowed: 1..${Math.max(1, Math.floor(config.batchSize / minPerBin))})`,
      );
    }
    if (config.batchSize < minPerBin) {
      throw new DurianInputError('config.batchSize', `must be >= estimatorOptions.minPromptsPerBin (${minPerBin}) so that a reasoning bin can be filled, got ${config.batchSize}`);
    }
  }
  return { ...config, estimatorOptions: stripNullBand(options) };
}

function stripNullBand(options: Record<string, unknown>): Record<string, unknown> {
  const { band, ...rest } = options;
  return band === null || band === undefined ? rest : { ...rest, band };
}
