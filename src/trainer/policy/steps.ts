/**
 * The optimisation steps every policy shares, written once: the clipped policy-gradient step (GRPO / DAPO
 * flavour, optional k3 KL, entropy bonus) and the supervised cross-entropy step. A policy supplies only its
 * forward pass (`statistics`: per-token log-probs and entropies [B, Lr] at a temperature, inside the gradient
 * tape), its response mask and its Adam; the losses are those of ./losses.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { Adam } from './adam.js';
import { aggregationWeights, crossEntropyLoss, policyGradientTerms } from './losses.js';
import type { SupervisedMetrics, TrainStepConfig, TrainStepMetrics } from './update.js';

/** What a step needs of a policy's batch and forward pass. */
export interface StepInputs {
  sequences: number;
  responseLength: number;
  /** Response mask [B, Lr] (1 on response tokens, 0 on padding) and its values. */
  mask: tf.Tensor2D;
  maskValues: Float32Array;
  /** The policy's forward pass on the batch at a temperature, run inside the gradient tape. */
  statistics: (temperature: number) => { tokenLogprobs: tf.Tensor2D; entropies: tf.Tensor2D };
  optimizer: Adam;
  /** Variables to differentiate; all trainable variables when absent. */
  variables?: tf.Variable[];
}

function sumOf(values: Float32Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function checkPerToken(name: string, values: Float32Array | null, expected: number): void {
  if (values && values.length !== expected) throw new RangeError(`${name} has ${values.length} values, expected B * Lr = ${expected}`);
}

/**
 * One clipped policy-gradient step. `advantages` is per sequence [B]; `oldLogprobs` and `refLogprobs` are per
 * token [B * Lr] (0 on padding) at `config.temperature`.
 */
export function policyGradientStep(inputs: StepInputs, advantages: ArrayLike<number>, oldLogprobs: Float32Array, refLogprobs: Float32Array | null, config: TrainStepConfig): TrainStepMetrics {
  const { sequences, responseLength, mask } = inputs;
  const size = sequences * responseLength;
  if (advantages.length !== sequences) throw new RangeError(`advantages has ${advantages.length} values for ${sequences} sequences`);
  checkPerToken('oldLogprobs', oldLogprobs, size);
  checkPerToken('refLogprobs', refLogprobs, size);
  if (config.klCoef > 0 && !refLogprobs) throw new RangeError('klCoef > 0 needs refLogprobs');
  const validTokens = sumOf(inputs.maskValues);
  const aggregation = config.lossAggregation ?? (config.lossType === 'dapo' ? 'token-mean' : 'seq-mean-token-mean');
  const shape: [number, number] = [sequences, responseLength];
  const weights = tf.tensor2d(aggregationWeights(inputs.maskValues, responseLength, aggregation), shape);
  const old = tf.tensor2d(oldLogprobs, shape);
  const ref = refLogprobs && config.klCoef > 0 ? tf.tensor2d(refLogprobs, shape) : null;
  const perSequence = tf.tensor2d(Float32Array.from(advantages), [sequences, 1]);
  try {
    let terms: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const stats = inputs.statistics(config.temperature);
      const pg = policyGradientTerms(
        { logprobs: stats.tokenLogprobs, oldLogprobs: old, refLogprobs: ref, advantages: perSequence, mask, weights, validTokens },
        config.clipRatioLow,
        config.clipRatioHigh,
      );
      const entropy = tf.sum(tf.mul(stats.entropies, weights)) as tf.Scalar;
      let loss = pg.pgLoss;
      if (config.klCoef > 0) loss = tf.add(loss, tf.mul(pg.klLoss, config.klCoef));
      if (config.entropyCoef !== 0) loss = tf.sub(loss, tf.mul(entropy, config.entropyCoef));
      terms = [pg.pgLoss, pg.klLoss, entropy, pg.clipFraction, pg.approxKl].map((t) => tf.keep(t));
      return loss as tf.Scalar;
    }, inputs.variables);
    const gradNorm = inputs.optimizer.apply(grads, config.learningRate, config.maxGradNorm);
    const [pgLoss, klLoss, entropy, clipFraction, approxKl] = terms.map((t) => t.dataSync()[0]);
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads), ...terms]);
    return { loss, pg_loss: pgLoss, kl_loss: klLoss, entropy, pg_clipfrac: clipFraction, ppo_kl: approxKl, grad_norm: gradNorm };
  } finally {
    tf.dispose([weights, old, perSequence]);
    ref?.dispose();
  }
}

/** One cross-entropy step on gold responses (warm-up / supervised fine-tuning). */
export function supervisedCrossEntropyStep(inputs: StepInputs, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics {
  const validTokens = sumOf(inputs.maskValues);
  const kept: { accuracy?: tf.Scalar } = {};
  const { value, grads } = tf.variableGrads(() => {
    const stats = inputs.statistics(1);
    // A target with probability > 1/2 is surely the most likely token.
    const confident = tf.cast(tf.greater(stats.tokenLogprobs, Math.log(0.5)), 'float32');
    kept.accuracy = tf.keep(tf.div(tf.sum(tf.mul(confident, inputs.mask)), Math.max(validTokens, 1)) as tf.Scalar);
    return crossEntropyLoss(stats.tokenLogprobs, inputs.mask, validTokens);
  }, inputs.variables);
  const gradNorm = inputs.optimizer.apply(grads, config.learningRate, config.maxGradNorm);
  const result = { loss: value.dataSync()[0], token_accuracy: kept.accuracy ? kept.accuracy.dataSync()[0] : 0, grad_norm: gradNorm };
  tf.dispose([value, ...Object.values(grads)]);
  kept.accuracy?.dispose();
  return result;
}
