"""verl's own loss functions (`compute_policy_loss_vanilla`, registered as the "vanilla" policy loss, `agg_loss`,
`kl_penalty`), from an installed verl or else from the unmodified copy in ../shared/third_party/verl (imported
with its stand-ins for the packages this machine cannot install; see that folder's README)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_VERL_ROOT = os.path.join(os.path.dirname(REPO_ROOT), "shared", "third_party", "verl")


def load_core_algos(verl_root: Optional[str] = None) -> Any:
    """verl.trainer.ppo.core_algos: an installed verl first, else the copy at `verl_root` (default: $DURIAN_VERL_ROOT
    or ../shared/third_party/verl beside the repository)."""
    try:
        import verl.trainer.ppo.core_algos as core_algos  # a real installation
        return core_algos
    except ImportError:
        pass
    root = verl_root or os.environ.get("DURIAN_VERL_ROOT") or DEFAULT_VERL_ROOT
    if not os.path.isfile(os.path.join(root, "stub_imports.py")):
        raise ImportError(f"verl is not installed and there is no verl copy at {root} (pass --verl DIR or set DURIAN_VERL_ROOT)")
    if root not in sys.path:
        sys.path.insert(0, root)
    import stub_imports  # noqa: F401  (stand-ins for ray, tensordict, transformers, ...)
    import verl.trainer.ppo.core_algos as core_algos
    return core_algos


@dataclass
class PolicyLossConfig:
    """The fields of verl's ActorConfig that compute_policy_loss_vanilla reads."""

    clip_ratio: float = 0.2
    clip_ratio_low: Optional[float] = None
    clip_ratio_high: Optional[float] = None
    clip_ratio_c: float = 3.0
    #: agg_loss's normalisation over the whole data-parallel batch: dp_size, batch_num_tokens, global_batch_size.
    global_batch_info: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)
