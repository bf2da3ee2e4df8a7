"""Float64 statistics in the exact summation order of src/core/stats.ts (sequential sums, max-abs scaling),
so that group means and stds agree with the TypeScript maths to the last bit in most cases."""
from __future__ import annotations

import numpy as np


def sequential_sum(values: np.ndarray) -> float:
    """Left-to-right sum (numpy's own sum is pairwise, i.e. rounds differently from the TypeScript loops)."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


def pooled_unbiased_std(values: np.ndarray, pool_of: np.ndarray, pools: int) -> tuple[np.ndarray, np.ndarray]:
    """Unbiased (n - 1) std of the values of each pool (`pool_of[i]` in [0, pools), or -1 for none), two-pass on
    values scaled by the pool's largest magnitude; 0 for pools of fewer than two values or of identical values.
    Values enter each pool in the order given. Returns (std, count) per pool."""
    member = pool_of >= 0
    v = values[member]
    p = pool_of[member]
    count = np.bincount(p, minlength=pools)
    std = np.zeros(pools)
    if len(v) == 0:
        return std, count
    first = np.full(pools, np.nan)
    present, first_position = np.unique(p, return_index=True)  # the first value of each pool, in order
    first[present] = v[first_position]
    differs = np.bincount(p, weights=(v != first[p]).astype(float), minlength=pools) > 0
    scale = np.zeros(pools)
    np.maximum.at(scale, p, np.abs(v))
    varied = differs & (count >= 2)
    safe_scale = np.where(varied, scale, 1.0)
    scaled = v / safe_scale[p]
    mean = np.bincount(p, weights=scaled, minlength=pools) / np.maximum(count, 1)
    squares = np.bincount(p, weights=(scaled - mean[p]) ** 2, minlength=pools)
    std[varied] = np.sqrt(squares[varied] / (count[varied] - 1)) * scale[varied]
    return std, count


def divide_by_std(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, or 0 where the denominator is not positive (a zero std)."""
    positive = denominator > 0
    return np.where(positive, numerator / np.where(positive, denominator, 1.0), 0.0)
