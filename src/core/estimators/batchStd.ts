import { DurianInputError } from '../errors.js';
import { centredScores, computeGroupStats } from './groupStats.js';
import type { Estimator } from './types.js';

/** verl's masked_whiten epsilon (inside the square root). */
const WHITEN_EPS = 1e-8;

/**
 * Batch-std baseline (verl's REINFORCE++-baseline, Hu et al. 2025): a_i = r_i - group mean (a singleton
 * keeps r_i), spread over the sequence's valid tokens, then whitened over ALL valid tokens of the batch
 * (token-weighted by length): mu = sum/N, var = sum (v - mu)^2 / (N - 1), A = (a - mu) / sqrt(var + 1e-8).
 * The mean is not added back. Sequences with no valid token get 0.
 * verl compute_reinforce_plus_plus_baseline_outcome_advantage + masked_whiten(shift_mean=True).
 */
export const batchStd: Estimator<Record<string, never>> = {
  name: 'batch_std',
  summary: 'Group-mean baseline, then whitened by the std of the whole batch over valid tokens.',
  reference: 'Hu et al. 2025 (REINFORCE++); verl compute_reinforce_plus_plus_baseline_outcome_advantage',
  needs: {},
  options: {},
  compute(batch) {
    const centred = centredScores(batch, computeGroupStats(batch));
    let tokens = 0;
    let weighted = 0;
    for (let s = 0; s < batch.size; s++) {
      tokens += batch.lengths[s];
      weighted += batch.lengths[s] * centred[s];
    }
    if (tokens < 2) {
      throw new DurianInputError(
        'lengths',
        `batch_std whitens over all valid tokens and needs at least 2, but the batch has ${tokens} (verl rejects this case too)`,
      );
    }
    const mu = weighted / tokens;
    let squares = 0;
    for (let s = 0; s < batch.size; s++) squares += batch.lengths[s] * (centred[s] - mu) ** 2;
    const variance = (squares / tokens) * (tokens / (tokens - 1));
    const inverseStd = 1 / Math.sqrt(variance + WHITEN_EPS);
    const advantages = new Float64Array(batch.size);
    for (let s = 0; s < batch.size; s++) advantages[s] = batch.lengths[s] > 0 ? (centred[s] - mu) * inverseStd : 0;
    return { advantages, explanation: { tokens, tokenMean: mu, tokenStd: Math.sqrt(variance) } };
  },
};
