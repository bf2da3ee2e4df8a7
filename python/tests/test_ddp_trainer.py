"""The data-parallel trainer (python/durian_ddp.py under torchrun, gloo on CPU, real processes): 2 ranks sample the
same rollouts, compute the same batch-global advantages and end with the same weights as 1 rank on the same
batches; the run folder it writes validates against schemas/; a reweight appended to the inbox while it runs is
applied from the next step and acknowledged with that step, as is a relabel (the response then earns the new
reward whenever the prompt gets it again), a control naming an unknown prompt is refused, stop ends it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from durian_rl.policy import GeneralPolicy

from conftest import PYTHON_ROOT, REPO_ROOT
from run_folder_schemas import assert_valid, json_lines

TINY = ["--d", "16", "--heads", "2", "--layers", "1", "--batch-size", "8", "--group-size", "4", "--threads", "1", "--lr", "0.003"]


def launch(ranks: int, tasks: Path, run_dir: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, str(PYTHON_ROOT / "durian_torchrun.py"), "--standalone", "--nproc_per_node", str(ranks),
               str(PYTHON_ROOT / "durian_ddp.py"), "--tasks", str(tasks), "--run-dir", str(run_dir), *TINY, *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen, timeout: float = 240) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-4000:]
    return output


def rollouts(run_dir: Path, step: int) -> list[dict[str, Any]]:
    return json_lines(run_dir / "rollouts" / f"step-{step:06d}.jsonl")


@pytest.fixture(scope="module")
def runs(exported_tasks: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The same 5-step float64 run with 1 and with 2 ranks (validation at steps 0, 2, 4, 5)."""
    base = tmp_path_factory.mktemp("ddp")
    folders = {ranks: base / f"ranks-{ranks}" for ranks in (1, 2)}
    for ranks, folder in folders.items():  # one after the other: this machine has 2 cores
        finish(launch(ranks, exported_tasks, folder, "--steps", "5", "--dtype", "float64", "--validation-every", "2"))
    return folders


def test_two_ranks_equal_one_rank(runs: dict[int, Path]) -> None:
    one, two = runs[1], runs[2]
    assert json.loads((two / "config.json").read_text())["worldSize"] == 2
    for step in range(1, 6):
        a, b = rollouts(one, step), rollouts(two, step)
        assert [g["promptId"] for g in a] == [g["promptId"] for g in b] and len(a) == 8
        assert [r["tokens"] for g in a for r in g["rollouts"]] == [r["tokens"] for g in b for r in g["rollouts"]], f"step {step}: rollouts differ"
        adv_a = np.array([r["advantage"] for g in a for r in g["rollouts"]])
        adv_b = np.array([r["advantage"] for g in b for r in g["rollouts"]])
        assert np.abs(adv_a - adv_b).max() <= 1e-9, f"step {step}"
        assert [g["perceptualBucket"] for g in a] == [g["perceptualBucket"] for g in b]
        assert [g["reasoningBin"] for g in a] == [g["reasoningBin"] for g in b]
    nonzero = [r["advantage"] for step in range(1, 6) for g in rollouts(one, step) for r in g["rollouts"] if r["advantage"] != 0]
    assert len(nonzero) >= 8, "the batches must carry learning signal for the weight check to mean anything"
    final = {ranks: GeneralPolicy.load(str(folder / "final-policy")).get_arrays() for ranks, folder in runs.items()}
    config = json.loads((one / "final-policy" / "policy.json").read_text())["config"]
    initial = GeneralPolicy(config, seed=1, d=config["d"], heads=config["heads"], layers=config["layers"]).get_arrays()
    moved = max(float(np.abs(final[1][name] - initial[name]).max()) for name in initial)
    assert moved > 1e-3, "training moved the weights"
    diff = max(float(np.abs(final[1][name] - final[2][name]).max()) for name in initial)
    assert diff <= 1e-6, f"weights after 5 steps differ by {diff}"
    m1, m2 = json_lines(one / "metrics.jsonl"), json_lines(two / "metrics.jsonl")
    for key in ("actor/pg_loss", "actor/grad_norm", "actor/entropy", "reward/mean"):
        assert np.allclose([m[key] for m in m1], [m[key] for m in m2], atol=1e-9, rtol=0), key


