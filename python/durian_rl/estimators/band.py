"""Band filter (DAPO dynamic sampling, Yu et al. 2025; EasyR1 online filtering; src/core band.ts): keep a group
only when the mean accuracy of its rollouts lies in [low, high] (inclusive)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..batch import PreparedBatch


def band_keeps(batch: PreparedBatch, band: Optional[tuple[float, float]]) -> np.ndarray:
    """Whether each group is kept."""
    if band is None:
        return np.ones(batch.group_count, dtype=bool)
    accuracy = np.bincount(batch.group_of, weights=batch.accuracy, minlength=batch.group_count) / batch.group_sizes()
    return (accuracy >= band[0]) & (accuracy <= band[1])
