/**
 * Reasoning difficulty: the policy's confidence (../shared/docs/durian-method.md, "Difficulty signals" 2).
 * Per rollout, the length-normalised sequence log-prob (mean token log-prob; `sum` is the option);
 * per prompt, L_s = the mean (or sum) over its rollouts. Low confidence = hard to reason about.
 */
import { DurianInputError, describeValue } from '../errors.js';

export type ConfidenceMode = 'mean' | 'sum';

function reduce(values: ArrayLike<number>, mode: ConfidenceMode, where: string): number {
  if (values.length === 0) throw new DurianInputError(where, 'is empty: confidence needs at least one value');
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) throw new DurianInputError(`${where}[${i}]`, `must be a finite log-prob, got ${describeValue(value)}`);
    total += value;
  }
  return mode === 'sum' ? total : total / values.length;
}

/** A rollout's confidence from its per-token log-probs (valid tokens only). */
export function sequenceConfidence(tokenLogprobs: ArrayLike<number>, mode: ConfidenceMode = 'mean'): number {
  return reduce(tokenLogprobs, mode, 'tokenLogprobs');
}

/** A prompt's confidence L_s from its rollouts' confidences. */
export function promptConfidence(rolloutConfidences: ArrayLike<number>, mode: ConfidenceMode = 'mean'): number {
  return reduce(rolloutConfidences, mode, 'rolloutConfidences');
}
