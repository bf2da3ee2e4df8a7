/**
 * What a training step records, as pure functions of its data: the rollout groups (the `groups` event and
 * rollouts/step-N.jsonl) and the step's metrics with verl's names (the `step` event and metrics.jsonl), as
 * src/protocol/metrics.ts declares them.
 * The trainer builds them every step; the messages benchmark builds the same payloads from them.
 */
import { type AdvantageResult, type DurianPrompt, mean, unbiasedStd } from '../core/index.js';
import { ACTOR_PREFIX, EXTREME_ADVANTAGE, METRIC, type RolloutGroup } from '../protocol/index.js';
import type { Task } from './tasks/index.js';

export interface StepTimings {
  rollout: number;
  scoring: number;
  update: number;
}

function fractionAbove(values: ArrayLike<number>, kept: readonly boolean[], threshold: number): number {
  let count = 0;
  let total = 0;
  for (let s = 0; s < values.length; s++) {
    if (!kept[s]) continue;
    total++;
    if (Math.abs(values[s]) > threshold) count++;
  }
  return total === 0 ? 0 : count / total;
}

export interface RolloutGroupsInput {
  /** The step's prompts in batch order; sequence s belongs to prompt floor(s / G). */
  prompts: readonly { task: Pick<Task, 'id' | 'question' | 'answer'>; visualEntropy: number }[];
  G: number;
  /** Per sequence: decoded response, its tokens, reward (after relabels), format, accuracy, mean log-prob. */
  texts: readonly string[];
  tokens: (sequence: number) => number[];
  scores: readonly number[];
  format: readonly number[];
  accuracy: readonly number[];
  meanLogprobs: ArrayLike<number>;
  relabeled?: readonly boolean[];
  /** The image of prompt p: its path in the run directory (written there if the caller wants the file). */
  image: (prompt: number) => string;
  weight: (promptId: string) => number;
  active: AdvantageResult;
  grpo: AdvantageResult;
  /** Durian's result on the same batch (difficulty, buckets, pooled stds and components). */
  durian: AdvantageResult;
}

export function buildRolloutGroups(input: RolloutGroupsInput): RolloutGroup[] {
  const { G, scores, active, grpo } = input;
  const durianPrompts = new Map(((input.durian.explanation.prompts as DurianPrompt[] | undefined) ?? []).map((p) => [p.id, p]));
  const components = input.durian.perSequence;
  return input.prompts.map((prompt, p) => {
    const id = prompt.task.id;
    const explained = durianPrompts.get(id);
    const first = p * G;
    return {
      promptId: id,
      question: prompt.task.question,
      groundTruth: prompt.task.answer,
      image: input.image(p),
      visualEntropy: prompt.visualEntropy,
      confidence: explained?.confidence ?? mean(Array.prototype.slice.call(input.meanLogprobs, first, first + G) as number[]),
      perceptualBucket: explained?.perceptualBucket ?? 'mid',
      reasoningBin: explained?.reasoningBin ?? 0,
      groupStd: unbiasedStd(scores.slice(first, first + G)),
      perceptualPooledStd: explained?.perceptualPooledStd ?? 0,
      reasoningPooledStd: explained?.reasoningPooledStd ?? 0,
      weight: input.weight(id),
      excluded: !active.kept[first],
      rollouts: Array.from({ length: G }, (_, i) => {
        const s = first + i;
        return {
          response: input.texts[s],
          tokens: input.tokens(s),
          reward: scores[s],
          format: input.format[s],
          accuracy: input.accuracy[s],
          meanLogprob: input.meanLogprobs[s],
          advantage: active.advantages[s],
          advantageGrpo: grpo.advantages[s],
          ...(components.grpo ? { components: { grpo: components.grpo[s], perceptual: components.perceptual[s], reasoning: components.reasoning[s] } } : {}),
          ...(input.relabeled?.[s] ? { relabeled: true } : {}),
        };
      }),
    };
  });
}

export interface StepMetricsInput {
  scores: readonly number[];
  accuracy: readonly number[];
  format: readonly number[];
  lengths: ArrayLike<number>;
  active: AdvantageResult;
  grpo: AdvantageResult;
  G: number;
  /** The policy update's metrics (`loss` is left out, the rest become actor/<name>). */
  update: Record<string, number>;
  timings: StepTimings;
  stepMs: number;
  sequences: number;
}

export function stepMetrics(input: StepMetricsInput): Record<string, number> {
  const { scores, active, grpo, G, timings, stepMs } = input;
  const rewardMean = mean(scores);
  const rewardStd = Math.sqrt(mean(scores.map((r) => (r - rewardMean) ** 2)));
  let zeroStd = 0;
  for (let first = 0; first < scores.length; first += G) {
    const group = scores.slice(first, first + G);
    if (group.every((r) => r === group[0])) zeroStd++;
  }
  const keptAdvantages = Array.from(active.advantages).filter((_, s) => active.kept[s]);
  const metrics: Record<string, number> = {
    [METRIC.rewardMean]: rewardMean,
    [METRIC.rewardStd]: rewardStd,
    [METRIC.accuracyMean]: mean(input.accuracy),
    [METRIC.formatMean]: mean(input.format),
    [METRIC.fracRewardZeroStd]: zeroStd / (scores.length / G),
    [METRIC.advantagesMean]: keptAdvantages.length ? mean(keptAdvantages) : 0,
    [METRIC.advantagesMax]: keptAdvantages.length ? Math.max(...keptAdvantages) : 0,
    [METRIC.advantagesMin]: keptAdvantages.length ? Math.min(...keptAdvantages) : 0,
    [METRIC.advantagesFracExtreme]: fractionAbove(active.advantages, active.kept, EXTREME_ADVANTAGE),
    [METRIC.advantagesGrpoFracExtreme]: fractionAbove(grpo.advantages, grpo.kept, EXTREME_ADVANTAGE),
    [METRIC.keptGroups]: active.groups.filter((g) => g.kept).length,
    [METRIC.responseLengthMean]: mean(input.lengths),
    [METRIC.timingRollout]: timings.rollout,
    [METRIC.timingScoring]: timings.scoring,
    [METRIC.timingUpdate]: timings.update,
    [METRIC.timingStep]: stepMs / 1000,
    [METRIC.throughput]: input.sequences / (stepMs / 1000),
  };
  for (const [key, value] of Object.entries(input.update)) if (key !== 'loss') metrics[`${ACTOR_PREFIX}${key}`] = value;
  return metrics;
}
