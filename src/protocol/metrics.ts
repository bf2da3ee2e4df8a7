/**
 * Every metric the trainer writes to metrics.jsonl and streams in `trainer/step` (names as in verl), and the
 * columns of validation.jsonl: one table of name, unit, range and meaning. The trainer's record builder, the
 * Dashboard's charts, the extension, `durian train`'s summary, the study and the proxy use these constants
 * instead of bare strings; test/protocol/metrics.test.ts checks a real run's records against the table.
 */
import { RELABEL_REWARD_RANGE } from './limits.js';

/** The unit of a metric; UNIT_LABELS says each in words for a chart. */
export type MetricUnit = 'reward' | 'fraction' | 'advantage' | 'tokens' | 'prompts' | 'seconds' | 'sequences/s' | 'nats' | 'loss' | 'norm' | 'learning rate' | 'ms' | 'optimiser steps';

/** How a chart names a unit (the axis of its values). */
export const UNIT_LABELS: Readonly<Record<MetricUnit, string>> = {
  reward: 'reward',
  fraction: 'fraction (0 to 1)',
  advantage: 'advantage (reward std units)',
  tokens: 'tokens',
  prompts: 'prompts',
  seconds: 's',
  'sequences/s': 'sequences per second',
  nats: 'nats',
  loss: 'loss',
  norm: 'L2 norm',
  'learning rate': 'learning rate',
  ms: 'ms',
  'optimiser steps': 'optimiser steps',
};

export interface MetricRange {
  min?: number;
  max?: number;
  /** `min` itself is not reached (a rate of a step that took time is > 0). */
  exclusiveMin?: boolean;
  /** A count: a whole number. */
  integer?: boolean;
}

export interface MetricSpec {
  unit: MetricUnit;
  /** What every finite value lies in; {} when it may take either sign. */
  range: MetricRange;
  /** One line: what it measures. */
  meaning: string;
  /** Written only by a step whose update ran (a skipped update writes none of these). */
  fromUpdate?: boolean;
}

