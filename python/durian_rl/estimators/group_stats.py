"""Per-group statistics most estimators start from (src/core/estimators/groupStats.ts)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..batch import PreparedBatch
from ..stats import pooled_unbiased_std


@dataclass
class GroupStats:
    size: np.ndarray
    mean: np.ndarray
    #: Unbiased std; 0 for singletons and zero-variance groups.
    std: np.ndarray
    #: True when every reward of the group is equal (singletons included).
    zero_variance: np.ndarray


def compute_group_stats(batch: PreparedBatch) -> GroupStats:
    groups = batch.group_count
    size = batch.group_sizes()
    # bincount adds in batch order, as the TypeScript loops over a group's members do.
    mean = np.bincount(batch.group_of, weights=batch.scores, minlength=groups) / size
    std, _ = pooled_unbiased_std(batch.scores, batch.group_of, groups)
    first = batch.scores[batch.first_member][batch.group_of]
    zero_variance = np.bincount(batch.group_of, weights=(batch.scores != first).astype(float), minlength=groups) == 0
    return GroupStats(size=size, mean=mean, std=std, zero_variance=zero_variance)


def centred_scores(batch: PreparedBatch, stats: GroupStats) -> np.ndarray:
    """Rewards minus their group mean, with verl's singleton rule (a lone sequence keeps its raw score) and
    exact zeros for zero-variance groups."""
    g = batch.group_of
    return np.where(stats.size[g] == 1, batch.scores, np.where(stats.zero_variance[g], 0.0, batch.scores - stats.mean[g]))
