/**
 * One optimisation step of the policy: `trainStep` (clipped policy gradient, GRPO or DAPO flavour, with the
 * optional k3 KL to a reference policy) and `supervisedStep` (cross-entropy warm-up). Both compute the
 * gradient with tfjs autodiff and apply Adam with global-norm clipping. Metric names follow verl's actor
 * metrics (`actor/pg_loss`, ...) without the prefix.
 */
import * as tf from '@tensorflow/tfjs';
import { Adam, type AdamOptions, DEFAULT_ADAM } from './adam.js';
import type { PolicyBatch } from './batch.js';
import { type LossAggregation, aggregationWeights, crossEntropyLoss, policyGradientTerms } from './losses.js';
import type { PolicyModel } from './model.js';
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

function sumOf(values: Float32Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function checkPerToken(name: string, values: Float32Array | null, expected: number): void {
  if (values && values.length !== expected) throw new RangeError(`${name} has ${values.length} values, expected B * Lr = ${expected}`);
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
    const model = this.model;
    const tensors = batchTensors(batch, model.config);
    const size = tensors.sequences * tensors.responseLength;
    if (advantages.length !== tensors.sequences) throw new RangeError(`advantages has ${advantages.length} values for ${tensors.sequences} sequences`);
    checkPerToken('oldLogprobs', oldLogprobs, size);
    checkPerToken('refLogprobs', refLogprobs, size);
    if (config.klCoef > 0 && !refLogprobs) throw new RangeError('klCoef > 0 needs refLogprobs');
    const mask = tensors.mask.dataSync() as Float32Array;
    const validTokens = sumOf(mask);
    const aggregation = config.lossAggregation ?? (config.lossType === 'dapo' ? 'token-mean' : 'seq-mean-token-mean');
    const shape: [number, number] = [tensors.sequences, tensors.responseLength];
    const extra = {
      weights: tf.tensor2d(aggregationWeights(mask, tensors.responseLength, aggregation), shape),
      old: tf.tensor2d(oldLogprobs, shape),
      ref: refLogprobs && config.klCoef > 0 ? tf.tensor2d(refLogprobs, shape) : null,
      advantages: tf.tensor2d(Float32Array.from(advantages), [tensors.sequences, 1]),
    };
    try {
      let terms: tf.Scalar[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const stats = tokenStatistics(model.tensors, model.config, tensors, config.temperature);
        const pg = policyGradientTerms(
          { logprobs: stats.tokenLogprobs, oldLogprobs: extra.old, refLogprobs: extra.ref, advantages: extra.advantages, mask: tensors.mask, weights: extra.weights, validTokens },
          config.clipRatioLow,
          config.clipRatioHigh,
        );
        const entropy = tf.sum(tf.mul(stats.entropies, extra.weights)) as tf.Scalar;
        let loss = pg.pgLoss;
        if (config.klCoef > 0) loss = tf.add(loss, tf.mul(pg.klLoss, config.klCoef));
        if (config.entropyCoef !== 0) loss = tf.sub(loss, tf.mul(entropy, config.entropyCoef));
        terms = [pg.pgLoss, pg.klLoss, entropy, pg.clipFraction, pg.approxKl].map((t) => tf.keep(t));
        return loss as tf.Scalar;
      });
      const gradNorm = this.optimizer.apply(grads, config.learningRate, config.maxGradNorm);
      const [pgLoss, klLoss, entropy, clipFraction, approxKl] = terms.map((t) => t.dataSync()[0]);
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads), ...terms]);
      return { loss, pg_loss: pgLoss, kl_loss: klLoss, entropy, pg_clipfrac: clipFraction, ppo_kl: approxKl, grad_norm: gradNorm };
    } finally {
      tf.dispose([extra.weights, extra.old, extra.advantages]);
      if (extra.ref) extra.ref.dispose();
      disposeBatchTensors(tensors);
    }
  }

  /** One cross-entropy step on gold responses (warm-up / supervised fine-tuning). */
  supervisedStep(batch: PolicyBatch, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics {
    const model = this.model;
    const tensors: BatchTensors = batchTensors(batch, model.config);
    const validTokens = sumOf(tensors.mask.dataSync() as Float32Array);
    try {
      const kept: { accuracy?: tf.Scalar } = {};
      const { value, grads } = tf.variableGrads(() => {
        const stats = tokenStatistics(model.tensors, model.config, tensors, 1);
        kept.accuracy = tf.keep(tf.div(tf.sum(tf.mul(tf.cast(tf.greater(stats.tokenLogprobs, Math.log(0.5)), 'float32'), tensors.mask)), Math.max(validTokens, 1)) as tf.Scalar);
        return crossEntropyLoss(stats.tokenLogprobs, tensors.mask, validTokens);
      });
      const gradNorm = this.optimizer.apply(grads, config.learningRate, config.maxGradNorm);
      const result = { loss: value.dataSync()[0], token_accuracy: kept.accuracy ? kept.accuracy.dataSync()[0] : 0, grad_norm: gradNorm };
      tf.dispose([value, ...Object.values(grads)]);
      kept.accuracy?.dispose();
      return result;
    } finally {
      disposeBatchTensors(tensors);
    }
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
