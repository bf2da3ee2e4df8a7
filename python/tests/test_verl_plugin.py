"""The verl plug-in against verl's unmodified code (../shared/third_party/verl, commit b178a3cd): importing
durian_rl.verl registers `durian` in verl's registry; verl's own compute_advantage, given a verl-shaped batch,
reaches it with the visual entropy and confidence from the batch; its numbers are those of durian_rl.estimators
and of the TypeScript CLI; and verl's own core_algos tests still pass with the plug-in loaded."""
from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from compare import differences
from conftest import PYTHON_ROOT, VERL_ROOT
from durian_rl import DurianInputError, compute_advantages
from verl_batch import as_durian_batch, verl_algorithm_config, verl_batch, verl_compute_advantage

OPTIONS = {"weights": [0.1, 0.2, 0.7], "reasoningBins": 4}


def expected_tokens(data, advantages: np.ndarray) -> np.ndarray:
    return advantages[:, None] * data.batch["response_mask"].numpy()


def test_importing_the_plugin_registers_durian(verl_core_algos):
    import durian_rl.verl as plugin

    assert verl_core_algos.get_adv_estimator_fn("durian") is plugin.compute_durian_outcome_advantage
    assert "grpo" in verl_core_algos.ADV_ESTIMATOR_REGISTRY  # verl's own estimators are untouched
    # Importing again (a second trainer module, a reload) neither fails nor registers twice.
    import importlib

    importlib.reload(plugin)
    assert verl_core_algos.get_adv_estimator_fn("durian") is plugin.compute_durian_outcome_advantage
    # ray_trainer.compute_advantage is wrapped as soon as verl's trainer module is imported.
    assert any(getattr(f, "name", None) == plugin.RAY_TRAINER for f in sys.meta_path)


@pytest.mark.parametrize("seed", [3, 4])
def test_verl_compute_advantage_gives_the_numbers_of_the_estimators_and_the_cli(verl_core_algos, ts_advantages, seed):
    import durian_rl.verl as plugin

    data = verl_batch(seed)
    compute_advantage = plugin.wrap_compute_advantage(verl_compute_advantage(VERL_ROOT, verl_core_algos))
    out = compute_advantage(data, adv_estimator="durian", config=verl_algorithm_config(VERL_ROOT, OPTIONS))
    assert out is data and data.batch["advantages"].dtype == torch.float32
    assert torch.equal(data.batch["returns"], data.batch["advantages"])

    batch = as_durian_batch(data)
    [ts] = ts_advantages([{"estimator": "durian", "options": OPTIONS, **batch}])
    python = compute_advantages("durian", batch, OPTIONS)
    assert differences(python.to_json(), ts) == []
    got = data.batch["advantages"].numpy().astype(np.float64)
    want = expected_tokens(data, np.asarray(ts["advantages"]))
    assert np.allclose(got, want, rtol=1e-6, atol=1e-7)
    assert np.abs(want).max() > 0.5 and ts["reasoningBins"] == 4  # the batch is not degenerate
    assert np.all(got[data.batch["response_mask"].numpy() == 0] == 0)
    # The signals came from the batch: a different entropy ordering changes the answer.
    assert plugin.last_result is not None and plugin.last_result.explanation["prompts"][0]["visualEntropy"] in batch["visualEntropy"]


def test_keyword_arguments_and_extra_info_give_the_same_numbers(verl_core_algos):
    import durian_rl.verl as plugin

    data = verl_batch(5)
    config = verl_algorithm_config(VERL_ROOT, OPTIONS)
    fn = verl_core_algos.get_adv_estimator_fn("durian")
    want = expected_tokens(data, compute_advantages("durian", as_durian_batch(data), OPTIONS).advantages)
    direct, _ = fn(
        token_level_rewards=data.batch["token_level_rewards"],
        response_mask=data.batch["response_mask"],
        index=data.non_tensor_batch["uid"],
        config=config,
        visual_entropy=data.non_tensor_batch["visual_entropy"],
        old_log_probs=data.batch["old_log_probs"],
    )
    assert np.allclose(direct.numpy(), want, rtol=1e-6, atol=1e-7)

    # The dataset-column route: extra_info.visual_entropy, which verl keeps through generation.
    entropy = data.non_tensor_batch.pop("visual_entropy")
    data.non_tensor_batch["extra_info"] = np.array([{"index": 0, "visual_entropy": float(e)} for e in entropy], dtype=object)
    compute_advantage = plugin.wrap_compute_advantage(verl_compute_advantage(VERL_ROOT, verl_core_algos))
    compute_advantage(data, adv_estimator="durian", config=config)
    assert np.allclose(data.batch["advantages"].numpy(), want, rtol=1e-6, atol=1e-7)


