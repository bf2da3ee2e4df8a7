"""Durian (Li et al. 2026, arXiv 2602.21743): difficulty-aware group normalization (src/core durian.ts).

Prompts are re-grouped by perceptual difficulty (q25/q75 of visual entropy -> low/mid/high) and by reasoning
difficulty (b equal-frequency bins of confidence, capped so each bin holds at least minPromptsPerBin prompts);
each bucket pools its rewards into one unbiased std sigma_a, and
A = a_ori * A_grpo + a_perc * (r - mean_s)/(sigma_perc + eps) + a_reas * (r - mean_s)/(sigma_reas + eps).
A singleton prompt's shared-std terms are 0 (its own mean is its reward); its A_grpo term follows verl.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..batch import PreparedBatch
from ..binning import PERCEPTUAL_BUCKETS, effective_reasoning_bins, perceptual_buckets, rank_bins
from ..options import boolean_option, choice_option, number_option, tuple_option
from ..stats import divide_by_std, pooled_unbiased_std
from .group_stats import GroupStats, compute_group_stats
from .grpo import EPS_RANGE, grpo_advantages
from .types import Estimator, EstimatorOutput

DEFAULT_WEIGHTS = [0.1, 0.2, 0.7]


def _pooled_stds(batch: PreparedBatch, stats: GroupStats, bucket_of: np.ndarray, buckets: int,
                 pool_zero_variance: bool) -> tuple[np.ndarray, np.ndarray]:
    """sigma_a per bucket: unbiased std of all rewards of its prompts, pooled group by group as the TypeScript
    does (0 when fewer than two rewards). Returns (std, rewards pooled) per bucket."""
    pool_of_group = bucket_of if pool_zero_variance else np.where(stats.zero_variance, -1, bucket_of)
    order = batch.group_major
    return pooled_unbiased_std(batch.scores[order], pool_of_group[batch.group_of[order]], buckets)


def _shared_std_advantages(batch: PreparedBatch, stats: GroupStats, bucket_of: np.ndarray, sigma: np.ndarray,
                           eps: float) -> np.ndarray:
    """(r - mean_s) / (sigma_bucket + eps), 0 for zero-variance prompts and zero-std buckets."""
    g = batch.group_of
    bucket_std = sigma[bucket_of[g]]
    value = divide_by_std(batch.scores - stats.mean[g], bucket_std + eps)
    return np.where(stats.zero_variance[g] | (bucket_std == 0), 0.0, value)


def _summarise(labels: Sequence[Any], bucket_of: np.ndarray, score: np.ndarray, std: np.ndarray,
               rewards: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    for b, label in enumerate(labels):
        inside = score[bucket_of == b]
        rows.append({
            "bucket": label,
            "prompts": int(len(inside)),
            "pooledRewards": int(rewards[b]),
            "pooledStd": float(std[b]),
            "range": [float(inside.min()), float(inside.max())] if len(inside) else [0.0, 0.0],
        })
    return rows


def _durian(batch: PreparedBatch, options: dict[str, Any]) -> EstimatorOutput:
    stats = compute_group_stats(batch)
    prompts = batch.group_count
    entropy_of = batch.visual_entropy[batch.first_member]
    total = np.bincount(batch.group_of, weights=batch.logprob, minlength=prompts)
    confidence_of = total if options["confidence"] == "sum" else total / stats.size

    perceptual_of = perceptual_buckets(entropy_of)
    bins = effective_reasoning_bins(prompts, options["reasoningBins"], options["minPromptsPerBin"])
    reasoning_of = rank_bins(confidence_of, bins)
    perceptual_std, perceptual_rewards = _pooled_stds(batch, stats, perceptual_of, 3, options["poolZeroVariance"])
    reasoning_std, reasoning_rewards = _pooled_stds(batch, stats, reasoning_of, bins, options["poolZeroVariance"])

    eps = options["eps"]
    grpo_term = grpo_advantages(batch, stats, eps)
    perceptual_term = _shared_std_advantages(batch, stats, perceptual_of, perceptual_std, eps)
    reasoning_term = _shared_std_advantages(batch, stats, reasoning_of, reasoning_std, eps)
    a_ori, a_perc, a_reas = options["weights"]
    advantages = a_ori * grpo_term + a_perc * perceptual_term + a_reas * reasoning_term

    prompt_rows = [
        {
            "id": batch.group_ids[g],
            "visualEntropy": float(entropy_of[g]),
            "confidence": float(confidence_of[g]),
            "perceptualBucket": PERCEPTUAL_BUCKETS[perceptual_of[g]],
            "reasoningBin": int(reasoning_of[g]),
            "mean": float(stats.mean[g]),
            "std": float(stats.std[g]),
            "zeroVariance": bool(stats.zero_variance[g]),
            "perceptualPooledStd": float(perceptual_std[perceptual_of[g]]),
            "reasoningPooledStd": float(reasoning_std[reasoning_of[g]]),
        }
        for g in range(prompts)
    ]
    return EstimatorOutput(
        advantages,
        per_sequence={"grpo": grpo_term, "perceptual": perceptual_term, "reasoning": reasoning_term},
        explanation={
            "weights": {"aOri": a_ori, "aPerc": a_perc, "aReas": a_reas, "sum": a_ori + a_perc + a_reas},
            "reasoningBins": bins,
            "prompts": prompt_rows,
            "buckets": {
                "perceptual": _summarise(PERCEPTUAL_BUCKETS, perceptual_of, entropy_of, perceptual_std, perceptual_rewards),
                "reasoning": _summarise(list(range(bins)), reasoning_of, confidence_of, reasoning_std, reasoning_rewards),
            },
        },
    )


DURIAN = Estimator(
    name="durian",
    summary="Prompt-centred rewards divided by the std shared within difficulty buckets, mixed with GRPO's own-std term.",
    reference="Li et al. 2026, arXiv 2602.21743 (Durian)",
    options={
        "eps": number_option("Added to every std (GRPO term and pooled bucket stds).", 1e-6, **EPS_RANGE),
        "weights": tuple_option(
            "Weights [a_ori, a_perc, a_reas] of the GRPO, perceptual and reasoning terms; need not sum to 1.",
            DEFAULT_WEIGHTS, ("a_ori", "a_perc", "a_reas"), 0.0, 1e6,
        ),
        "reasoningBins": number_option("b: equal-frequency confidence bins (paper plateau 12-16).", 12, 1, 4096, integer=True),
        "minPromptsPerBin": number_option("Caps b so every reasoning bin holds at least this many prompts.", 2, 1, 1024, integer=True),
        "poolZeroVariance": boolean_option("Whether all-same prompts' rewards enter the pooled stds (the paper's literal pooling).", True),
        "confidence": choice_option("A prompt's confidence: mean or sum of its rollouts' mean token log-probs.", "mean", ("mean", "sum")),
    },
    compute=_durian,
    needs_visual_entropy=True,
    needs_logprob=True,
)
