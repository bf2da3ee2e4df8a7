import type { PreparedBatch } from '../batch.js';
import { PERCEPTUAL_BUCKETS, effectiveReasoningBins, perceptualBuckets, rankBins } from '../difficulty/binning.js';
import type { ConfidenceMode } from '../difficulty/confidence.js';
import { booleanOption, choiceOption, numberOption, tupleOption } from '../options.js';
import { divideByStd, unbiasedStd } from '../stats.js';
import { computeGroupStats } from './groupStats.js';
import { EPS_RANGE, grpoAdvantages } from './grpo.js';
import type { Estimator, GroupStats } from './types.js';

export interface DurianOptions {
  eps: number;
  /** [a_ori, a_perc, a_reas]. */
  weights: number[];
  reasoningBins: number;
  minPromptsPerBin: number;
  /** Raises b so no reasoning bin holds more than this many prompts; 0: no cap. */
  maxPromptsPerBin: number;
  poolZeroVariance: boolean;
  confidence: ConfidenceMode;
}

export const DURIAN_DEFAULT_WEIGHTS = [0.1, 0.2, 0.7];

export interface BucketSummary {
  /** Bucket label: 'low' | 'mid' | 'high' (perceptual) or the bin number (reasoning, 0 = least confident). */
  bucket: string | number;
  prompts: number;
  /** Rewards that entered the pooled std. */
  pooledRewards: number;
  pooledStd: number;
  /** Range of the difficulty score within the bucket. */
  range: [number, number];
}

export interface DurianPrompt {
  id: string;
  visualEntropy: number;
  confidence: number;
  perceptualBucket: (typeof PERCEPTUAL_BUCKETS)[number];
  reasoningBin: number;
  mean: number;
  std: number;
  zeroVariance: boolean;
  perceptualPooledStd: number;
  reasoningPooledStd: number;
}

/** sigma_a for each bucket: unbiased std of all rewards of its prompts (0 when fewer than two rewards). */
function pooledStds(
  batch: PreparedBatch,
  stats: GroupStats,
  bucketOf: Int32Array,
  buckets: number,
  poolZeroVariance: boolean,
): { std: Float64Array; rewards: Int32Array } {
  const pools: number[][] = Array.from({ length: buckets }, () => []);
  batch.groups.forEach((group, g) => {
    if (!poolZeroVariance && stats.zeroVariance[g]) return;
    const pool = pools[bucketOf[g]];
    for (const s of group.members) pool.push(s);
  });
  return {
    std: Float64Array.from(pools, (pool) => unbiasedStd(batch.scores, pool)),
    rewards: Int32Array.from(pools, (pool) => pool.length),
  };
}

/** (r - mean_s) / (sigma_bucket + eps), 0 for zero-variance prompts and zero-std buckets. */
function sharedStdAdvantages(
  batch: PreparedBatch,
  stats: GroupStats,
  bucketOf: Int32Array,
  sigma: Float64Array,
  eps: number,
): Float64Array {
  const out = new Float64Array(batch.size);
  for (let s = 0; s < batch.size; s++) {
    const g = batch.groupOf[s];
    const bucketStd = sigma[bucketOf[g]];
    if (stats.zeroVariance[g] || bucketStd === 0) continue;
    out[s] = divideByStd(batch.scores[s] - stats.mean[g], bucketStd + eps);
  }
  return out;
}

function summarise(
  labels: readonly (string | number)[],
  bucketOf: Int32Array,
  score: Float64Array,
  pooled: { std: Float64Array; rewards: Int32Array },
): BucketSummary[] {
  return labels.map((bucket, b) => {
    let prompts = 0;
    let low = Infinity;
    let high = -Infinity;
    for (let g = 0; g < bucketOf.length; g++) {
      if (bucketOf[g] !== b) continue;
      prompts++;
      low = Math.min(low, score[g]);
      high = Math.max(high, score[g]);
    }
    return {
      bucket,
      prompts,
      pooledRewards: pooled.rewards[b],
      pooledStd: pooled.std[b],
      range: prompts > 0 ? [low, high] : [0, 0],
    };
  });
}

/**
 * Durian (Li et al. 2026, arXiv 2602.21743): difficulty-aware group normalization.
 * Prompts are re-grouped by perceptual difficulty (q25/q75 of visual entropy -> low/mid/high) and by
 * reasoning difficulty (b equal-frequency bins of confidence, capped so each bin holds at least
 * minPromptsPerBin prompts); each bucket pools its rewards into one unbiased std sigma_a, and
 * A = a_ori * A_grpo + a_perc * (r - mean_s)/(sigma_perc + eps) + a_reas * (r - mean_s)/(sigma_reas + eps).
 * A singleton prompt's shared-std terms are 0 (its own mean is its reward); its A_grpo term follows verl.
 * Spec: ../shared/docs/durian-method.md.
 */
