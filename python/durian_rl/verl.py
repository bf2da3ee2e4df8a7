"""Durian inside verl: importing this module registers `durian` in verl's own advantage-estimator registry
(`verl.trainer.ppo.core_algos.register_adv_est`), so `algorithm.adv_estimator=durian` works in verl's trainers.

How the difficulty signals reach the estimator. verl's driver calls a registered estimator as
`fn(token_level_rewards=..., response_mask=..., config=config.algorithm, index=uid)` from
`verl.trainer.ppo.ray_trainer.compute_advantage(data, ...)`: the batch (`data`, a DataProto) itself is not
passed. Durian also needs, per sample, the image's visual entropy and the rollout's confidence, so:

- this module wraps `ray_trainer.compute_advantage` (as soon as that module is imported, or at once if it already
  is) so that the DataProto being processed is visible to the estimator for the duration of the call; the wrapper
  calls verl's own function unchanged, for every estimator;
- visual entropy: `data.non_tensor_batch["visual_entropy"]` (one float per sample), else
  `data.non_tensor_batch["extra_info"][i]["visual_entropy"]` (a dataset column that verl carries through
  generation and repeats per rollout);
- confidence: the mean token log-prob of each response over its valid tokens, from `data.batch["old_log_probs"]`
  and the response mask (verl computes `old_log_probs` before the advantage step);
- explicit keyword arguments `visual_entropy=` and `old_log_probs=` (or per-sequence `logprob=`) take precedence,
  for callers that invoke the estimator themselves.

Options: `config.durian` (`+algorithm.durian.weights=[0.1,0.2,0.7]` etc.), with src/core's option names and
ranges (eps, weights, reasoningBins, minPromptsPerBin, poolZeroVariance, confidence, band). See python/README.md.
"""
from __future__ import annotations

import contextvars
import functools
import importlib.abc
import sys
from typing import Any, Callable, Optional

import numpy as np
import torch
from verl.trainer.ppo import core_algos

from .confidence import sequence_confidence
from .errors import DurianInputError, describe_value
from .estimators import AdvantageResult, compute_advantages

NAME = "durian"
RAY_TRAINER = "verl.trainer.ppo.ray_trainer"

#: The DataProto whose advantages verl is computing right now (set by the compute_advantage wrapper).
_current_data: contextvars.ContextVar[Any] = contextvars.ContextVar("durian_rl_verl_data", default=None)
#: The last result of the plug-in (advantages, buckets, bins), for logging; None before the first call.
last_result: Optional[AdvantageResult] = None


