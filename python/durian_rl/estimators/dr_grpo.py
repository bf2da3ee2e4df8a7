"""Dr. GRPO (Liu et al. 2025): A = r - mean_s, no division by the group std; a singleton keeps its raw score.
verl compute_grpo_outcome_advantage(norm_adv_by_std_in_grpo=False) (src/core drGrpo.ts)."""
from __future__ import annotations

from .group_stats import centred_scores, compute_group_stats
from .types import Estimator, EstimatorOutput

DR_GRPO = Estimator(
    name="dr_grpo",
    summary="Group-relative advantage without std normalisation: each reward minus its prompt's mean.",
    reference="Liu et al. 2025 (Dr. GRPO); verl compute_grpo_outcome_advantage(norm_adv_by_std_in_grpo=False)",
    options={},
    compute=lambda batch, options: EstimatorOutput(centred_scores(batch, compute_group_stats(batch))),
)
