"""RLOO (Ahmadian et al. 2024): each reward minus the mean of the OTHER samples of its group,
= (r - mean_s) * n / (n - 1); a singleton keeps its raw score. verl compute_rloo_outcome_advantage."""
from __future__ import annotations

import numpy as np

from ..batch import PreparedBatch
from .group_stats import compute_group_stats
from .types import Estimator, EstimatorOutput


def _rloo(batch: PreparedBatch, options: dict) -> EstimatorOutput:
    stats = compute_group_stats(batch)
    g = batch.group_of
    n = stats.size[g].astype(float)
    loo = (batch.scores - stats.mean[g]) * n / np.maximum(n - 1, 1)
    return EstimatorOutput(np.where(n == 1, batch.scores, np.where(stats.zero_variance[g], 0.0, loo)))


RLOO = Estimator(
    name="rloo",
    summary="Leave-one-out baseline: each reward minus the mean of the other rollouts of its prompt.",
    reference="Ahmadian et al. 2024 (RLOO); verl core_algos.compute_rloo_outcome_advantage",
    options={},
    compute=_rloo,
)
