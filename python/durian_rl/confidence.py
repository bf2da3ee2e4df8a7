"""Reasoning difficulty: the policy's confidence (src/core/difficulty/confidence.ts). Per rollout, the
length-normalised sequence log-prob (mean token log-prob over valid tokens); per prompt, the mean (or sum)
over its rollouts, which the durian estimator computes itself from the per-rollout values."""
from __future__ import annotations

import torch


def sequence_confidence(token_log_probs: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    """Mean token log-prob of each response over its valid tokens, float64, shape (batch,). A response with
    no valid token has confidence 0 (it also receives no gradient)."""
    mask = response_mask.to(torch.float64)
    total = (token_log_probs.detach().to(torch.float64) * mask).sum(dim=-1)
    tokens = mask.sum(dim=-1)
    return torch.where(tokens > 0, total / tokens.clamp(min=1), torch.zeros_like(total))
