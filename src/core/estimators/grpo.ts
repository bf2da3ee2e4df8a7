import type { PreparedBatch } from '../batch.js';
import { numberOption } from '../options.js';
import { divideByStd } from '../stats.js';
import { computeGroupStats } from './groupStats.js';
import type { Estimator, GroupStats } from './types.js';

export interface GrpoOptions {
  eps: number;
}

/** verl's GRPO outcome advantage, per sequence (also Durian's A_grpo term). */
export function grpoAdvantages(batch: PreparedBatch, stats: GroupStats, eps: number): Float64Array {
  const out = new Float64Array(batch.size);
  for (let s = 0; s < batch.size; s++) {
    const g = batch.groupOf[s];
    // Singleton: verl takes mean 0 and std 1, so the advantage is the raw score / (1 + eps).
    if (stats.size[g] === 1) out[s] = batch.scores[s] / (1 + eps);
    else if (stats.zeroVariance[g]) out[s] = 0;
    else out[s] = divideByStd(batch.scores[s] - stats.mean[g], stats.std[g] + eps);
  }
  return out;
}

/** The range of `eps` wherever an estimator adds it to a std (grpo, durian). */
export const EPS_RANGE = { min: 0, max: 1 } as const;

/**
 * GRPO (Shao et al. 2024, DeepSeekMath): A = (r - mean_s) / (std_s + eps), std unbiased, eps added to
 * the std; zero-variance groups give exactly 0; a singleton gives r / (1 + eps).
 * Reproduces verl `compute_grpo_outcome_advantage` (norm_adv_by_std_in_grpo=True).
 */
export const grpo: Estimator<GrpoOptions> = {
  name: 'grpo',
  summary: "Group-relative advantage: each prompt's rewards minus their mean, divided by their own std + eps.",
  reference: 'Shao et al. 2024 (DeepSeekMath); verl core_algos.compute_grpo_outcome_advantage',
  needs: {},
  options: {
    eps: numberOption('Added to each group std (not inside a square root).', 1e-6, EPS_RANGE),
  },
  compute(batch, options) {
    return { advantages: grpoAdvantages(batch, computeGroupStats(batch), options.eps) };
  },
};
