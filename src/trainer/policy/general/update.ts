/**
 * The general policy's optimisation steps: the clipped policy gradient (GRPO / DAPO flavour, optional k3 KL)
 * and the supervised cross-entropy warm-up. The steps themselves are the shared ones of ../steps.ts (losses of
 * ../losses.ts, Adam with global-norm clipping of ../adam.ts); only the forward pass is this policy's.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Adam } from '../adam.js';
import type { PolicyBatch } from '../batch.js';
import { type StepInputs, policyGradientStep, supervisedCrossEntropyStep } from '../steps.js';
import type { SupervisedMetrics, TrainStepConfig, TrainStepMetrics } from '../update.js';
import type { GeneralConfig } from './config.js';
import { type GeneralBatchTensors, disposeGeneralBatch, generalBatchTensors, generalTokenStatistics } from './tensors.js';

export interface GeneralTrainable {
  config: GeneralConfig;
  variables: Record<string, tf.Variable>;
  optimizer: Adam;
}

function stepInputs(policy: GeneralTrainable, tensors: GeneralBatchTensors): StepInputs {
  return {
    sequences: tensors.sequences,
    responseLength: tensors.responseLength,
    mask: tensors.mask,
    maskValues: tensors.maskValues,
    statistics: (temperature) => generalTokenStatistics(policy.variables, policy.config, tensors, temperature),
    optimizer: policy.optimizer,
    variables: Object.values(policy.variables),
  };
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
  const tensors = generalBatchTensors(batch, policy.config);
  try {
    return policyGradientStep(stepInputs(policy, tensors), advantages, oldLogprobs, refLogprobs, config);
  } finally {
    disposeGeneralBatch(tensors);
  }
}

/** One cross-entropy step on gold responses. */
export function generalSupervisedStep(policy: GeneralTrainable, batch: PolicyBatch, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics {
  const tensors = generalBatchTensors(batch, policy.config);
  try {
    return supervisedCrossEntropyStep(stepInputs(policy, tensors), config);
  } finally {
    disposeGeneralBatch(tensors);
  }
}
