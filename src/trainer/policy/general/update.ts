/**
 * The general policy's optimisation steps: the clipped policy gradient (GRPO / DAPO flavour, optional k3 KL)
 * and the supervised cross-entropy warm-up. The losses and their gradients are the shared ones of ../steps.ts
 * (losses of ../losses.ts, Adam with global-norm clipping of ../adam.ts); the gradient is computed on two threads
 * where that helps (../parallel/step.ts), with the same result as on one.
 */
import { type BatchShape, type PolicyBatch, checkBatch, responseMask } from '../batch.js';
import type { PolicyConfig } from '../config.js';
import type { ParallelGradients, ParallelTrainable } from '../parallel/step.js';
import { POLICY_GRADIENT_TERMS, SUPERVISED_TERMS, policyGradientArrays, policyGradientMetrics, slicePolicyGradientArrays, supervisedMetrics } from '../steps.js';
import type { SupervisedMetrics, TrainStepConfig, TrainStepMetrics } from '../update.js';

export interface GeneralTrainable extends ParallelTrainable {
  parallel: ParallelGradients;
}

/** Checks the batch against the policy's shape (one error line naming the first problem). */
function checkedShape(policy: GeneralTrainable, batch: PolicyBatch): BatchShape {
  // checkBatch reads only the shape fields that GeneralConfig shares with PolicyConfig.
  return checkBatch(batch, policy.config as unknown as PolicyConfig);
}

/** One clipped policy-gradient step; `advantages` per sequence [B], old/ref log-probs per token [B * Lr]. */
export function generalTrainStep(
  policy: GeneralTrainable,
  batch: PolicyBatch,
  advantages: ArrayLike<number>,
  oldLogprobs: Float32Array,
  refLogprobs: Float32Array | null,
  config: TrainStepConfig,
): TrainStepMetrics {
  const shape = checkedShape(policy, batch);
  const lr = batch.responseLength;
  const arrays = policyGradientArrays(responseMask(batch.responses, lr), lr, advantages, oldLogprobs, refLogprobs, config);
  const { terms, gradNorm } = policy.parallel.step(
    policy,
    batch,
    shape,
    (shard, range) => ({ kind: 'policy-gradient', batch: shard, arrays: slicePolicyGradientArrays(arrays, lr, range.from, range.to), config }),
    POLICY_GRADIENT_TERMS.length,
    config.learningRate,
    config.maxGradNorm,
  );
  return policyGradientMetrics(terms, gradNorm);
}

/** One cross-entropy step on gold responses. */
export function generalSupervisedStep(policy: GeneralTrainable, batch: PolicyBatch, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics {
  const shape = checkedShape(policy, batch);
  const validTokens = responseMask(batch.responses, batch.responseLength).reduce((a, b) => a + b, 0);
  const { terms, gradNorm } = policy.parallel.step(policy, batch, shape, (shard) => ({ kind: 'supervised', batch: shard, validTokens }), SUPERVISED_TERMS.length, config.learningRate, config.maxGradNorm);
  return supervisedMetrics(terms, gradNorm);
}
