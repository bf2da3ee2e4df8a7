"""The input every advantage estimator shares, its validation and its grouping by prompt: the twin of
src/core/batch.ts, with the same field names as `durian advantages`' JSON Lines (one vocabulary).

One entry per sequence (rollout): `index` (the prompt it answers, verl's name), `scores` (its reward), `lengths`
(valid response tokens, default 1), `visualEntropy` and `logprob` (durian), `accuracy` (band filter, default the
scores). Interventions travel with the batch: `relabels` replace rewards before any maths, `groupWeights` scale a
prompt's final advantages (0 excludes the prompt from the maths entirely).
"""
from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import numpy as np

from .errors import DurianInputError, describe_value

#: Rewards and other per-sequence numbers must lie within this magnitude (squares stay finite).
MAX_MAGNITUDE = 1e150

BATCH_FIELDS = ("index", "scores", "lengths", "visualEntropy", "logprob", "accuracy", "groupWeights", "relabels")


@dataclass
class PreparedBatch:
    """A validated batch with relabels applied, ready for the estimators (float64 throughout)."""

    size: int
    ids: list[str]
    scores: np.ndarray
    lengths: np.ndarray
    accuracy: np.ndarray
    visual_entropy: Optional[np.ndarray]
    logprob: Optional[np.ndarray]
    #: Prompt ids in order of first appearance.
    group_ids: list[str]
    #: Group position of each sequence.
    group_of: np.ndarray
    #: Weight of each group (1 unless set).
    weights: np.ndarray
    #: Positions of the first sequence of each group.
    first_member: np.ndarray = field(init=False)
    #: Sequences ordered group by group (members in batch order): the order the TypeScript pools rewards in.
    group_major: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.group_major = np.argsort(self.group_of, kind="stable")
        # Every group has a member, so the first occurrences come out in group order.
        self.first_member = np.unique(self.group_of, return_index=True)[1].astype(np.int64)

    @property
    def group_count(self) -> int:
        return len(self.group_ids)

    def group_sizes(self) -> np.ndarray:
        return np.bincount(self.group_of, minlength=self.group_count)


