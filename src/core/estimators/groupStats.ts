import type { PreparedBatch } from '../batch.js';
import { allEqual, unbiasedStd } from '../stats.js';
import type { GroupStats } from './types.js';

export function computeGroupStats(batch: PreparedBatch): GroupStats {
  const count = batch.groups.length;
  const stats: GroupStats = {
    size: new Int32Array(count),
    mean: new Float64Array(count),
    std: new Float64Array(count),
    zeroVariance: new Uint8Array(count),
  };
  for (let g = 0; g < count; g++) {
    const members = batch.groups[g].members;
    let total = 0;
    for (const s of members) total += batch.scores[s];
    stats.size[g] = members.length;
    stats.mean[g] = total / members.length;
    stats.zeroVariance[g] = allEqual(batch.scores, members) ? 1 : 0;
    stats.std[g] = stats.zeroVariance[g] ? 0 : unbiasedStd(batch.scores, members);
  }
  return stats;
}

/**
 * Mean-centred rewards with verl's singleton rule (a lone sequence keeps its raw score: its group
 * mean is taken as 0) and exact zeros for zero-variance groups.
 */
export function centredScores(batch: PreparedBatch, stats: GroupStats): Float64Array {
  const out = new Float64Array(batch.size);
  for (let s = 0; s < batch.size; s++) {
    const g = batch.groupOf[s];
    if (stats.size[g] === 1) out[s] = batch.scores[s];
    else if (stats.zeroVariance[g]) out[s] = 0;
    else out[s] = batch.scores[s] - stats.mean[g];
  }
  return out;
}