export const durian: Estimator<DurianOptions> = {
  name: 'durian',
  summary: "Prompt-centred rewards divided by the std shared within difficulty buckets, mixed with GRPO's own-std term.",
  reference: 'Li et al. 2026, arXiv 2602.21743 (Durian)',
  needs: { visualEntropy: true, logprob: true },
  options: {
    eps: numberOption('Added to every std (GRPO term and pooled bucket stds).', 1e-6, EPS_RANGE),
    weights: tupleOption(
      'Weights [a_ori, a_perc, a_reas] of the GRPO, perceptual and reasoning terms; need not sum to 1.',
      DURIAN_DEFAULT_WEIGHTS,
      ['a_ori', 'a_perc', 'a_reas'],
      { min: 0, max: 1e6 },
    ),
    reasoningBins: numberOption('b: equal-frequency confidence bins (paper plateau 12-16).', 12, { min: 1, max: 4096, integer: true }),
    minPromptsPerBin: numberOption('Caps b so every reasoning bin holds at least this many prompts.', 2, { min: 1, max: 1024, integer: true }),
    maxPromptsPerBin: numberOption(
      'Raises b so no reasoning bin holds more than this many prompts (bins then stay fine-grained as the batch grows); 0: no cap. minPromptsPerBin wins when both cannot hold.',
      0,
      { min: 0, max: 1024, integer: true },
    ),
    poolZeroVariance: booleanOption("Whether all-same prompts' rewards enter the pooled stds (the paper's literal pooling).", true),
    confidence: choiceOption("A prompt's confidence: mean or sum of its rollouts' mean token log-probs.", 'mean', ['mean', 'sum'] as const),
  },
  compute(batch, options) {
    const visualEntropy = batch.visualEntropy as Float64Array;
    const logprob = batch.logprob as Float64Array;
    const stats = computeGroupStats(batch);
    const prompts = batch.groups.length;

    const entropyOf = new Float64Array(prompts);
    const confidenceOf = new Float64Array(prompts);
    for (let g = 0; g < prompts; g++) {
      const members = batch.groups[g].members;
      let total = 0;
      for (const s of members) total += logprob[s];
      entropyOf[g] = visualEntropy[members[0]];
      confidenceOf[g] = options.confidence === 'sum' ? total : total / members.length;
    }

    const perceptualOf = perceptualBuckets(entropyOf);
    const bins = effectiveReasoningBins(prompts, options.reasoningBins, options.minPromptsPerBin, options.maxPromptsPerBin);
    const reasoningOf = rankBins(confidenceOf, bins);
    const perceptualPool = pooledStds(batch, stats, perceptualOf, 3, options.poolZeroVariance);
    const reasoningPool = pooledStds(batch, stats, reasoningOf, bins, options.poolZeroVariance);

    const grpoTerm = grpoAdvantages(batch, stats, options.eps);
    const perceptualTerm = sharedStdAdvantages(batch, stats, perceptualOf, perceptualPool.std, options.eps);
    const reasoningTerm = sharedStdAdvantages(batch, stats, reasoningOf, reasoningPool.std, options.eps);
    const [aOri, aPerc, aReas] = options.weights;
    const advantages = new Float64Array(batch.size);
    for (let s = 0; s < batch.size; s++) {
      advantages[s] = aOri * grpoTerm[s] + aPerc * perceptualTerm[s] + aReas * reasoningTerm[s];
    }

    const promptRows: DurianPrompt[] = batch.groups.map((group, g) => ({
      id: group.id,
      visualEntropy: entropyOf[g],
      confidence: confidenceOf[g],
      perceptualBucket: PERCEPTUAL_BUCKETS[perceptualOf[g]],
      reasoningBin: reasoningOf[g],
      mean: stats.mean[g],
      std: stats.std[g],
      zeroVariance: stats.zeroVariance[g] === 1,
      perceptualPooledStd: perceptualPool.std[perceptualOf[g]],
      reasoningPooledStd: reasoningPool.std[reasoningOf[g]],
    }));

    return {
      advantages,
      perSequence: { grpo: grpoTerm, perceptual: perceptualTerm, reasoning: reasoningTerm },
      explanation: {
        weights: { aOri, aPerc, aReas, sum: aOri + aPerc + aReas },
        reasoningBins: bins,
        prompts: promptRows,
        buckets: {
          perceptual: summarise(PERCEPTUAL_BUCKETS, perceptualOf, entropyOf, perceptualPool),
          reasoning: summarise(
            Array.from({ length: bins }, (_, b) => b),
            reasoningOf,
            confidenceOf,
            reasoningPool,
          ),
        },
      },
    };
  },
};
