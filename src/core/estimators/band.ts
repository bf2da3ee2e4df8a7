import type { PreparedBatch } from '../batch.js';

/**
 * Band filter (DAPO dynamic sampling, Yu et al. 2025; EasyR1 online filtering): keep a group only when
 * the mean accuracy of its rollouts lies in [low, high] (inclusive). [0.01, 0.99] drops all-wrong and
 * all-right groups as DAPO does. Usable with any estimator: the dropped groups get advantage 0 and
 * `kept = false`, and take no part in any estimator's statistics.
 */
export function bandKeeps(batch: PreparedBatch, band: readonly [number, number] | null): boolean[] {
  return batch.groups.map((group) => {
    if (band === null) return true;
    let total = 0;
    for (const s of group.members) total += batch.accuracy[s];
    const accuracy = total / group.members.length;
    return accuracy >= band[0] && accuracy <= band[1];
  });
}
