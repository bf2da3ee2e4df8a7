"""Warm-up recipe variants for the A/B runs of warmup.py (issue 14 item 6: why the general policy's supervised
warm-up leaves the blind plateau so late). Each variant is opt-in; with the defaults the warm-up is the twin's
own (python/durian_rl/policy.py init, token-mean cross-entropy, constant Adam lr).

- `reinitialise`: re-draws kernels fan-in-scaled (std gain / sqrt(fan_in); optionally only some of them) and/or the
  embeddings with a chosen std, over the twin's GPT-2 init (std 0.02 everywhere, 0.02 / sqrt(2 layers) on the
  residual projections). The policy's own `kernel_init="fan-in"` is the same as gain 1 on every kernel.
- `MemoryNormPolicy`: the twin plus a parameter-free layer norm of the patch memory (after projection + position),
  so the cross-attention keys/values start at unit scale (an architecture change, A/B only: it did not help).
- `sequence_loss`: the cross-entropy of each response averaged over its tokens, then over the batch (the twin's
  token mean weights a response by its length: a count answer "n <eos>" counts 2 tokens, arithmetic 6-8).
- `lr_at`: linear lr warm-up over the first steps, then constant.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F

from common import GeneralPolicy

#: Weights that are looked up rather than multiplied: token embeddings and learned positions.
EMBEDDINGS = ("question.embedding", "response.embedding", "text.position", "patch.position")


def reinitialise(policy: GeneralPolicy, seed: int, gain: Optional[float], embed_std: Optional[float], only: tuple[str, ...] = ()) -> None:
    """Kernels N(0, (gain / sqrt(fan_in))^2) when gain is set (only those whose name contains one of `only`, when
    given), embeddings and positions N(0, embed_std^2) when embed_std is set; everything else as the twin
    initialised it (norms 1, biases 0)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, dims in policy.shapes.items():
            if name.endswith(".kernel") and gain is not None and (not only or any(part in name for part in only)):
                std = gain / math.sqrt(dims[0])
            elif name in EMBEDDINGS and embed_std is not None:
                std = embed_std
            else:
                continue
            policy.p(name).copy_(torch.randn(dims, generator=generator, dtype=torch.float64).to(policy.dtype) * std)


class MemoryNormPolicy(GeneralPolicy):
    """The twin with the patch memory layer-normalised (no scale/bias: the same weights as the twin)."""

    def memory(self, patches: torch.Tensor) -> torch.Tensor:
        memory = super().memory(patches)
        return F.layer_norm(memory, (memory.shape[-1],))


def sequence_loss(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of each response's mean token negative log-likelihood."""
    return -(logp.sum(1) / mask.sum(1).clamp(min=1)).mean()


def token_loss(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The twin's warm-up loss: negative log-likelihood averaged over every real token of the batch."""
    return -(logp.sum() / mask.sum())


def lr_at(step: int, base_lr: float, warmup_steps: int) -> float:
    """Linear warm-up from base_lr / warmup_steps to base_lr over the first warmup_steps steps, then base_lr."""
    return base_lr * (step + 1) / warmup_steps if warmup_steps and step < warmup_steps else base_lr
