"""durian_rl.distributed: advantages computed batch-globally across data-parallel ranks (torch.distributed, gloo
on CPU, ranks spawned with torch.multiprocessing) equal those of one process on the same batch, each rank getting
its own slice, with ranks holding different numbers of sequences and prompts split across ranks."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from durian_rl import compute_advantages
from durian_rl.distributed import global_advantages

OPTIONS = {
    "durian": {"weights": [0.1, 0.2, 0.7], "reasoningBins": 3, "minPromptsPerBin": 2},
    "grpo": {"eps": 1e-6},
    "rloo": None,
}


def make_batch(seed: int = 7, prompts: int = 12, group: int = 4) -> dict[str, Any]:
    """A batch with ties, zero-variance groups and interleaved prompts."""
    rng = np.random.default_rng(seed)
    index = [f"p{p}" for p in range(prompts) for _ in range(group)]
    order = rng.permutation(len(index))
    entropy_of = {f"p{p}": float(rng.choice([1.0, 1.5, 2.25, 3.0])) for p in range(prompts)}
    scores = rng.choice([0.0, 0.5, 1.0], size=len(index), p=[0.45, 0.1, 0.45])
    scores[:group] = 1.0  # p0 all right: zero variance
    return {
        "index": [index[i] for i in order],
        "scores": [float(scores[i]) for i in order],
        "visualEntropy": [entropy_of[index[i]] for i in order],
        "logprob": [float(v) for v in np.round(rng.normal(-1.0, 0.4, size=len(index)), 1)],
        "groupWeights": {"p3": 0.5, "p5": 2.0},
    }


#: How the 48 sequences are split: rank 0 holds 17, rank 1 holds 31.
SPLIT = 17


def _rank(rank: int, world: int, init_file: str, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        batch = make_batch()
        bounds = [0, SPLIT, len(batch["index"])] if world == 2 else [0, len(batch["index"])]
        lo, hi = bounds[rank], bounds[rank + 1]
        results = {}
        for name, options in OPTIONS.items():
            got = global_advantages(
                name, index=batch["index"][lo:hi], scores=batch["scores"][lo:hi], visual_entropy=batch["visualEntropy"][lo:hi],
                logprob=batch["logprob"][lo:hi], group_weights=batch["groupWeights"], options=options)
            results[name] = {"advantages": got.local_advantages.tolist(), "kept": got.local_kept.tolist(), "start": got.start, "stop": got.stop}
        Path(out_dir, f"rank-{rank}.json").write_text(json.dumps(results))
    finally:
        dist.destroy_process_group()


def run_ranks(world: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as work:
        init_file = os.path.join(work, "init")
        mp.spawn(_rank, args=(world, init_file, work), nprocs=world, join=True)
        return [json.loads(Path(work, f"rank-{rank}.json").read_text()) for rank in range(world)]


@pytest.fixture(scope="module")
def two_ranks() -> list[dict[str, Any]]:
    return run_ranks(2)


@pytest.mark.parametrize("estimator", list(OPTIONS))
def test_two_ranks_give_the_one_process_advantages(two_ranks: list[dict[str, Any]], estimator: str) -> None:
    batch = make_batch()
    reference = compute_advantages(estimator, batch, OPTIONS[estimator])
    rank0, rank1 = two_ranks[0][estimator], two_ranks[1][estimator]
    assert (rank0["start"], rank0["stop"], rank1["start"], rank1["stop"]) == (0, SPLIT, SPLIT, len(batch["index"]))
    combined = np.array(rank0["advantages"] + rank1["advantages"])
    assert np.max(np.abs(combined - reference.advantages)) <= 1e-12
    assert rank0["kept"] + rank1["kept"] == reference.kept.tolist()
    # Not trivially equal: each rank alone would give other numbers (Durian's buckets are batch-global).
    if estimator == "durian":
        alone = compute_advantages(estimator, {k: (v[:SPLIT] if isinstance(v, list) else v) for k, v in batch.items()}, OPTIONS[estimator])
        assert np.max(np.abs(alone.advantages - reference.advantages[:SPLIT])) > 1e-3


def test_one_rank_process_group_gives_the_same(two_ranks: list[dict[str, Any]]) -> None:
    (single,) = run_ranks(1)
    for estimator in OPTIONS:
        assert single[estimator]["advantages"] == two_ranks[0][estimator]["advantages"] + two_ranks[1][estimator]["advantages"]


def test_without_a_process_group_it_computes_locally() -> None:
    batch = make_batch()
    got = global_advantages("durian", index=batch["index"], scores=batch["scores"], visual_entropy=batch["visualEntropy"],
                            logprob=batch["logprob"], options=OPTIONS["durian"])
    reference = compute_advantages("durian", {k: v for k, v in batch.items() if k != "groupWeights"}, OPTIONS["durian"])
    assert np.array_equal(got.local_advantages, reference.advantages)


def test_a_signal_of_the_wrong_length_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match=r"visualEntropy must hold one number per local sequence \(2\), got shape \(3,\)"):
        global_advantages("durian", index=["a", "a"], scores=[0, 1], visual_entropy=[1, 2, 3], logprob=[0, 0])
