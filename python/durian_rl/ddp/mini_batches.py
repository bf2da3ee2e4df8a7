"""The update's mini-batches (verl's ppo_mini_batch_size), as src/trainer/loop/miniBatches.ts cuts them: per PPO
epoch the kept prompts of the GLOBAL batch shuffled (a prompt's rollouts stay together) and cut into
ceil(prompts / miniBatchSize) parts whose sizes differ by at most one prompt. Every rank computes the same split
from the same global data and the shuffle's stream is keyed by (seed, step, epoch), so the ranks agree without a
collective and there is no generator state to checkpoint."""
from __future__ import annotations

from typing import Sequence

import numpy as np

#: Keeps the shuffle's streams apart from the rollouts' (seed, step, prompt) and the prompt order's (seed, 0x5EED, pass).
MINI_BATCH_STREAM = 0x3B1D
MAX_MINI_BATCH_SIZE = 1024  # schemas/config.schema.json miniBatchSize


def epoch_generator(seed: int, step: int, epoch: int) -> np.random.Generator:
    """The generator that shuffles the kept prompts of PPO epoch `epoch` (0-based) of step `step`."""
    return np.random.default_rng([seed, MINI_BATCH_STREAM, step, epoch])


def kept_prompts(kept: np.ndarray, group_size: int) -> list[int]:
    """The batch positions (0-based, plan order) of the prompts with at least one kept rollout; `kept` is the global
    per-sequence flag, G rows per prompt in plan order."""
    groups = np.asarray(kept, dtype=bool).reshape(-1, group_size)
    return [int(k) for k in np.flatnonzero(groups.any(axis=1))]


def mini_batches(prompts: Sequence[int], mini_batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """The mini-batches of one PPO epoch: `prompts` in an order shuffled by `rng`, cut into
    ceil(len(prompts) / mini_batch_size) parts whose sizes differ by at most one. A single mini-batch
    (mini_batch_size 0, or >= the prompts) is the prompts in their own order and draws nothing from `rng`."""
    n = len(prompts)
    count = -(-n // mini_batch_size) if mini_batch_size > 0 else 1
    if count <= 1:
        return [list(prompts)]
    order = [int(prompts[i]) for i in rng.permutation(n)]
    return [order[(m * n) // count:((m + 1) * n) // count] for m in range(count)]
