import { computeGroupStats } from './groupStats.js';
import type { Estimator } from './types.js';

/**
 * RLOO (Ahmadian et al. 2024, "Back to Basics"): each reward minus the mean of the OTHER samples of its
 * group, = (r - mean_s) * n / (n - 1); a singleton keeps its raw score. verl compute_rloo_outcome_advantage.
 */
export const rloo: Estimator<Record<string, never>> = {
  name: 'rloo',
  summary: 'Leave-one-out baseline: each reward minus the mean of the other rollouts of its prompt.',
  reference: 'Ahmadian et al. 2024 (RLOO); verl core_algos.compute_rloo_outcome_advantage',
  needs: {},
  options: {},
  compute(batch) {
    const stats = computeGroupStats(batch);
    const advantages = new Float64Array(batch.size);
    for (let s = 0; s < batch.size; s++) {
      const g = batch.groupOf[s];
      const n = stats.size[g];
      if (n === 1) advantages[s] = batch.scores[s];
      else if (stats.zeroVariance[g]) advantages[s] = 0;
      else advantages[s] = ((batch.scores[s] - stats.mean[g]) * n) / (n - 1);
    }
    return { advantages };
  },
};