def _as_numpy(values: Any, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().to("cpu", torch.float64).numpy()
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DurianInputError(name, "must hold one number per sample") from None


def _entropy_from_batch(data: Any, size: int) -> Optional[np.ndarray]:
    non_tensor = getattr(data, "non_tensor_batch", None) or {}
    if "visual_entropy" in non_tensor:
        return _as_numpy(non_tensor["visual_entropy"], "non_tensor_batch['visual_entropy']")
    extra = non_tensor.get("extra_info")
    if extra is None or len(extra) != size:
        return None
    values = []
    for i, info in enumerate(extra):
        value = info.get("visual_entropy") if isinstance(info, dict) else None
        if value is None:
            if i == 0:
                return None
            raise DurianInputError(
                f"non_tensor_batch['extra_info'][{i}]['visual_entropy']", f"is missing or null (got {describe_value(value)})"
            )
        values.append(value)
    return _as_numpy(values, "non_tensor_batch['extra_info'][*]['visual_entropy']")


def _options(config: Any) -> dict[str, Any]:
    """`config.durian` as a plain dict (verl passes `config.algorithm`: a DictConfig, an AlgoConfig or None)."""
    if config is None:
        return {}
    raw = config.get("durian", None) if hasattr(config, "get") else getattr(config, "durian", None)
    if raw is None:
        return {}
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(raw, DictConfig):
            raw = OmegaConf.to_container(raw, resolve=True)
    except ImportError:  # pragma: no cover - verl always has omegaconf
        pass
    if not isinstance(raw, dict):
        raise DurianInputError("algorithm.durian", f"must be a mapping of durian options, got {describe_value(raw)}")
    return raw


def compute_durian_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: Optional[np.ndarray] = None,
    config: Any = None,
    visual_entropy: Any = None,
    old_log_probs: Optional[torch.Tensor] = None,
    logprob: Any = None,
    group_weights: Optional[dict[str, float]] = None,
    relabels: Optional[list] = None,
    **unused: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Durian advantages for an outcome-reward batch, in verl's estimator signature.

    token_level_rewards, response_mask: (bs, response_length); index: the prompt uid of each sample.
    Returns (advantages, returns), both (bs, response_length): one advantage per sample on its valid tokens,
    in the dtype of token_level_rewards, as verl's GRPO does. Computed in float64 by durian_rl.estimators.
    """
    global last_result
    data = _current_data.get()
    size = token_level_rewards.shape[0]
    if index is None:
        raise DurianInputError("index", "durian groups samples by prompt: verl passes non_tensor_batch['uid'] as index")
    with torch.no_grad():
        scores = token_level_rewards.detach().sum(dim=-1).to("cpu", torch.float64)
        lengths = response_mask.detach().sum(dim=-1).to("cpu", torch.float64)

        if visual_entropy is None and data is not None:
            visual_entropy = _entropy_from_batch(data, size)
        if visual_entropy is None:
            raise DurianInputError(
                "visual_entropy",
                "is required by durian: put each sample's image entropy in data.non_tensor_batch['visual_entropy'] or "
                "in the dataset's extra_info.visual_entropy (see python/README.md), or pass visual_entropy=",
            )
        if logprob is None:
            if old_log_probs is None and data is not None and "old_log_probs" in data.batch.keys():
                old_log_probs = data.batch["old_log_probs"]
            if old_log_probs is None:
                raise DurianInputError(
                    "old_log_probs",
                    "is required by durian (confidence = mean token log-prob of each response): verl computes it "
                    "before the advantage step; pass old_log_probs= when calling the estimator yourself",
                )
            logprob = sequence_confidence(old_log_probs, response_mask).cpu()

        batch = {
            "index": list(index),
            "scores": scores.numpy(),
            "lengths": lengths.numpy(),
            "visualEntropy": _as_numpy(visual_entropy, "visual_entropy"),
            "logprob": _as_numpy(logprob, "logprob"),
        }
        if group_weights is not None:
            batch["groupWeights"] = group_weights
        if relabels is not None:
            batch["relabels"] = relabels
        last_result = compute_advantages(NAME, batch, _options(config))
        per_sample = torch.as_tensor(last_result.advantages, dtype=token_level_rewards.dtype).to(token_level_rewards.device)
        advantages = per_sample.unsqueeze(-1) * response_mask
    return advantages, advantages


def wrap_compute_advantage(original: Callable[..., Any]) -> Callable[..., Any]:
    """verl's `compute_advantage(data, adv_estimator, ...)`, unchanged, with `data` visible to the durian
    estimator during the call. Idempotent."""
    if getattr(original, "__durian_wrapped__", False):
        return original

    @functools.wraps(original)
    def compute_advantage(data: Any, *args: Any, **kwargs: Any) -> Any:
        token = _current_data.set(data)
        try:
            return original(data, *args, **kwargs)
        finally:
            _current_data.reset(token)

    compute_advantage.__durian_wrapped__ = True  # type: ignore[attr-defined]
    return compute_advantage


def _patch_ray_trainer(module: Any) -> None:
    module.compute_advantage = wrap_compute_advantage(module.compute_advantage)


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Runs `patch(module)` right after the module `name` executes (before anyone can `from name import ...`)."""

    def __init__(self, name: str, patch: Callable[[Any], None]):
        self.name = name
        self.patch = patch

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and not isinstance(spec.loader, _LoaderThenPatch):
            spec.loader = _LoaderThenPatch(spec.loader, self.patch)
        return spec


class _LoaderThenPatch(importlib.abc.Loader):
    def __init__(self, inner: Any, patch: Callable[[Any], None]):
        self._inner = inner
        self._patch = patch

    def create_module(self, spec: Any) -> Any:
        return self._inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._inner.exec_module(module)
        self._patch(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_code, is_package... for inspect and linecache
        return getattr(self._inner, name)


def patch_after_import(name: str, patch: Callable[[Any], None]) -> None:
    """Applies `patch` to module `name` now if it is imported, else as soon as it is (once per name)."""
    if name in sys.modules:
        patch(sys.modules[name])
    if not any(isinstance(f, _PatchAfterImport) and f.name == name for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchAfterImport(name, patch))


def register() -> None:
    """Registers `durian` with verl (idempotent; called on import)."""
    existing = core_algos.ADV_ESTIMATOR_REGISTRY.get(NAME)
    if existing is not None and existing is not compute_durian_outcome_advantage:
        if getattr(existing, "__qualname__", "") == compute_durian_outcome_advantage.__qualname__ and getattr(
            existing, "__module__", ""
        ) == __name__:
            core_algos.ADV_ESTIMATOR_REGISTRY[NAME] = compute_durian_outcome_advantage  # this module, reloaded
        else:
            raise ValueError(f"verl already has an advantage estimator named {NAME!r}: {existing!r}")
    core_algos.register_adv_est(NAME)(compute_durian_outcome_advantage)
    patch_after_import(RAY_TRAINER, _patch_ray_trainer)


register()
