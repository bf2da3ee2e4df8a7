"""Batch-std baseline (verl's REINFORCE++-baseline, Hu et al. 2025; src/core batchStd.ts): a_i = r_i - group mean
(a singleton keeps r_i), spread over the sequence's valid tokens, then whitened over ALL valid tokens of the
batch: mu = sum/N, var = sum (a - mu)^2 / (N - 1), A = (a - mu) / sqrt(var + 1e-8); the mean is not added back.
Sequences with no valid token get 0."""
from __future__ import annotations

import math

import numpy as np

from ..batch import PreparedBatch
from ..errors import DurianInputError
from ..stats import sequential_sum
from .group_stats import centred_scores, compute_group_stats
from .types import Estimator, EstimatorOutput

#: verl's masked_whiten epsilon (inside the square root).
WHITEN_EPS = 1e-8


def _batch_std(batch: PreparedBatch, options: dict) -> EstimatorOutput:
    centred = centred_scores(batch, compute_group_stats(batch))
    tokens = sequential_sum(batch.lengths)
    if tokens < 2:
        raise DurianInputError(
            "lengths",
            f"batch_std whitens over all valid tokens and needs at least 2, but the batch has {tokens:g} "
            "(verl rejects this case too)",
        )
    mu = sequential_sum(batch.lengths * centred) / tokens
    variance = (sequential_sum(batch.lengths * (centred - mu) ** 2) / tokens) * (tokens / (tokens - 1))
    inverse_std = 1 / math.sqrt(variance + WHITEN_EPS)
    advantages = np.where(batch.lengths > 0, (centred - mu) * inverse_std, 0.0)
    return EstimatorOutput(advantages, explanation={"tokens": tokens, "tokenMean": mu, "tokenStd": math.sqrt(variance)})


BATCH_STD = Estimator(
    name="batch_std",
    summary="Group-mean baseline, then whitened by the std of the whole batch over valid tokens.",
    reference="Hu et al. 2025 (REINFORCE++); verl compute_reinforce_plus_plus_baseline_outcome_advantage",
    options={},
    compute=_batch_std,
)
