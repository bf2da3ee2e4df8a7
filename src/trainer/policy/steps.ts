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

/** What computing a gradient needs of a policy's batch (or one shard of it) and forward pass. */
export interface GradientInputs {
  sequences: number;
  responseLength: number;
  /** Response mask [B, Lr] (1 on response tokens, 0 on padding) and its values. */
  mask: tf.Tensor2D;
  maskValues: Float32Array;
  /** The policy's forward pass on the batch at a temperature, run inside the gradient tape. */
  statistics: (temperature: number) => { tokenLogprobs: tf.Tensor2D; entropies: tf.Tensor2D };
  /** Variables to differentiate; all trainable variables when absent. */
  variables?: tf.Variable[];
}

/** What a step needs: the gradient inputs and the policy's Adam. */
export interface StepInputs extends GradientInputs {
  optimizer: Adam;
}

/**
 * The policy-gradient loss's per-sequence and per-token inputs as plain arrays, normalised for the WHOLE batch
 * (aggregation weights, token counts): the loss of a set of sequences is then a sum of per-token terms, so the
 * batch may be split into shards whose losses and gradients add up to the batch's (parallel/).
 */
export interface PolicyGradientArrays {
  /** Per sequence [B]. */
  advantages: Float32Array;
  /** Per token [B * Lr]. */
  oldLogprobs: Float32Array;
  refLogprobs: Float32Array | null;
  /** Aggregation weights [B * Lr] (see aggregationWeights), over the whole batch. */
  weights: Float32Array;
  /** Valid tokens of the whole batch (the token means' denominator). */
  validTokens: number;
}

/** The terms a policy-gradient gradient reports, in this order (each a sum over the sequences it saw). */
export const POLICY_GRADIENT_TERMS = ['loss', 'pg_loss', 'kl_loss', 'entropy', 'pg_clipfrac', 'ppo_kl'] as const;
/** The terms a supervised gradient reports. */
export const SUPERVISED_TERMS = ['loss', 'token_accuracy'] as const;

/** A gradient of a loss: per variable (in the order of the variables asked for) and the loss's terms. */
export interface Gradient {
  /** Keyed by tf.Variable name, as `tf.variableGrads` returns them (dispose them). */
  grads: tf.NamedTensorMap;
  terms: number[];
}

