"""A verl-shaped outcome-reward batch (what RayPPOTrainer.fit holds when it computes advantages): prompts repeated
n times (interleaved, then shuffled as balance_batch does), right-padded responses, the reward on the last valid
token, old_log_probs with garbage on padding, `uid` and `visual_entropy` in non_tensor_batch; and verl's own
`compute_advantage`, compiled from the unmodified ray_trainer.py (that module itself cannot be imported here)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch


@dataclass
class StandInDataProto:
    """The parts of verl's DataProto that compute_advantage touches (DataProto needs tensordict)."""

    batch: dict[str, torch.Tensor]
    non_tensor_batch: dict[str, np.ndarray]
    meta_info: dict[str, Any] = field(default_factory=dict)


def verl_batch(seed: int, prompts: int = 12, n: int = 8, response_length: int = 16, shuffle: bool = True) -> StandInDataProto:
    rng = np.random.default_rng(seed)
    uids = [f"{seed:04d}-{k:04d}-uid" for k in range(prompts)]
    index = np.array([uid for uid in uids for _ in range(n)], dtype=object)
    size = len(index)
    lengths = rng.integers(1, response_length + 1, size)
    lengths[0] = 0  # an empty response: no valid token, no reward, confidence 0
    mask = torch.as_tensor(np.arange(response_length)[None, :] < lengths[:, None], dtype=torch.int64)
    scores = (0.1 * rng.integers(0, 2, size) + 0.9 * rng.integers(0, 2, size)).astype(np.float32)
    scores[0] = 0.0
    groups = size // n
    for k in rng.choice(groups, size=max(1, groups // 3), replace=False):  # all-same groups
        scores[k * n:(k + 1) * n] = scores[k * n]
    rewards = torch.zeros(size, response_length, dtype=torch.float32)
    for i in range(size):
        if lengths[i] > 0:
            rewards[i, lengths[i] - 1] = float(scores[i])
    log_probs = torch.as_tensor(rng.uniform(-4.0, 0.0, (size, response_length)), dtype=torch.float32)
    log_probs = torch.where(mask.bool(), log_probs, torch.full_like(log_probs, -1e4))
    entropy = rng.uniform(0.5, 4.0, prompts)
    entropy[1] = entropy[0]  # a tie
    visual_entropy = np.array([float(entropy[k]) for k in range(prompts) for _ in range(n)], dtype=object)

    order = rng.permutation(size) if shuffle else np.arange(size)
    return StandInDataProto(
        batch={
            "token_level_rewards": rewards[order],
            "response_mask": mask[order],
            "old_log_probs": log_probs[order],
        },
        non_tensor_batch={"uid": index[order], "visual_entropy": visual_entropy[order]},
    )


def as_durian_batch(data: StandInDataProto) -> dict[str, Any]:
    """The same batch in `durian advantages`' JSON form, computed independently of the plug-in (float64)."""
    mask = data.batch["response_mask"].numpy().astype(np.float64)
    tokens = mask.sum(axis=1)
    log_probs = data.batch["old_log_probs"].numpy().astype(np.float64)
    confidence = np.where(tokens > 0, (log_probs * mask).sum(axis=1) / np.maximum(tokens, 1), 0.0)
    return {
        "index": [str(u) for u in data.non_tensor_batch["uid"]],
        "scores": data.batch["token_level_rewards"].numpy().astype(np.float64).sum(axis=1).tolist(),
        "lengths": tokens.tolist(),
        "visualEntropy": [float(v) for v in data.non_tensor_batch["visual_entropy"]],
        "logprob": confidence.tolist(),
    }


def verl_compute_advantage(verl_root: Path, core_algos: Any) -> Callable[..., Any]:
    """`compute_advantage` of verl/trainer/ppo/ray_trainer.py, compiled from its unmodified source with the names
    it uses. (Importing ray_trainer needs Ray, and Debian's torch 1.13 fails in torch.distributed._shard on
    Python 3.11 along its import chain.)"""
    path = verl_root / "verl" / "trainer" / "ppo" / "ray_trainer.py"
    tree = ast.parse(path.read_text(), str(path))
    wanted = {"compute_response_mask", "compute_advantage"}
    nodes = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in wanted]
    assert {node.name for node in nodes} == wanted, f"{path} no longer defines {wanted}"
    from verl.trainer.config import AlgoConfig

    namespace: dict[str, Any] = {
        "DataProto": StandInDataProto,
        "AdvantageEstimator": core_algos.AdvantageEstimator,
        "AlgoConfig": AlgoConfig,
        "Optional": Optional,
        "core_algos": core_algos,
        "torch": torch,
        "np": np,
    }
    exec(compile(ast.Module(body=nodes, type_ignores=[]), str(path), "exec"), namespace)
    return namespace["compute_advantage"]


def verl_algorithm_config(verl_root: Path, durian: Optional[dict] = None) -> Any:
    """verl's `algorithm` section from its ppo_trainer.yaml, with adv_estimator=durian and `+algorithm.durian.*`
    options added the way a Hydra override adds them."""
    from omegaconf import OmegaConf, open_dict

    config = OmegaConf.load(verl_root / "verl" / "trainer" / "config" / "ppo_trainer.yaml").algorithm
    OmegaConf.set_struct(config, True)
    with open_dict(config):
        config.adv_estimator = "durian"
        if durian is not None:
            config.durian = durian
    return config
