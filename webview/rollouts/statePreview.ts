/**
 * The local recomputation of a step's advantages with src/core (the same maths the trainer runs), for the
 * preview and the detail view's chart of every estimator.
 */
import { type SequenceBatch } from '../../src/core/batch.js';
import { ESTIMATOR_NAMES, type EstimatorName, computeAdvantages } from '../../src/core/estimators/registry.js';
import type { RolloutGroup } from '../../src/protocol/events.js';
import { type FixedEstimatorOptions, type LiveConfig, estimatorOptionsOf } from '../../src/protocol/liveConfig.js';

/** The options src/core's computeAdvantages takes for an estimator (the trainer's `estimatorOptionsOf`). */
export { estimatorOptionsOf as estimatorOptions } from '../../src/protocol/liveConfig.js';

/** The batch src/core sees for a step's groups (rewards already relabelled; each group's weight). */
export function batchOfGroups(groups: readonly RolloutGroup[]): SequenceBatch {
  const index: string[] = [];
  const scores: number[] = [];
  const lengths: number[] = [];
  const visualEntropy: number[] = [];
  const logprob: number[] = [];
  const accuracy: number[] = [];
  const groupWeights: Record<string, number> = {};
  for (const group of groups) {
    groupWeights[group.promptId] = group.weight;
    for (const rollout of group.rollouts) {
      index.push(group.promptId);
      scores.push(rollout.reward);
      lengths.push(Math.max(1, rollout.tokens?.length ?? 1));
      visualEntropy.push(group.visualEntropy);
      logprob.push(rollout.meanLogprob);
      accuracy.push(rollout.accuracy);
    }
  }
  return { index, scores, lengths, visualEntropy, logprob, accuracy, groupWeights };
}

/** Per group, per rollout: advantages (weight applied) and, for durian, the three unweighted terms. */
export interface StepAdvantages {
  estimator: EstimatorName;
  advantages: number[][];
  components?: { grpo: number[][]; perceptual: number[][]; reasoning: number[][] };
}

function perGroup(groups: readonly RolloutGroup[], values: Float64Array): number[][] {
  const out: number[][] = [];
  let s = 0;
  for (const group of groups) {
    const row: number[] = [];
    for (let i = 0; i < group.rollouts.length; i++) row.push(values[s++]);
    out.push(row);
  }
  return out;
}

/** Recomputes a step's advantages under `estimator` with `config` (src/core, as the trainer does). */
export function computeStepAdvantages(groups: readonly RolloutGroup[], estimator: EstimatorName, config: LiveConfig, fixed: FixedEstimatorOptions): StepAdvantages | { error: string } {
  if (groups.length === 0) return { estimator, advantages: [] };
  try {
    const result = computeAdvantages(estimator, batchOfGroups(groups), estimatorOptionsOf(estimator, config, fixed));
    const { grpo, perceptual, reasoning } = result.perSequence;
    return {
      estimator,
      advantages: perGroup(groups, result.advantages),
      ...(grpo && perceptual && reasoning ? { components: { grpo: perGroup(groups, grpo), perceptual: perGroup(groups, perceptual), reasoning: perGroup(groups, reasoning) } } : {}),
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Every estimator's advantages for a step (the detail view's chart), with `config`. */
export function allEstimatorAdvantages(groups: readonly RolloutGroup[], config: LiveConfig, fixed: FixedEstimatorOptions): Partial<Record<EstimatorName, number[][]>> {
  const out: Partial<Record<EstimatorName, number[][]>> = {};
  for (const name of ESTIMATOR_NAMES) {
    const result = computeStepAdvantages(groups, name, config, fixed);
    if (!('error' in result)) out[name] = result.advantages;
  }
  return out;
}

