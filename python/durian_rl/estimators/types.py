"""What every advantage estimator is (src/core/estimators/types.ts): a named function from a prepared batch to
one advantage per sequence, with its options and what it needs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..batch import PreparedBatch
from ..options import Option


@dataclass
class EstimatorOutput:
    #: One advantage per sequence of the batch.
    advantages: np.ndarray
    #: Further per-sequence arrays that explain the result (e.g. Durian's three components).
    per_sequence: dict[str, np.ndarray] = field(default_factory=dict)
    #: Prompt- and bucket-level explanation, JSON-serialisable.
    explanation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Estimator:
    name: str
    summary: str
    reference: str
    options: Mapping[str, Option]
    compute: Callable[[PreparedBatch, dict[str, Any]], EstimatorOutput]
    needs_visual_entropy: bool = False
    needs_logprob: bool = False
