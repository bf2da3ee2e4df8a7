"""A pytest plug-in (`-p verl_with_durian`) for running verl's OWN tests with the durian plug-in loaded the way a
verl deployment loads it: VERL_USE_EXTERNAL_MODULES=durian_rl.verl makes `import verl` import durian_rl.verl.
It first imports the verl copy's stand-ins for packages this machine lacks (ray, tensordict, transformers, ...)."""
import os
import sys

VERL_ROOT = os.environ["DURIAN_VERL_ROOT"]
sys.path.insert(0, VERL_ROOT)
import stub_imports  # noqa: E402,F401

assert os.environ.get("VERL_USE_EXTERNAL_MODULES") == "durian_rl.verl", "run with VERL_USE_EXTERNAL_MODULES=durian_rl.verl"
import verl  # noqa: E402,F401  (imports durian_rl.verl through VERL_USE_EXTERNAL_MODULES)
import verl.trainer.ppo.core_algos as core_algos  # noqa: E402

import durian_rl.verl as plugin  # noqa: E402  (already imported by verl: this only looks it up)

assert core_algos.get_adv_estimator_fn("durian") is plugin.compute_durian_outcome_advantage


def pytest_report_header(config):
    return [f"durian plug-in loaded by verl: registry has {sorted(core_algos.ADV_ESTIMATOR_REGISTRY)}"]