/** The names of the metrics of a step (metrics.jsonl keys besides `step` and `elapsedMs`). */
export const METRIC = {
  rewardMean: 'reward/mean',
  rewardStd: 'reward/std',
  accuracyMean: 'accuracy/mean',
  formatMean: 'format/mean',
  fracRewardZeroStd: 'frac_reward_zero_std',
  advantagesMean: 'critic/advantages/mean',
  advantagesMax: 'critic/advantages/max',
  advantagesMin: 'critic/advantages/min',
  advantagesFracExtreme: 'critic/advantages/frac_abs_gt_2',
  advantagesGrpoFracExtreme: 'critic/advantages_grpo/frac_abs_gt_2',
  keptGroups: 'batch/kept_groups',
  responseLengthMean: 'response_length/mean',
  timingRollout: 'timing_s/rollout',
  timingScoring: 'timing_s/scoring',
  timingUpdate: 'timing_s/update',
  timingStep: 'timing_s/step',
  throughput: 'perf/throughput',
  pgLoss: 'actor/pg_loss',
  klLoss: 'actor/kl_loss',
  entropy: 'actor/entropy',
  pgClipfrac: 'actor/pg_clipfrac',
  ppoKl: 'actor/ppo_kl',
  gradNorm: 'actor/grad_norm',
  lr: 'actor/lr',
  optimizerSteps: 'actor/optimizer_steps',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The prefix of the policy update's metrics (`actor/<name>`). */
export const ACTOR_PREFIX = 'actor/';

/**
 * |advantage| above which a rollout counts as extreme: the threshold of the `frac_abs_gt_2` metrics, the
 * Dashboard's "Extreme advantages" chart and the Rollout Groups' "Extremes only" filter.
 */
export const EXTREME_ADVANTAGE = 2;

const fraction: MetricRange = { min: 0, max: 1 };
const reward: MetricRange = { min: RELABEL_REWARD_RANGE.min, max: RELABEL_REWARD_RANGE.max };
const nonNegative: MetricRange = { min: 0 };

export const METRICS: Readonly<Record<MetricName, MetricSpec>> = {
  [METRIC.rewardMean]: { unit: 'reward', range: reward, meaning: 'Mean reward of the step\'s rollouts (reward overrides included).' },
  [METRIC.rewardStd]: { unit: 'reward', range: nonNegative, meaning: 'Standard deviation of the step\'s rewards (population).' },
  [METRIC.accuracyMean]: { unit: 'fraction', range: fraction, meaning: 'Fraction of the step\'s rollouts with the right answer.' },
  [METRIC.formatMean]: { unit: 'fraction', range: fraction, meaning: 'Fraction of the step\'s rollouts in the expected answer format.' },
  [METRIC.fracRewardZeroStd]: { unit: 'fraction', range: fraction, meaning: 'Fraction of prompts whose rollouts all got the same reward (no GRPO signal).' },
  [METRIC.advantagesMean]: { unit: 'advantage', range: {}, meaning: 'Mean advantage of the kept rollouts under the active estimator.' },
  [METRIC.advantagesMax]: { unit: 'advantage', range: {}, meaning: 'Largest advantage of the kept rollouts under the active estimator.' },
  [METRIC.advantagesMin]: { unit: 'advantage', range: {}, meaning: 'Smallest advantage of the kept rollouts under the active estimator.' },
  [METRIC.advantagesFracExtreme]: { unit: 'fraction', range: fraction, meaning: `Fraction of kept rollouts with |advantage| > ${EXTREME_ADVANTAGE} under the active estimator.` },
  [METRIC.advantagesGrpoFracExtreme]: { unit: 'fraction', range: fraction, meaning: `Fraction of rollouts with |advantage| > ${EXTREME_ADVANTAGE} under plain GRPO, for comparison.` },
  [METRIC.keptGroups]: { unit: 'prompts', range: { min: 0, integer: true }, meaning: 'Prompts whose rollouts entered the update (not excluded, not filtered out).' },
  [METRIC.responseLengthMean]: { unit: 'tokens', range: nonNegative, meaning: 'Mean response length in tokens.' },
  [METRIC.timingRollout]: { unit: 'seconds', range: nonNegative, meaning: 'Seconds spent sampling the rollouts.' },
  [METRIC.timingScoring]: { unit: 'seconds', range: nonNegative, meaning: 'Seconds spent scoring the rollouts and computing advantages.' },
  [METRIC.timingUpdate]: { unit: 'seconds', range: nonNegative, meaning: 'Seconds spent in the policy update.' },
  [METRIC.timingStep]: { unit: 'seconds', range: { min: 0, exclusiveMin: true }, meaning: 'Seconds of the whole step.' },
  [METRIC.throughput]: { unit: 'sequences/s', range: { min: 0, exclusiveMin: true }, meaning: 'Sequences (rollouts) sampled, scored and trained on per second of the whole step.' },
  [METRIC.pgLoss]: { unit: 'loss', range: {}, meaning: 'Clipped policy-gradient loss of the update.', fromUpdate: true },
  [METRIC.klLoss]: { unit: 'nats', range: nonNegative, meaning: 'KL to the reference policy (k3 estimate, per token; 0 when the KL penalty is off).', fromUpdate: true },
  [METRIC.entropy]: { unit: 'nats', range: nonNegative, meaning: 'Mean token entropy of the policy on the responses.', fromUpdate: true },
  [METRIC.pgClipfrac]: { unit: 'fraction', range: fraction, meaning: 'Fraction of tokens whose probability ratio was clipped by the PPO objective.', fromUpdate: true },
  [METRIC.ppoKl]: { unit: 'nats', range: {}, meaning: 'Approximate KL between the rollout policy and the updated one (may be slightly negative).', fromUpdate: true },
  [METRIC.gradNorm]: { unit: 'norm', range: nonNegative, meaning: 'Gradient norm of the update, before clipping.', fromUpdate: true },
  [METRIC.lr]: { unit: 'learning rate', range: { min: 0 }, meaning: 'Learning rate of the update (after warm-up and schedule).', fromUpdate: true },
  [METRIC.optimizerSteps]: {
    unit: 'optimiser steps',
    range: { min: 1, integer: true },
    meaning: 'Optimiser steps of the update: PPO epochs x mini-batches (the loss and gradient metrics are the last epoch\'s, averaged over its mini-batches).',
    fromUpdate: true,
  },
};

export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** Fields of a metrics.jsonl line that are not metrics. */
export const METRICS_LINE_FIELDS = { step: 'step', elapsedMs: 'elapsedMs' } as const;

/** The columns of validation.jsonl (`perLevel` holds one accuracy per task level). */
export const VALIDATION_METRIC = { accuracy: 'accuracy', reward: 'reward', perLevel: 'perLevel' } as const;

export const VALIDATION_METRICS: Readonly<Record<keyof typeof VALIDATION_METRIC, MetricSpec>> = {
  accuracy: { unit: 'fraction', range: fraction, meaning: 'Fraction of the held-out set answered right (greedy).' },
  reward: { unit: 'reward', range: { min: 0, max: 1 }, meaning: 'Mean task reward on the held-out set.' },
  perLevel: { unit: 'fraction', range: fraction, meaning: 'Fraction of the held-out tasks of one difficulty level answered right.' },
};

/** The spec of a metric name, or undefined for a name the table does not declare. */
export function metricSpec(name: string): MetricSpec | undefined {
  return Object.prototype.hasOwnProperty.call(METRICS, name) ? METRICS[name as MetricName] : undefined;
}

/** Why `value` does not fit metric `name`'s declared range, or undefined when it does (null: not finite, allowed). */
export function metricValueProblem(name: string, value: number | null, spec: MetricSpec | undefined = metricSpec(name)): string | undefined {
  if (spec === undefined) return `${name}: is not a declared metric (src/protocol/metrics.ts)`;
  if (value === null) return undefined;
  const { min, max, exclusiveMin, integer } = spec.range;
  const says = `${name} (${spec.unit})`;
  if (!Number.isFinite(value)) return `${says}: must be finite or null, got ${value}`;
  if (integer && !Number.isInteger(value)) return `${says}: must be a whole number, got ${value}`;
  if (min !== undefined && (exclusiveMin ? value <= min : value < min)) return `${says}: must be ${exclusiveMin ? '>' : '>='} ${min}, got ${value}`;
  if (max !== undefined && value > max) return `${says}: must be <= ${max}, got ${value}`;
  return undefined;
}
