"""GRPO (Shao et al. 2024): A = (r - mean_s) / (std_s + eps), std unbiased, eps added to the std; zero-variance
groups give exactly 0; a singleton gives r / (1 + eps). verl compute_grpo_outcome_advantage (src/core grpo.ts)."""
from __future__ import annotations

import numpy as np

from ..batch import PreparedBatch
from ..options import number_option
from ..stats import divide_by_std
from .group_stats import GroupStats, compute_group_stats
from .types import Estimator, EstimatorOutput

#: The range of `eps` wherever an estimator adds it to a std (grpo, durian).
EPS_RANGE = {"low": 0.0, "high": 1.0}


def grpo_advantages(batch: PreparedBatch, stats: GroupStats, eps: float) -> np.ndarray:
    g = batch.group_of
    own = divide_by_std(batch.scores - stats.mean[g], stats.std[g] + eps)
    return np.where(stats.size[g] == 1, batch.scores / (1 + eps), np.where(stats.zero_variance[g], 0.0, own))


GRPO = Estimator(
    name="grpo",
    summary="Group-relative advantage: each prompt's rewards minus their mean, divided by their own std + eps.",
    reference="Shao et al. 2024 (DeepSeekMath); verl core_algos.compute_grpo_outcome_advantage",
    options={"eps": number_option("Added to each group std (not inside a square root).", 1e-6, **EPS_RANGE)},
    compute=lambda batch, options: EstimatorOutput(grpo_advantages(batch, compute_group_stats(batch), options["eps"])),
)
