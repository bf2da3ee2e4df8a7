"""Durian RL's Python package: the advantage estimators of src/core in numpy (same numbers, checked against
`durian advantages`), and a verl plug-in (`import durian_rl.verl` registers the `durian` advantage estimator).
Needs numpy and torch only; the verl plug-in also needs verl. The run-folder writer (`RunFolder`) and its control
inbox (`ControlInbox`) follow schemas/ so the VS Code extension can follow and steer a run trained elsewhere;
`durian_rl.distributed` (imported on its own: it needs torch) computes batch-global advantages across ranks."""
from .controls import ControlError, parse_control
from .errors import DurianInputError
from .estimators import ESTIMATOR_NAMES, ESTIMATORS, AdvantageResult, compute_advantages
from .inbox import ControlInbox, ControlRefused
from .run_folder import FORMAT_VERSION, RunFolder, RunFolderError

__version__ = "0.1.0"
__all__ = [
    "AdvantageResult", "ControlError", "ControlInbox", "ControlRefused", "DurianInputError", "ESTIMATORS", "ESTIMATOR_NAMES",
    "FORMAT_VERSION", "RunFolder", "RunFolderError", "compute_advantages", "parse_control", "__version__",
]
