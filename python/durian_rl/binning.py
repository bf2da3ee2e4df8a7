"""Deterministic equal-frequency binning by rank (src/core/difficulty/binning.ts; spec "Regrouping"):
sort ascending by score, ties keep their input order, and the item at rank k of n goes to bin
floor(k * bins / n)."""
from __future__ import annotations

import numpy as np

from .errors import DurianInputError

PERCEPTUAL_BUCKETS = ("low", "mid", "high")


def rank_order(scores: np.ndarray) -> np.ndarray:
    """Positions of the items from the lowest score up; ties in input order (a stable sort)."""
    return np.argsort(np.asarray(scores, dtype=float), kind="stable")


def rank_bins(scores: np.ndarray, bins: int) -> np.ndarray:
    """Bin of each item (0 = lowest scores), bins >= 1."""
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise DurianInputError("bins", f"must be a whole number >= 1, got {bins}")
    n = len(scores)
    out = np.empty(n, dtype=np.int64)
    out[rank_order(scores)] = (np.arange(n, dtype=np.int64) * int(bins)) // max(n, 1)
    return out


def tied_rank_bins(scores: np.ndarray, bins: int) -> np.ndarray:
    """Bin of each item by its average rank (ties share one bin): a run of equal scores at ranks k..m (0-based)
    goes to bin floor(((k + m) / 2) * bins / n). Distinct scores get exactly rank_bins's bins."""
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise DurianInputError("bins", f"must be a whole number >= 1, got {bins}")
    values = np.asarray(scores, dtype=float)
    n = len(values)
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    order = rank_order(values)
    ordered = values[order]
    run = np.cumsum(np.concatenate(([True], ordered[1:] != ordered[:-1]))) - 1
    ranks = np.arange(n, dtype=np.int64)
    first = np.full(run[-1] + 1, n, dtype=np.int64)
    np.minimum.at(first, run, ranks)
    last = np.zeros(run[-1] + 1, dtype=np.int64)
    np.maximum.at(last, run, ranks)
    out[order] = ((first[run] + last[run]) * int(bins)) // (2 * n)
    return out


def perceptual_buckets(visual_entropy: np.ndarray) -> np.ndarray:
    """Buckets at the 25th and 75th percentile of visual entropy (1:2:1): quarters by rank, the middle two
    merged; 0 = low entropy (visually easy), 1 = mid, 2 = high. Equal entropies share a bucket (the quarter of
    their average rank), so the same image never lands in two buckets; with ties the split is only close to 1:2:1."""
    quarters = tied_rank_bins(visual_entropy, 4)
    return np.where(quarters == 0, 0, np.where(quarters == 3, 2, 1))


def effective_reasoning_bins(prompts: int, reasoning_bins: int, min_prompts_per_bin: int) -> int:
    """b capped so every bin holds at least min_prompts_per_bin prompts."""
    return max(1, min(reasoning_bins, prompts // min_prompts_per_bin))
