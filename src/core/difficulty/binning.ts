/**
 * Deterministic equal-frequency binning by rank (../shared/docs/durian-method.md, "Regrouping"):
 * sort ascending by score, ties keep their input order (stable), and the item at rank k of n goes to
 * bin floor(k * bins / n). Bins are equal-frequency even when many scores tie.
 */
import { DurianInputError } from '../errors.js';

function rankOrder(scores: ArrayLike<number>): Int32Array {
  // Sort the values natively (no comparator), then hand out the ranks of each distinct value to its
  // items in input order: ties are broken by position without relying on a stable sort.
  const n = scores.length;
  const sorted = Float64Array.from(scores).sort();
  const nextRank = new Map<number, number>();
  for (let k = n - 1; k >= 0; k--) nextRank.set(sorted[k], k);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const rank = nextRank.get(scores[i]) as number;
    order[rank] = i;
    nextRank.set(scores[i], rank + 1);
  }
  return order;
}

/** Bin of each item (0 = lowest scores), `bins` >= 1. */
export function rankBins(scores: ArrayLike<number>, bins: number): Int32Array {
  if (!Number.isInteger(bins) || bins < 1) throw new DurianInputError('bins', `must be a whole number >= 1, got ${bins}`);
  const n = scores.length;
  const out = new Int32Array(n);
  const order = rankOrder(scores);
  for (let k = 0; k < n; k++) out[order[k]] = Math.floor((k * bins) / n);
  return out;
}

export const PERCEPTUAL_BUCKETS = ['low', 'mid', 'high'] as const;
export type PerceptualBucket = (typeof PERCEPTUAL_BUCKETS)[number];

/**
 * Bin of each item by its average rank (ties share one bin): items sorted ascending, a group of equal
 * scores at ranks k..m (0-based) goes to bin floor(((k + m) / 2) * bins / n). Distinct scores get exactly
 * rankBins's bins.
 */
function tiedRankBins(scores: ArrayLike<number>, bins: number): Int32Array {
  if (!Number.isInteger(bins) || bins < 1) throw new DurianInputError('bins', `must be a whole number >= 1, got ${bins}`);
  const n = scores.length;
  const out = new Int32Array(n);
  const order = rankOrder(scores);
  for (let first = 0; first < n; ) {
    let last = first;
    while (last + 1 < n && scores[order[last + 1]] === scores[order[first]]) last++;
    const bin = Math.floor((((first + last) / 2) * bins) / n);
    for (let k = first; k <= last; k++) out[order[k]] = bin;
    first = last + 1;
  }
  return out;
}

/**
 * Perceptual buckets at the 25th and 75th percentile of visual entropy (1:2:1): quarters by rank, the two
 * middle quarters merged; 0 = low entropy (visually easy), 1 = mid, 2 = high. Equal entropies always share
 * a bucket (the quarter of their average rank), so the same image never lands in two buckets; with ties
 * the split is then only close to 1:2:1.
 */
export function perceptualBuckets(visualEntropy: ArrayLike<number>): Int32Array {
  const quarters = tiedRankBins(visualEntropy, 4);
  return quarters.map((q) => (q === 0 ? 0 : q === 3 ? 2 : 1));
}

/** Effective number of reasoning bins: b (raised so no bin holds more than maxPromptsPerBin prompts, when > 0) capped so every bin holds at least minPromptsPerBin prompts. */
export function effectiveReasoningBins(prompts: number, reasoningBins: number, minPromptsPerBin: number, maxPromptsPerBin = 0): number {
  // maxPromptsPerBin raises b until no bin holds more than that many prompts (0: no cap); minPromptsPerBin wins.
  const wanted = maxPromptsPerBin > 0 ? Math.max(reasoningBins, Math.ceil(prompts / maxPromptsPerBin)) : reasoningBins;
  return Math.max(1, Math.min(wanted, Math.floor(prompts / minPromptsPerBin)));
}
