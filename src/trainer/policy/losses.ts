/**
 * Policy losses in tfjs, on per-token log-probs [B, Lr] and a per-token weight that encodes the mask and the
 * loss aggregation (so aggregating is one weighted sum):
 *
 * - Clipped policy gradient (PPO, Schulman et al. 2017, eq. 7): per token
 *   max(-A r, -A clip(r, 1 - eps_low, 1 + eps_high)) with r = exp(logp - logp_old). GRPO (Shao et al. 2024)
 *   uses eps_low = eps_high and averages per sequence then over the batch ("seq-mean-token-mean");
 *   DAPO (Yu et al. 2025) raises eps_high ("clip-higher", eq. 10) and averages over all tokens of the batch
 *   ("token-mean", eq. 12), so long responses are not down-weighted.
 * - KL to a reference policy with the k3 estimator (Schulman 2020, "Approximating KL divergence"):
 *   k3 = exp(ref - logp) - (ref - logp) - 1 >= 0, unbiased for KL(pi || ref); clamped as verl does.
 * - Supervised cross-entropy (token mean), for the warm-up that makes the base policy.
 */
import * as tf from '@tensorflow/tfjs';

export type LossAggregation = 'seq-mean-token-mean' | 'token-mean';

/**
 * Per-token weights [B * Lr] so that sum(weights * values) is the aggregated loss; padding weighs 0.
 * seq-mean-token-mean: 1 / (tokens of s * sequences with tokens); token-mean: 1 / (all tokens).
 */
export function aggregationWeights(mask: Float32Array, responseLength: number, mode: LossAggregation): Float32Array {
  const sequences = mask.length / responseLength;
  const out = new Float32Array(mask.length);
  if (mode === 'token-mean') {
    let total = 0;
    for (const m of mask) total += m;
    if (total > 0) for (let i = 0; i < mask.length; i++) out[i] = mask[i] / total;
    return out;
  }
  const counts = new Float64Array(sequences);
  let nonEmpty = 0;
  for (let s = 0; s < sequences; s++) {
    for (let t = 0; t < responseLength; t++) counts[s] += mask[s * responseLength + t];
    if (counts[s] > 0) nonEmpty++;
  }
  for (let s = 0; s < sequences; s++) {
    if (counts[s] === 0) continue;
    for (let t = 0; t < responseLength; t++) out[s * responseLength + t] = mask[s * responseLength + t] / (counts[s] * nonEmpty);
  }
  return out;
}

export interface PolicyGradientInputs {
  /** Current policy log-probs [B, Lr] (differentiable). */
  logprobs: tf.Tensor2D;
  /** Rollout (old) policy log-probs [B, Lr]. */
  oldLogprobs: tf.Tensor2D;
  /** Reference policy log-probs [B, Lr], or null when the KL term is off. */
  refLogprobs: tf.Tensor2D | null;
  /** Per-sequence advantages [B, 1], broadcast over tokens. */
  advantages: tf.Tensor2D;
  /** 1 on valid tokens [B, Lr]. */
  mask: tf.Tensor2D;
  /** Aggregation weights [B, Lr] (see aggregationWeights). */
  weights: tf.Tensor2D;
  /** Sum of the mask (valid tokens), for token means of the diagnostics. */
  validTokens: number;
}

export interface PolicyGradientTerms {
  pgLoss: tf.Scalar;
  klLoss: tf.Scalar;
  /** Fraction of valid tokens where the clipped term was the active one. */
  clipFraction: tf.Scalar;
  /** Token mean of logp_old - logp (approximate KL(old || new)). */
  approxKl: tf.Scalar;
}

const LOG_RATIO_LIMIT = 20;
const K3_LIMIT = 10;

/** The clipped surrogate and the k3 KL term, aggregated by `weights`. */
export function policyGradientTerms(inputs: PolicyGradientInputs, clipRatioLow: number, clipRatioHigh: number): PolicyGradientTerms {
  const { logprobs, oldLogprobs, advantages, mask, weights } = inputs;
  const logRatio = tf.clipByValue(tf.sub(logprobs, oldLogprobs), -LOG_RATIO_LIMIT, LOG_RATIO_LIMIT);
  const ratio = tf.exp(logRatio);
  const negativeAdvantages = tf.neg(advantages);
  const unclipped = tf.mul(negativeAdvantages, ratio);
  const clipped = tf.mul(negativeAdvantages, tf.clipByValue(ratio, 1 - clipRatioLow, 1 + clipRatioHigh));
  const pgLoss = tf.sum(tf.mul(tf.maximum(unclipped, clipped), weights)) as tf.Scalar;
  const tokenCount = Math.max(inputs.validTokens, 1);
  const clipFraction = tf.div(tf.sum(tf.mul(tf.cast(tf.greater(clipped, unclipped), 'float32'), mask)), tokenCount) as tf.Scalar;
  const approxKl = tf.div(tf.sum(tf.mul(tf.neg(logRatio), mask)), tokenCount) as tf.Scalar;
  let klLoss = tf.scalar(0);
  if (inputs.refLogprobs) {
    const logDensity = tf.clipByValue(tf.sub(inputs.refLogprobs, logprobs), -LOG_RATIO_LIMIT, LOG_RATIO_LIMIT);
    const k3 = tf.clipByValue(tf.sub(tf.sub(tf.exp(logDensity), logDensity), 1), -K3_LIMIT, K3_LIMIT);
    klLoss = tf.sum(tf.mul(k3, weights)) as tf.Scalar;
  }
  return { pgLoss, klLoss, clipFraction, approxKl };
}

/** Token-mean negative log-likelihood of the valid tokens. */
export function crossEntropyLoss(logprobs: tf.Tensor2D, mask: tf.Tensor2D, validTokens: number): tf.Scalar {
  return tf.div(tf.neg(tf.sum(tf.mul(logprobs, mask))), Math.max(validTokens, 1)) as tf.Scalar;
}
