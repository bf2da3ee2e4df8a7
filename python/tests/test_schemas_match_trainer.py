"""schemas/ against what the real TypeScript trainer writes, checked with python3-jsonschema (a full draft 2020-12
implementation; test/unit/schemas.test.ts does the same with its own small validator): a tiny training run from
source, with controls sent on stdin, and every file and line of its run folder validated."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from run_folder_schemas import assert_valid, json_lines, jsonschema_module

CONTROLS = [
    {"type": "control/setConfig", "controlId": "c-1", "changes": {"lr": 0.002, "durianWeights": [0.2, 0.2, 0.6]}},
    {"type": "control/setGroupWeight", "controlId": "c-2", "promptId": "train-000001", "weight": 2},
    {"type": "control/excludePrompt", "controlId": "c-3", "promptId": "train-000002"},
    {"type": "control/undo", "controlId": "c-4", "targetControlId": "c-3"},
]


@pytest.fixture(scope="module")
def trainer_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    jsonschema_module()
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: schemas/ is checked against a real run of the TypeScript trainer (Node 20+)")
    work = tmp_path_factory.mktemp("trainer")
    config = {"steps": 3, "batchSize": 4, "groupSize": 2, "validationSize": 8, "trainSize": 64, "warmupSteps": 5,
              "validationEvery": 2, "checkpointEvery": 2, "rolloutsEvery": 2}
    (work / "tiny.json").write_text(json.dumps(config))
    out = work / "run"
    command = [node, "--import", "tsx", str(REPO_ROOT / "src" / "trainer" / "main.ts"), "--config", str(work / "tiny.json"), "--out", str(out)]
    child = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env={**os.environ, "DURIAN_CACHE_DIR": str(work / "cache")})
    assert child.stdin is not None
    child.stdin.write("".join(json.dumps(c) + "\n" for c in CONTROLS).encode())
    child.stdin.flush()  # stdin stays open: a trainer whose host closes it stops
    deadline = time.monotonic() + 240
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if child.poll() is None:
        child.kill()
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    child.stdin.close()
    assert child.wait() == 0, f"the trainer failed: {stderr[-3000:]}"
    return out


def test_every_file_of_a_real_run_validates(trainer_run: Path) -> None:
    assert_valid(json.loads((trainer_run / "status.json").read_text()), "status.schema.json", "status.json")
    assert_valid(json.loads((trainer_run / "config.json").read_text()), "config.schema.json", "config.json")
    for name, schema, at_least in (("metrics.jsonl", "metrics-line.schema.json", 3), ("validation.jsonl", "validation-line.schema.json", 2),
                                   ("interventions.jsonl", "intervention-line.schema.json", len(CONTROLS))):
        lines = json_lines(trainer_run / name)
        assert len(lines) >= at_least, f"{name}: {len(lines)} lines"
        for number, line in enumerate(lines, 1):
            assert_valid(line, schema, f"{name} line {number}")
    rollouts = sorted((trainer_run / "rollouts").glob("step-*.jsonl"))
    assert rollouts, "the run kept the rollouts of at least one step"
    for path in rollouts:
        for number, group in enumerate(json_lines(path), 1):
            assert_valid(group, "rollout-group.schema.json", f"{path.name} line {number}")
    manifests = sorted((trainer_run / "checkpoints").glob("step-*/manifest.json"))
    assert manifests, "the run wrote a checkpoint"
    for manifest in manifests:
        assert_valid(json.loads(manifest.read_text()), "checkpoint-manifest.schema.json", str(manifest.relative_to(trainer_run)))


def test_the_trainer_acknowledges_controls_as_the_inbox_does(trainer_run: Path) -> None:
    records = json_lines(trainer_run / "interventions.jsonl")
    assert [(r["controlId"], r["kind"], r["step"]) for r in records] == [("c-1", "setConfig", 1), ("c-2", "setGroupWeight", 1),
                                                                         ("c-3", "excludePrompt", 1), ("c-4", "undo", 1)]