def _is_number(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def _to_float(value: Any) -> float:
    """The number as a float (inf beyond the float range, as JSON.parse reads it), NaN for a non-number."""
    if not _is_number(value):
        return np.nan
    try:
        return float(value)
    except OverflowError:
        return np.inf if value > 0 else -np.inf


def _as_list(raw: Any) -> Optional[list]:
    """A per-sequence array as a Python list (lists, tuples, numpy arrays, torch tensors), or None."""
    if isinstance(raw, (list, tuple)):
        return list(raw)
    if isinstance(raw, np.ndarray):
        return raw.tolist() if raw.ndim == 1 else None
    if type(raw).__module__.startswith("torch") and hasattr(raw, "detach"):
        tensor = raw.detach().cpu()
        return tensor.tolist() if tensor.dim() == 1 else None
    return None


def _numeric_array(raw: Any) -> Optional[np.ndarray]:
    """A 1-D numeric numpy array or torch tensor as float64 (no per-element type checks needed), else None."""
    if isinstance(raw, np.ndarray) and raw.ndim == 1 and raw.dtype.kind in "iuf":
        return raw.astype(np.float64)
    if type(raw).__module__.startswith("torch") and hasattr(raw, "detach") and raw.dim() == 1 and raw.is_floating_point():
        return raw.detach().cpu().double().numpy()
    return None


def finite_array(raw: Any, name: str, expected_length: int, whole_nonnegative: bool = False) -> np.ndarray:
    """A per-sequence array of finite numbers within ±MAX_MAGNITUDE, one per sequence (whole numbers >= 0 when
    `whole_nonnegative`, for token counts). The error names the first bad position, as the TypeScript does."""
    out = _numeric_array(raw)
    values: Optional[list] = None
    if out is None:
        values = _as_list(raw)
        if values is None:
            raise DurianInputError(name, f"must be an array of numbers, got {describe_value(raw)}")
        out = np.array([_to_float(v) for v in values], dtype=np.float64)
    if len(out) != expected_length:
        raise DurianInputError(name, f"has {len(out)} entries but index has {expected_length} (one per sequence)")
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(out)
        too_big = np.abs(out) > MAX_MAGNITUDE
        not_tokens = ((out < 0) | (out != np.floor(out))) if whole_nonnegative else np.zeros(len(out), dtype=bool)
    bad = np.nonzero(~finite | too_big | not_tokens)[0]
    if len(bad):
        i = int(bad[0])
        if not finite[i]:
            shown = values[i] if values is not None else float(out[i])
            raise DurianInputError(f"{name}[{i}]", f"must be a finite number, got {describe_value(shown)}")
        if too_big[i]:
            raise DurianInputError(f"{name}[{i}]", f"{out[i]!r} is outside the supported range ±{MAX_MAGNITUDE:g}")
        raise DurianInputError(f"{name}[{i}]", f"must be a whole number of valid tokens >= 0, got {out[i]:g}")
    return out


def prompt_id(value: Any, where: str) -> str:
    """A prompt id as the TypeScript keys it: strings as they are, whole numbers as their decimal text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    if _is_number(value) and float(value).is_integer():
        return str(int(value))
    raise DurianInputError(where, f"must be a string or an integer prompt id, got {describe_value(value)}")


def group_by_prompt(ids: list[str]) -> tuple[list[str], np.ndarray]:
    """Prompt ids in order of first appearance, and the group position of each sequence."""
    position: dict[str, int] = {}
    group_of = np.empty(len(ids), dtype=np.int64)
    for i, identifier in enumerate(ids):
        group_of[i] = position.setdefault(identifier, len(position))
    return list(position), group_of


def _relabel_parts(relabel: Any) -> tuple[Any, Any]:
    if isinstance(relabel, Mapping):
        return relabel.get("sequence"), relabel.get("score")
    if isinstance(relabel, (list, tuple)) and len(relabel) == 2:
        return relabel[0], relabel[1]
    return None, None


def prepare_batch(batch: Mapping[str, Any], needs_visual_entropy: bool = False, needs_logprob: bool = False) -> PreparedBatch:
    """Validates a batch (a mapping with the JSON Lines field names) and applies its relabels. Raises
    DurianInputError naming the field and position of the first problem."""
    if not isinstance(batch, Mapping):
        raise DurianInputError("batch", f"must be an object, got {describe_value(batch)}")
    raw_index = _as_list(batch.get("index"))
    if raw_index is None:
        raise DurianInputError("index", f"must be an array of prompt ids, got {describe_value(batch.get('index'))}")
    if len(raw_index) == 0:
        raise DurianInputError("index", "the batch is empty: at least one sequence is needed")
    size = len(raw_index)
    ids = [prompt_id(value, f"index[{i}]") for i, value in enumerate(raw_index)]

    scores = finite_array(batch.get("scores"), "scores", size)

    lengths = np.ones(size) if batch.get("lengths") is None else finite_array(batch["lengths"], "lengths", size, True)
    accuracy = None if batch.get("accuracy") is None else finite_array(batch["accuracy"], "accuracy", size)
    entropy = None if batch.get("visualEntropy") is None else finite_array(batch["visualEntropy"], "visualEntropy", size)
    logprob = None if batch.get("logprob") is None else finite_array(batch["logprob"], "logprob", size)
    if needs_visual_entropy and entropy is None:
        raise DurianInputError("visualEntropy", "is required by this estimator (the image entropy of each sequence)")
    if needs_logprob and logprob is None:
        raise DurianInputError("logprob", "is required by this estimator (the mean token log-prob of each sequence)")

    relabels = batch.get("relabels")
    if relabels is not None:
        if not isinstance(relabels, (list, tuple)):
            raise DurianInputError("relabels", f"must be an array, got {describe_value(relabels)}")
        for k, relabel in enumerate(relabels):
            where = f"relabels[{k}]"
            if not isinstance(relabel, (Mapping, list, tuple)):
                raise DurianInputError(where, "must be {sequence, score}")
            sequence, score = _relabel_parts(relabel)
            if not _is_number(sequence) or not float(sequence).is_integer() or not 0 <= sequence < size:
                raise DurianInputError(
                    f"{where}.sequence", f"must be a sequence position in [0, {size - 1}], got {describe_value(sequence)}"
                )
            if not _is_number(score) or not np.isfinite(float(score)) or abs(float(score)) > MAX_MAGNITUDE:
                raise DurianInputError(f"{where}.score", f"must be a finite reward, got {describe_value(score)}")
            scores[int(sequence)] = float(score)

    group_ids, group_of = group_by_prompt(ids)
    prepared_weights = np.ones(len(group_ids))
    prepared = PreparedBatch(
        size=size,
        ids=ids,
        scores=scores,
        lengths=lengths,
        accuracy=scores if accuracy is None else accuracy,
        visual_entropy=entropy,
        logprob=logprob,
        group_ids=group_ids,
        group_of=group_of,
        weights=prepared_weights,
    )

    if entropy is not None:
        first = entropy[prepared.first_member][group_of]
        bad = np.nonzero(np.abs(entropy - first) > 1e-9 * np.maximum(1.0, np.abs(first)))[0]
        if len(bad):
            member = int(bad[0])
            g = int(group_of[member])
            head = int(prepared.first_member[g])
            raise DurianInputError(
                f"visualEntropy[{member}]",
                f"is {entropy[member]!r} but sequence {head} of the same prompt {json.dumps(group_ids[g])} has {entropy[head]!r}: "
                "one image entropy per prompt",
            )

    raw_weights = batch.get("groupWeights")
    if raw_weights is not None:
        if not isinstance(raw_weights, Mapping):
            raise DurianInputError("groupWeights", f"must be an object {{promptId: weight}}, got {describe_value(raw_weights)}")
        position = {identifier: g for g, identifier in enumerate(group_ids)}
        for identifier, weight in raw_weights.items():
            if not _is_number(weight) or not np.isfinite(float(weight)) or weight < 0 or weight > MAX_MAGNITUDE:
                raise DurianInputError(
                    f"groupWeights[{json.dumps(str(identifier))}]", f"must be a finite weight >= 0, got {describe_value(weight)}"
                )
            g = position.get(prompt_id(identifier, f"groupWeights[{json.dumps(str(identifier))}]"))
            if g is not None:
                prepared_weights[g] = float(weight)
    return prepared


def select_groups(batch: PreparedBatch, keep: list[int]) -> tuple[PreparedBatch, np.ndarray]:
    """The batch restricted to the given groups (positions into its groups, ascending), sequences group by
    group as src/core selectGroups orders them, and the position of each kept sequence in the full batch."""
    sequences = np.concatenate([np.nonzero(batch.group_of == g)[0] for g in keep]) if keep else np.zeros(0, dtype=np.int64)
    ids = [batch.ids[s] for s in sequences]
    group_ids, group_of = group_by_prompt(ids)

    def pick(values: Optional[np.ndarray]) -> Optional[np.ndarray]:
        return None if values is None else values[sequences]

    subset = PreparedBatch(
        size=len(sequences),
        ids=ids,
        scores=batch.scores[sequences],
        lengths=batch.lengths[sequences],
        accuracy=batch.accuracy[sequences],
        visual_entropy=pick(batch.visual_entropy),
        logprob=pick(batch.logprob),
        group_ids=group_ids,
        group_of=group_of,
        weights=batch.weights[np.asarray(keep, dtype=np.int64)],
    )
    return subset, sequences