def test_durian_with_weights_1_0_0_is_verls_own_grpo(verl_core_algos):
    data = verl_batch(6, prompts=10, n=4)
    # Singletons too: verl's GRPO gives them r / (1 + eps), and so must durian's GRPO term.
    data.non_tensor_batch["uid"][:3] = np.array(["solo-a", "solo-b", "solo-c"], dtype=object)
    data.non_tensor_batch["visual_entropy"][:3] = np.array([0.1, 0.2, 0.3], dtype=object)
    grpo = verl_core_algos.get_adv_estimator_fn("grpo")
    want, _ = grpo(data.batch["token_level_rewards"].clone(), data.batch["response_mask"], data.non_tensor_batch["uid"])
    fn = verl_core_algos.get_adv_estimator_fn("durian")
    got, _ = fn(
        data.batch["token_level_rewards"],
        data.batch["response_mask"],
        data.non_tensor_batch["uid"],
        config=verl_algorithm_config(VERL_ROOT, {"weights": [1, 0, 0]}),
        visual_entropy=data.non_tensor_batch["visual_entropy"],
        old_log_probs=data.batch["old_log_probs"],
    )
    assert want.abs().max() > 0.5
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-6)


def test_missing_signals_are_one_clear_error(verl_core_algos):
    import durian_rl.verl as plugin

    data = verl_batch(7)
    data.non_tensor_batch.pop("visual_entropy")
    compute_advantage = plugin.wrap_compute_advantage(verl_compute_advantage(VERL_ROOT, verl_core_algos))
    with pytest.raises(DurianInputError) as error:
        compute_advantage(data, adv_estimator="durian", config=verl_algorithm_config(VERL_ROOT))
    assert error.value.where == "visual_entropy" and "non_tensor_batch['visual_entropy']" in str(error.value)

    data = verl_batch(7)
    data.batch.pop("old_log_probs")
    with pytest.raises(DurianInputError) as error:
        compute_advantage(data, adv_estimator="durian", config=verl_algorithm_config(VERL_ROOT))
    assert error.value.where == "old_log_probs"

    # Without the wrapper verl's compute_advantage does not pass the batch on: the error says what is missing.
    unwrapped = verl_compute_advantage(VERL_ROOT, verl_core_algos)
    with pytest.raises(DurianInputError, match="visual_entropy"):
        unwrapped(verl_batch(7), adv_estimator="durian", config=verl_algorithm_config(VERL_ROOT))

    with pytest.raises(DurianInputError) as error:
        compute_advantage(verl_batch(7), adv_estimator="durian", config=verl_algorithm_config(VERL_ROOT, {"reasoningBins": 0}))
    assert error.value.where == "options.reasoningBins"


def test_the_import_hook_wraps_compute_advantage_when_the_trainer_module_loads(verl_core_algos, tmp_path, monkeypatch):
    import durian_rl.verl as plugin

    name = "fake_ray_trainer_for_durian"
    (tmp_path / f"{name}.py").write_text("def compute_advantage(data, adv_estimator, **kwargs):\n    return data\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin.patch_after_import(name, plugin._patch_ray_trainer)
    try:
        module = __import__(name)
        assert module.compute_advantage.__durian_wrapped__
        from fake_ray_trainer_for_durian import compute_advantage  # a later `from ... import` gets the wrapper

        marker = types.SimpleNamespace()
        assert compute_advantage(marker, "grpo") is marker
        assert plugin._current_data.get() is None  # the batch is visible only during the call
    finally:
        sys.modules.pop(name, None)
        sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "name", None) != name]


def test_verls_own_core_algos_tests_pass_with_the_plugin_loaded():
    test_file = VERL_ROOT / "tests" / "trainer" / "ppo" / "test_core_algos_on_cpu.py"
    if not test_file.exists():
        pytest.skip(f"verl's tests not found at {test_file}")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(PYTHON_ROOT), str(PYTHON_ROOT / "tests")]),
        PYTHONDONTWRITEBYTECODE="1",
        DURIAN_VERL_ROOT=str(VERL_ROOT),
        VERL_USE_EXTERNAL_MODULES="durian_rl.verl",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "verl_with_durian", str(test_file)],
        capture_output=True, text=True, env=env, cwd=VERL_ROOT, timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "durian plug-in loaded by verl" in output and "'durian'" in output
    assert " passed" in output and " failed" not in output
