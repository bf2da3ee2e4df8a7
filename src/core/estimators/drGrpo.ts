import { centredScores, computeGroupStats } from './groupStats.js';
import type { Estimator } from './types.js';

/**
 * Dr. GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training"): A = r - mean_s, no division by
 * the group std; a singleton keeps its raw score. verl: compute_grpo_outcome_advantage with
 * norm_adv_by_std_in_grpo=False.
 */
export const drGrpo: Estimator<Record<string, never>> = {
  name: 'dr_grpo',
  summary: "Group-relative advantage without std normalisation: each reward minus its prompt's mean.",
  reference: 'Liu et al. 2025 (Dr. GRPO); verl compute_grpo_outcome_advantage(norm_adv_by_std_in_grpo=False)',
  needs: {},
  options: {},
  compute(batch) {
    return { advantages: centredScores(batch, computeGroupStats(batch)) };
  },
};
