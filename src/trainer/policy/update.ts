/**
 * One optimisation step of the policy: `trainStep` (clipped policy gradient, GRPO or DAPO flavour, with the
 * optional k3 KL to a reference policy) and `supervisedStep` (cross-entropy warm-up). Both compute the
 * gradient with tfjs autodiff and apply Adam with global-norm clipping. Metric names follow verl's actor
 * metrics (`actor/pg_loss`, ...) without the prefix.
 */
import { Adam, type AdamOptions, DEFAULT_ADAM } from './adam.js';
import type { PolicyBatch } from './batch.js';
import type { LossAggregation } from './losses.js';
import type { PolicyModel } from './model.js';
import { type StepInputs, policyGradientStep, supervisedCrossEntropyStep } from './steps.js';
import { type BatchTensors, batchTensors, disposeBatchTensors, tokenStatistics } from './tensors.js';

export type PolicyLossType = 'grpo' | 'dapo';

export interface TrainStepConfig {
  /** 'grpo': symmetric clip, seq-mean-token-mean; 'dapo': clip-higher, token-mean. */
  lossType: PolicyLossType;
  /** Lower clip range eps_low (ratio >= 1 - eps_low). */
  clipRatioLow: number;
  /** Upper clip range eps_high (ratio <= 1 + eps_high); equal to eps_low for GRPO. */
  clipRatioHigh: number;
  /** beta of the k3 KL penalty; 0 turns it off (refLogprobs may then be null). */
  klCoef: number;
  /** Entropy bonus coefficient (0 = off, verl's default). */
  entropyCoef: number;
  /** Overrides the aggregation implied by lossType. */
  lossAggregation?: LossAggregation;
  /** Sampling temperature the log-probs are computed at (must match the rollout's). */
  temperature: number;
  learningRate: number;
  /** Global gradient-norm clip (verl's grad_clip); <= 0 disables. */
  maxGradNorm: number;
}

/** GRPO as in verl/EasyR1: eps 0.2 both ways, KL beta 0.01, per-sequence mean. */
export const GRPO_TRAIN_DEFAULTS: Readonly<TrainStepConfig> = Object.freeze({
  lossType: 'grpo',
  clipRatioLow: 0.2,
  clipRatioHigh: 0.2,
  klCoef: 0.01,
  entropyCoef: 0,
  temperature: 1,
  learningRate: 1e-3,
  maxGradNorm: 1,
});

/** DAPO: clip-higher (0.2, 0.28), no KL, token-mean. */
export const DAPO_TRAIN_DEFAULTS: Readonly<TrainStepConfig> = Object.freeze({
  ...GRPO_TRAIN_DEFAULTS,
  lossType: 'dapo',
  clipRatioHigh: 0.28,
  klCoef: 0,
});

export interface TrainStepMetrics {
  loss: number;
  pg_loss: number;
  kl_loss: number;
  /** Token-mean entropy of the current policy on the batch's responses. */
  entropy: number;
  pg_clipfrac: number;
  ppo_kl: number;
  /** Gradient norm before clipping (non-finite: the step was skipped). */
  grad_norm: number;
}

export interface SupervisedMetrics {
  loss: number;
  /**
   * Fraction of valid tokens whose target has probability > 1/2 under teacher forcing (such a token is
   * surely the most likely one): a cheap lower bound on token accuracy.
   */
  token_accuracy: number;
  grad_norm: number;
}

/** Holds a policy and its optimiser state; one call = one gradient step. */
export class PolicyTrainer {
  readonly optimizer: Adam;

  constructor(readonly model: PolicyModel, adam: AdamOptions = DEFAULT_ADAM) {
    this.optimizer = new Adam(model.parameters.variables, adam);
  }

  /**
   * One clipped policy-gradient step. `advantages` is per sequence [B]; `oldLogprobs` and `refLogprobs`
   * are per token [B * Lr] (0 on padding) at `config.temperature`.
   */
  trainStep(batch: PolicyBatch, advantages: ArrayLike<number>, oldLogprobs: Float32Array, refLogprobs: Float32Array | null, config: TrainStepConfig): TrainStepMetrics {
    const tensors = batchTensors(batch, this.model.config);
    try {
      return policyGradientStep(this.stepInputs(tensors), advantages, oldLogprobs, refLogprobs, config);
    } finally {
      disposeBatchTensors(tensors);
    }
  }

  /** One cross-entropy step on gold responses (warm-up / supervised fine-tuning). */
  supervisedStep(batch: PolicyBatch, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics {
    const tensors = batchTensors(batch, this.model.config);
    try {
      return supervisedCrossEntropyStep(this.stepInputs(tensors), config);
    } finally {
      disposeBatchTensors(tensors);
    }
  }

  private stepInputs(tensors: BatchTensors): StepInputs {
    const model = this.model;
    return {
      sequences: tensors.sequences,
      responseLength: tensors.responseLength,
      mask: tensors.mask,
      maskValues: tensors.mask.dataSync() as Float32Array,
      statistics: (temperature) => tokenStatistics(model.tensors, model.config, tensors, temperature),
      optimizer: this.optimizer,
    };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
