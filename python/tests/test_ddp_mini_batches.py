"""The data-parallel trainer's mini-batches and task suite (python/durian_ddp.py under torchrun, gloo on CPU, real
processes): the split is src/trainer/loop/miniBatches.ts's (shuffled kept prompts, ceil(kept / size) parts whose
sizes differ by at most one, seeded per (seed, step, epoch)); with mini-batches on, 2 ranks end with the same
weights and metrics as 1 rank (also when a mini-batch has no prompt on one rank), and the update really is
ceil(kept / size) optimiser steps per epoch, not one; config.json records miniBatchSize and the suite of the
exported tasks (v1 for an export without one); bad values are refused with one line and no run folder."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from durian_rl.ddp import main
from durian_rl.ddp.mini_batches import epoch_generator, kept_prompts, mini_batches
from durian_rl.ddp.trainer import parse_args
from durian_rl.policy import GeneralPolicy

from conftest import export_tasks
from run_folder_schemas import assert_valid, json_lines
from test_ddp_trainer import finish, launch

STEPS = 3
REGIME = ["--steps", str(STEPS), "--dtype", "float64", "--validation-every", "0", "--ppo-epochs", "2"]


def test_the_split_is_the_typescript_one() -> None:
    prompts = [0, 2, 3, 5, 6, 7, 9]
    for size in (1, 2, 3, 4, 6):
        parts = mini_batches(prompts, size, epoch_generator(1, 4, 0))
        assert len(parts) == math.ceil(len(prompts) / size)
        assert sorted(p for part in parts for p in part) == prompts
        assert {len(part) for part in parts} <= {len(prompts) // len(parts), -(-len(prompts) // len(parts))}
    # Seeded by (seed, step, epoch): the same on every call (every rank), another order in the next epoch or step.
    orders = {key: [p for part in mini_batches(prompts, 2, epoch_generator(*key)) for p in part] for key in [(1, 4, 0), (1, 4, 1), (1, 5, 0)]}
    assert orders[(1, 4, 0)] == [p for part in mini_batches(prompts, 2, epoch_generator(1, 4, 0)) for p in part]
    assert orders[(1, 4, 0)] != orders[(1, 4, 1)] and orders[(1, 4, 0)] != orders[(1, 5, 0)]
    assert orders[(1, 4, 0)] != prompts
    # 0, or at least the prompts: one mini-batch, the prompts in their own order.
    for size in (0, 7, 100):
        assert mini_batches(prompts, size, epoch_generator(1, 4, 0)) == [prompts]
    kept = np.array([0, 0, 1, 0, 1, 1, 0, 0, 0, 1], dtype=bool)  # 5 prompts of G=2
    assert kept_prompts(kept, 2) == [1, 2, 4]


@pytest.fixture(scope="module")
def runs(exported_tasks: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """3 float64 steps of 2 PPO epochs: mini-batches of 3 and of 1 prompt with 1 and 2 ranks, and the whole batch."""
    base = tmp_path_factory.mktemp("ddp-mini")
    setups = {"m3-1": (1, "3"), "m3-2": (2, "3"), "m1-1": (1, "1"), "m1-2": (2, "1"), "whole-1": (1, "0")}
    for name, (ranks, size) in setups.items():  # one after the other: this machine has 2 cores
        finish(launch(ranks, exported_tasks, base / name, *REGIME, "--mini-batch-size", size))
    return {name: base / name for name in setups}


def weights(run: Path) -> dict[str, np.ndarray]:
    return GeneralPolicy.load(str(run / "final-policy")).get_arrays()


def test_two_ranks_equal_one_rank_with_mini_batches(runs: dict[str, Path]) -> None:
    for size in ("3", "1"):  # of 1 prompt: every mini-batch leaves one rank without rows
        one, two = runs[f"m{size}-1"], runs[f"m{size}-2"]
        config = json.loads((two / "config.json").read_text())
        assert config["miniBatchSize"] == int(size) and config["worldSize"] == 2
        m1, m2 = json_lines(one / "metrics.jsonl"), json_lines(two / "metrics.jsonl")
        for line in m1 + m2:
            assert line["actor/optimizer_steps"] == 2 * math.ceil(line["batch/kept_groups"] / int(size)), line
        for key in ("actor/pg_loss", "actor/grad_norm", "actor/entropy", "actor/pg_clipfrac", "actor/ppo_kl", "actor/optimizer_steps", "reward/mean"):
            assert np.allclose([m[key] for m in m1], [m[key] for m in m2], atol=1e-9, rtol=0), (size, key)
        a, b = weights(one), weights(two)
        diff = max(float(np.abs(a[name] - b[name]).max()) for name in a)
        assert diff <= 1e-6, f"mini-batches of {size}: weights after {STEPS} steps differ by {diff} between 1 and 2 ranks"


def test_mini_batches_are_separate_optimiser_steps(runs: dict[str, Path]) -> None:
    whole = json_lines(runs["whole-1"] / "metrics.jsonl")
    assert [m["actor/optimizer_steps"] for m in whole] == [2] * STEPS
    # Same rollouts at step 1 (same weights), then another update: the final weights differ.
    steps = {name: json_lines(runs[name] / "rollouts" / "step-000001.jsonl") for name in ("whole-1", "m3-1")}
    assert [r["tokens"] for g in steps["whole-1"] for r in g["rollouts"]] == [r["tokens"] for g in steps["m3-1"] for r in g["rollouts"]]
    a, b = weights(runs["whole-1"]), weights(runs["m3-1"])
    assert max(float(np.abs(a[name] - b[name]).max()) for name in a) > 1e-4, "mini-batches of 3 updated exactly as the whole batch"


def test_the_config_records_mini_batches_and_suite_v1(runs: dict[str, Path]) -> None:
    config = json.loads((runs["m3-2"] / "config.json").read_text())
    assert_valid(config, "config.schema.json", "config.json")
    assert config["suite"] == "v1" and config["miniBatchSize"] == 3
    for line in json_lines(runs["m3-2"] / "metrics.jsonl"):
        assert_valid(line, "metrics-line.schema.json", "a metrics line")


def test_the_config_records_the_exported_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v2 = tmp_path / "v2"
    export_tasks(v2, "train", 4, suite="v2")
    export_tasks(v2, "validation", 4, suite="v2")
    assert json.loads((v2 / "train.meta.json").read_text())["suite"] == "v2"
    finish(launch(2, v2, tmp_path / "run-v2", "--steps", "1", "--batch-size", "4", "--validation-every", "1"))
    config = json.loads((tmp_path / "run-v2" / "config.json").read_text())
    assert_valid(config, "config.schema.json", "config.json")
    assert config["suite"] == "v2"

    # An export written before `suite` was recorded: v1.
    old = tmp_path / "old"
    shutil.copytree(v2, old)
    for split in ("train", "validation"):
        meta = json.loads((old / f"{split}.meta.json").read_text())
        del meta["suite"]
        (old / f"{split}.meta.json").write_text(json.dumps(meta))
    assert main(["--tasks", str(old), "--run-dir", str(tmp_path / "run-old"), "--steps", "1", "--batch-size", "4", "--group-size", "2",
                 "--d", "16", "--heads", "2", "--layers", "1", "--validation-every", "0"]) == 0
    assert json.loads((tmp_path / "run-old" / "config.json").read_text())["suite"] == "v1"
    capsys.readouterr()

    # Another value, or splits of two suites: one line naming the file, no run folder.
    meta = json.loads((old / "validation.meta.json").read_text())
    (old / "validation.meta.json").write_text(json.dumps({**meta, "suite": "v3"}))
    assert main(["--tasks", str(old), "--run-dir", str(tmp_path / "run-v3")]) == 2
    assert capsys.readouterr().err == f"durian_rl.ddp: {old / 'validation.meta.json'}: suite must be one of v1, v2, got 'v3' (export again with durian export-tasks --suite v1|v2)\n"
    (old / "validation.meta.json").write_text(json.dumps({**meta, "suite": "v2"}))
    assert main(["--tasks", str(old), "--run-dir", str(tmp_path / "run-mixed")]) == 2
    assert capsys.readouterr().err == (f"durian_rl.ddp: {old}: the train tasks are of suite v1 and the validation tasks of suite v2: "
                                       "export both splits with the same --suite\n")
    assert not (tmp_path / "run-v3").exists() and not (tmp_path / "run-mixed").exists()


def test_a_bad_mini_batch_size_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("-1", "1025"):
        with pytest.raises(SystemExit) as exit_info:
            parse_args(["--tasks", "t", "--run-dir", "r", "--mini-batch-size", value])
        assert exit_info.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"durian_rl.ddp: error: --mini-batch-size must be a whole number from 0 to 1024 (0: the whole batch in one step), got {value}")
    # The TypeScript trainer's regime by default (src/protocol/settings.ts): 250 steps of 128 prompts, mini-batches of 16.
    defaults = parse_args(["--tasks", "t", "--run-dir", "r"])
    assert (defaults.steps, defaults.batch_size, defaults.mini_batch_size) == (250, 128, 16)
