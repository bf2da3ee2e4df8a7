"""Batch-global advantages under data-parallel training (torch.distributed). Durian's buckets, bins and pooled
stds are statistics of the whole batch, so each rank's rollouts cannot be scored alone: every rank gathers the
rewards, group ids, visual entropies and confidences of all ranks (ranks may hold different numbers of
sequences), computes the advantages of the whole batch with `durian_rl.estimators` (float64, the same numbers on
every rank) and keeps its own slice.

    result = global_advantages("durian", index=uids, scores=rewards, visual_entropy=entropy, logprob=confidence,
                               options={"weights": [0.1, 0.2, 0.7]})
    local_advantages = result.local_advantages          # one per local sequence, float64 numpy

The batch is ordered rank 0's sequences first, then rank 1's, ...: the same as a single process would see them
concatenated in that order, so 2 ranks give exactly the numbers of 1 rank on the same batch. A prompt's rollouts
may be split across ranks (its group is the same on every rank). Works with any backend (gloo on CPU, NCCL on
GPU): numbers travel as float64 tensors on `device`, group ids through `all_gather_object`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.distributed as dist

from .estimators import AdvantageResult, compute_advantages

@dataclass
class GlobalAdvantages:
    #: Advantages of this rank's sequences, in their local order.
    local_advantages: np.ndarray
    #: Whether each local sequence takes part in the update.
    local_kept: np.ndarray
    #: The whole batch's result (identical on every rank), for logging from rank 0.
    result: AdvantageResult
    #: Where this rank's sequences lie in the global batch: [start, stop).
    start: int
    stop: int


def _as_float64(values: Any, name: str, size: int) -> torch.Tensor:
    array = values.detach().to("cpu", torch.float64).numpy() if isinstance(values, torch.Tensor) else np.asarray(values, dtype=np.float64)
    if array.shape != (size,):
        raise ValueError(f"{name} must hold one number per local sequence ({size}), got shape {tuple(array.shape)}")
    return torch.from_numpy(np.ascontiguousarray(array))


def gather_variable(local: torch.Tensor, counts: Sequence[int], group: Any = None) -> torch.Tensor:
    """Concatenation over ranks (in rank order) of each rank's 1-D tensor, whose lengths are `counts`."""
    longest = max(counts) if counts else 0
    padded = torch.zeros(longest, dtype=local.dtype, device=local.device)
    padded[: local.numel()] = local
    parts = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(parts, padded, group=group)
    return torch.cat([part[:count] for part, count in zip(parts, counts)])


def global_advantages(estimator: str, *, index: Sequence[Any], scores: Any, visual_entropy: Any = None, logprob: Any = None,
                      lengths: Any = None, accuracy: Any = None, group_weights: Optional[Mapping[str, float]] = None,
                      options: Any = None, group: Any = None, device: Any = "cpu") -> GlobalAdvantages:
    """All-gathers this rank's sequences, computes `estimator`'s advantages over the whole batch and returns this
    rank's slice. Call it on every rank of `group` (a collective). `group_weights` (promptId -> weight) must be the
    same on every rank (the run's interventions). Without an initialised process group it computes on the local
    batch alone (one process)."""
    ids = [str(value) for value in index]
    size = len(ids)
    local: dict[str, torch.Tensor] = {"scores": _as_float64(scores, "scores", size)}
    for name, values in (("lengths", lengths), ("visualEntropy", visual_entropy), ("logprob", logprob), ("accuracy", accuracy)):
        if values is not None:
            local[name] = _as_float64(values, name, size)

    if dist.is_available() and dist.is_initialized():
        world = dist.get_world_size(group)
        rank = dist.get_rank(group)
        # Every rank must send the same fields, or the collectives would not pair up.
        shapes: list[Any] = [None] * world
        dist.all_gather_object(shapes, (size, sorted(local)), group=group)
        fields = shapes[0][1]
        for other_rank, (_, other_fields) in enumerate(shapes):
            if other_fields != fields:
                raise ValueError(f"rank {other_rank} sends the fields {other_fields}, rank 0 sends {fields}: every rank must pass the same signals")
        counts = [count for count, _ in shapes]
        all_ids: list[Any] = [None] * world
        dist.all_gather_object(all_ids, ids, group=group)
        global_ids = [identifier for part in all_ids for identifier in part]
        gathered = {name: gather_variable(local[name].to(device), counts, group).cpu().numpy() for name in fields}
        start = sum(counts[:rank])
    else:
        global_ids, gathered, start = ids, {name: tensor.numpy() for name, tensor in local.items()}, 0

    batch: dict[str, Any] = {"index": global_ids, **{name: values.tolist() for name, values in gathered.items()}}
    if group_weights:
        batch["groupWeights"] = dict(group_weights)
    result = compute_advantages(estimator, batch, options)
    stop = start + size
    return GlobalAdvantages(result.advantages[start:stop].copy(), result.kept[start:stop].copy(), result, start, stop)
