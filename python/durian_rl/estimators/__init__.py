"""The advantage estimators by name (as verl's ADV_ESTIMATOR_REGISTRY and src/core/estimators/registry.ts), and
`compute_advantages`, the one entry point: it validates the batch and options, applies relabels, drops groups
excluded by weight 0 or by the band filter, runs the estimator on the rest, and scales each prompt's advantages
by its weight. Same numbers as src/core (the tests compare against `durian advantages` in the same run)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import numpy as np

from ..batch import PreparedBatch, prepare_batch, select_groups
from ..errors import DurianInputError, describe_value
from ..options import BAND, parse_options
from .band import band_keeps
from .batch_std import BATCH_STD
from .dr_grpo import DR_GRPO
from .durian import DEFAULT_WEIGHTS, DURIAN
from .grpo import GRPO, grpo_advantages
from .rloo import RLOO
from .types import Estimator, EstimatorOutput

ESTIMATORS: Mapping[str, Estimator] = {e.name: e for e in (GRPO, DR_GRPO, RLOO, BATCH_STD, DURIAN)}
ESTIMATOR_NAMES = tuple(ESTIMATORS)


def get_estimator(name: Any) -> Estimator:
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise DurianInputError("estimator", f"unknown estimator {describe_value(name)} (known: {', '.join(ESTIMATOR_NAMES)})")
    return ESTIMATORS[name]


def parse_estimator_options(estimator: Estimator, raw: Any) -> tuple[Optional[tuple[float, float]], dict[str, Any]]:
    """(band, the estimator's own options), both validated, defaults filled in."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise DurianInputError("options", f"must be an object, got {describe_value(raw)}")
    own = {key: value for key, value in raw.items() if key != "band"}
    band = parse_options({"band": BAND}, {"band": raw["band"]} if "band" in raw else {}, "options", "every estimator")["band"]
    return band, parse_options(estimator.options, own, "options", f"estimator {estimator.name} (or common: band)")


@dataclass
class AdvantageResult:
    estimator: str
    #: One advantage per sequence, in input order (0 for dropped groups).
    advantages: np.ndarray
    #: Rewards after relabels.
    scores: np.ndarray
    #: Whether each sequence takes part in the update.
    kept: np.ndarray
    groups: list[dict[str, Any]]
    #: The estimator's further per-sequence arrays (unweighted), in input order.
    per_sequence: dict[str, np.ndarray] = field(default_factory=dict)
    explanation: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The output line of `durian advantages` for this batch (src/core resultToJson)."""
        out: dict[str, Any] = {
            "advantages": self.advantages.tolist(),
            "estimator": self.estimator,
            "kept": self.kept.tolist(),
            "groups": self.groups,
        }
        if self.per_sequence:
            out["components"] = {key: values.tolist() for key, values in self.per_sequence.items()}
        out.update(self.explanation)
        return out


def compute_advantages(name: str, batch: Mapping[str, Any], options: Any = None) -> AdvantageResult:
    """Advantages of one batch (a mapping with the JSON Lines field names: index, scores, lengths, visualEntropy,
    logprob, accuracy, groupWeights, relabels) under the named estimator and options."""
    estimator = get_estimator(name)
    band, own = parse_estimator_options(estimator, options)
    prepared: PreparedBatch = prepare_batch(batch, estimator.needs_visual_entropy, estimator.needs_logprob)

    in_band = band_keeps(prepared, band)
    sizes = prepared.group_sizes()
    groups: list[dict[str, Any]] = []
    for g, identifier in enumerate(prepared.group_ids):
        weight = float(prepared.weights[g])
        dropped = "weight" if weight == 0 else (None if in_band[g] else "band")
        row: dict[str, Any] = {"id": identifier, "size": int(sizes[g]), "weight": weight, "kept": dropped is None}
        if dropped:
            row["dropped"] = dropped
        groups.append(row)
    keep = [g for g, row in enumerate(groups) if row["kept"]]

    advantages = np.zeros(prepared.size)
    kept = np.zeros(prepared.size, dtype=bool)
    per_sequence: dict[str, np.ndarray] = {}
    explanation: dict[str, Any] = {}
    if len(keep) == prepared.group_count:
        output = estimator.compute(prepared, own)
        advantages = output.advantages * prepared.weights[prepared.group_of]
        kept[:] = True
        per_sequence = dict(output.per_sequence)
        explanation = output.explanation
    elif keep:
        subset, sequences = select_groups(prepared, keep)
        output = estimator.compute(subset, own)
        advantages[sequences] = output.advantages * subset.weights[subset.group_of]
        kept[sequences] = True
        for key, values in output.per_sequence.items():
            full = np.zeros(prepared.size)
            full[sequences] = values
            per_sequence[key] = full
        explanation = output.explanation
    return AdvantageResult(name, advantages, prepared.scores, kept, groups, per_sequence, explanation)


def advantages_for_line(line: str, line_number: int) -> dict[str, Any]:
    """One line of `durian advantages` input -> its output object (or {"error": "line N: ..."}); never raises
    for bad input."""
    try:
        parsed = json.loads(line)
    except ValueError as error:
        return {"error": f"line {line_number}: invalid JSON ({error})"}
    if not isinstance(parsed, dict):
        return {"error": f'line {line_number}: expected a JSON object {{"estimator", "index", "scores", ...}}'}
    estimator = parsed.pop("estimator", None)
    options = parsed.pop("options", None)
    try:
        if estimator is None:
            raise DurianInputError("estimator", f"is missing (known: {', '.join(ESTIMATOR_NAMES)})")
        return compute_advantages(estimator, parsed, options).to_json()
    except DurianInputError as error:
        return {"error": f"line {line_number}: {error}"}


__all__ = [
    "AdvantageResult",
    "DEFAULT_WEIGHTS",
    "ESTIMATORS",
    "ESTIMATOR_NAMES",
    "Estimator",
    "EstimatorOutput",
    "advantages_for_line",
    "compute_advantages",
    "get_estimator",
    "grpo_advantages",
    "parse_estimator_options",
]