function sumOf(values: Float32Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function checkPerToken(name: string, values: Float32Array | null, expected: number): void {
  if (values && values.length !== expected) throw new RangeError(`${name} has ${values.length} values, expected B * Lr = ${expected}`);
}

/** Checks the step's inputs and normalises them for the whole batch. */
export function policyGradientArrays(
  maskValues: Float32Array,
  responseLength: number,
  advantages: ArrayLike<number>,
  oldLogprobs: Float32Array,
  refLogprobs: Float32Array | null,
  config: TrainStepConfig,
): PolicyGradientArrays {
  const sequences = maskValues.length / responseLength;
  if (advantages.length !== sequences) throw new RangeError(`advantages has ${advantages.length} values for ${sequences} sequences`);
  checkPerToken('oldLogprobs', oldLogprobs, maskValues.length);
  checkPerToken('refLogprobs', refLogprobs, maskValues.length);
  if (config.klCoef > 0 && !refLogprobs) throw new RangeError('klCoef > 0 needs refLogprobs');
  const aggregation = config.lossAggregation ?? (config.lossType === 'dapo' ? 'token-mean' : 'seq-mean-token-mean');
  return {
    advantages: Float32Array.from(advantages),
    oldLogprobs,
    refLogprobs: config.klCoef > 0 ? refLogprobs : null,
    weights: aggregationWeights(maskValues, responseLength, aggregation),
    validTokens: sumOf(maskValues),
  };
}

/** The sequences [from, to) of `arrays` (normalisers kept: they are the whole batch's). */
export function slicePolicyGradientArrays(arrays: PolicyGradientArrays, responseLength: number, from: number, to: number): PolicyGradientArrays {
  const tokens = (values: Float32Array) => values.subarray(from * responseLength, to * responseLength);
  return {
    advantages: arrays.advantages.subarray(from, to),
    oldLogprobs: tokens(arrays.oldLogprobs),
    refLogprobs: arrays.refLogprobs ? tokens(arrays.refLogprobs) : null,
    weights: tokens(arrays.weights),
    validTokens: arrays.validTokens,
  };
}

/** The clipped policy-gradient loss's gradient and terms (POLICY_GRADIENT_TERMS) on the sequences of `inputs`. */
export function policyGradientGradient(inputs: GradientInputs, arrays: PolicyGradientArrays, config: TrainStepConfig): Gradient {
  const { sequences, responseLength, mask } = inputs;
  const shape: [number, number] = [sequences, responseLength];
  const weights = tf.tensor2d(arrays.weights, shape);
  const old = tf.tensor2d(arrays.oldLogprobs, shape);
  const ref = arrays.refLogprobs && config.klCoef > 0 ? tf.tensor2d(arrays.refLogprobs, shape) : null;
  const perSequence = tf.tensor2d(arrays.advantages, [sequences, 1]);
  try {
    let terms: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const stats = inputs.statistics(config.temperature);
      const pg = policyGradientTerms(
        { logprobs: stats.tokenLogprobs, oldLogprobs: old, refLogprobs: ref, advantages: perSequence, mask, weights, validTokens: arrays.validTokens },
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
    const values = [value, ...terms].map((t) => t.dataSync()[0]);
    tf.dispose([value, ...terms]);
    return { grads, terms: values };
  } finally {
    tf.dispose([weights, old, perSequence]);
    ref?.dispose();
  }
}

/** Metrics of a policy-gradient step from its terms (summed over shards) and the gradient norm. */
export function policyGradientMetrics(terms: readonly number[], gradNorm: number): TrainStepMetrics {
  const [loss, pgLoss, klLoss, entropy, clipFraction, approxKl] = terms;
  return { loss, pg_loss: pgLoss, kl_loss: klLoss, entropy, pg_clipfrac: clipFraction, ppo_kl: approxKl, grad_norm: gradNorm };
}

/**
 * One clipped policy-gradient step. `advantages` is per sequence [B]; `oldLogprobs` and `refLogprobs` are per
 * token [B * Lr] (0 on padding) at `config.temperature`.
 */
export function policyGradientStep(inputs: StepInputs, advantages: ArrayLike<number>, oldLogprobs: Float32Array, refLogprobs: Float32Array | null, config: TrainStepConfig): TrainStepMetrics {
  if (inputs.maskValues.length !== inputs.sequences * inputs.responseLength) throw new RangeError(`mask has ${inputs.maskValues.length} values for ${inputs.sequences} x ${inputs.responseLength}`);
  const arrays = policyGradientArrays(inputs.maskValues, inputs.responseLength, advantages, oldLogprobs, refLogprobs, config);
  const { grads, terms } = policyGradientGradient(inputs, arrays, config);
  try {
    return policyGradientMetrics(terms, inputs.optimizer.apply(grads, config.learningRate, config.maxGradNorm));
  } finally {
    tf.dispose(Object.values(grads));
  }
}

/**
 * The supervised cross-entropy's gradient and terms (SUPERVISED_TERMS) on the sequences of `inputs`, token means
 * over `validTokens` (the whole batch's).
 */
export function supervisedGradient(inputs: GradientInputs, validTokens: number): Gradient {
  const kept: { accuracy?: tf.Scalar } = {};
  const { value, grads } = tf.variableGrads(() => {
    const stats = inputs.statistics(1);
    // A target with probability > 1/2 is surely the most likely token.
    const confident = tf.cast(tf.greater(stats.tokenLogprobs, Math.log(0.5)), 'float32');
    kept.accuracy = tf.keep(tf.div(tf.sum(tf.mul(confident, inputs.mask)), Math.max(validTokens, 1)) as tf.Scalar);
    return crossEntropyLoss(stats.tokenLogprobs, inputs.mask, validTokens);
  }, inputs.variables);
  const terms = [value.dataSync()[0], kept.accuracy ? kept.accuracy.dataSync()[0] : 0];
  value.dispose();
  kept.accuracy?.dispose();
  return { grads, terms };
}

export function supervisedMetrics(terms: readonly number[], gradNorm: number): SupervisedMetrics {
  return { loss: terms[0], token_accuracy: terms[1], grad_norm: gradNorm };
}

/** One cross-entropy step on gold responses (warm-up / supervised fine-tuning). */
export function supervisedCrossEntropyStep(inputs: StepInputs, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics {
  const { grads, terms } = supervisedGradient(inputs, sumOf(inputs.maskValues));
  try {
    return supervisedMetrics(terms, inputs.optimizer.apply(grads, config.learningRate, config.maxGradNorm));
  } finally {
    tf.dispose(Object.values(grads));
  }
}