def test_the_run_folder_validates(runs: dict[int, Path]) -> None:
    run = runs[2]
    assert_valid(json.loads((run / "status.json").read_text()), "status.schema.json", "status.json")
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "completed" and status["step"] == 5
    assert "inbox" not in status, "a finished writer reads no controls: status.json no longer advertises its inbox"
    assert_valid(json.loads((run / "config.json").read_text()), "config.schema.json", "config.json")
    metrics = json_lines(run / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [1, 2, 3, 4, 5]
    for line in metrics:
        assert_valid(line, "metrics-line.schema.json", "a metrics line")
    validation = json_lines(run / "validation.jsonl")
    assert [v["step"] for v in validation] == [0, 2, 4, 5]
    for line in validation:
        assert_valid(line, "validation-line.schema.json", "a validation line")
    for step in range(1, 6):
        for group in rollouts(run, step):
            assert_valid(group, "rollout-group.schema.json", f"a rollout group of step {step}")
            assert (run / group["image"]).read_bytes()[:4] == b"\x89PNG"


def wait_for(predicate, what: str, process: subprocess.Popen, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the trainer ended before {what}: {process.communicate()[0][-3000:]}")
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"timed out waiting for {what}")


def test_inbox_controls_hold_from_the_next_step(exported_tasks: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    # Near-greedy sampling and a tiny lr: each prompt gets the same response step after step, so a relabel shows.
    process = launch(2, exported_tasks, run, "--steps", "400", "--validation-every", "0", "--temperature", "0.001", "--lr", "1e-7")
    try:
        def last_step() -> int:
            try:
                return json.loads((run / "status.json").read_text())["step"]
            except (OSError, ValueError, KeyError):
                return 0
        wait_for(lambda: last_step() >= 2, "step 2", process)
        with open(run / "inbox.jsonl", "a", encoding="utf-8") as inbox:
            inbox.write(json.dumps({"type": "control/setGroupWeight", "controlId": "w1", "promptId": "train-000003", "weight": 2.5}) + "\n")
            inbox.write(json.dumps({"type": "control/relabel", "controlId": "r1", "step": 1, "promptId": "train-000003", "rollout": 0, "reward": 0.5}) + "\n")
            inbox.write(json.dumps({"type": "control/setGroupWeight", "controlId": "w2", "promptId": "nope", "weight": 2}) + "\n")
        written_after = last_step()
        def acknowledgements() -> list[Any]:
            path = run / "interventions.jsonl"
            return json_lines(path) if path.exists() and len(json_lines(path)) >= 3 else []
        lines = wait_for(acknowledgements, "the acknowledgements", process)
        wait_for(lambda: last_step() >= lines[0]["step"] + 1, "two steps with the controls", process)
        with open(run / "inbox.jsonl", "a", encoding="utf-8") as inbox:
            inbox.write(json.dumps({"type": "control/stop", "controlId": "s1"}) + "\n")
        finish(process)
    finally:
        if process.poll() is None:
            process.kill()
    applied, relabel, refused = lines[0], lines[1], lines[2]
    for line in json_lines(run / "interventions.jsonl"):
        assert_valid(line, "intervention-line.schema.json", "an interventions line")
    assert applied["controlId"] == "w1" and applied["kind"] == "setGroupWeight" and "refused" not in applied
    step = applied["step"]
    assert step > written_after >= 2
    assert refused["controlId"] == "w2" and refused["refused"] == "setGroupWeight: no prompt 'nope' in this run's training tasks" and refused["step"] == step
    assert relabel["controlId"] == "r1" and relabel["kind"] == "relabel" and relabel["step"] == step and "refused" not in relabel
    weight_at = {s: next(g["weight"] for g in rollouts(run, s) if g["promptId"] == "train-000003") for s in range(1, step + 1)}
    assert all(weight_at[s] == 1.0 for s in range(1, step)) and weight_at[step] == 2.5, weight_at
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "stopped" and step < status["step"] < 400
    assert json_lines(run / "interventions.jsonl")[3]["kind"] == "stop"
    # The relabelled response earns 0.5 (a reward the task never gives) whenever train-000003 gets it from step on.
    text = next(g for g in rollouts(run, 1) if g["promptId"] == "train-000003")["rollouts"][0]["response"]
    seen = {s: [r for g in rollouts(run, s) if g["promptId"] == "train-000003" for r in g["rollouts"] if r["response"] == text]
            for s in range(1, status["step"] + 1)}
    assert all(r["reward"] != 0.5 and "relabeled" not in r for s in range(1, step) for r in seen[s])
    later = [r for s in range(step, status["step"] + 1) for r in seen[s]]
    assert later and all(r["reward"] == 0.5 and r["relabeled"] is True for r in later), seen
