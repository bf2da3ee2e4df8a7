"""durian_rl.run_folder: a run folder written from Python validates against schemas/, writes atomically and
never through a symbolic link."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from durian_rl import FORMAT_VERSION, RunFolder, RunFolderError
from run_folder_schemas import assert_valid, json_lines, load

GROUP = {
    "promptId": "p-1", "question": "How many red squares?", "groundTruth": "3", "image": "images/p-1.png",
    "visualEntropy": 2.5, "confidence": -0.4, "perceptualBucket": "mid", "reasoningBin": 1, "groupStd": 0.5,
    "perceptualPooledStd": 0.4, "reasoningPooledStd": 0.45, "weight": 1, "excluded": False,
    "rollouts": [
        {"response": "3", "reward": 1, "format": 1, "accuracy": 1, "meanLogprob": -0.3, "advantage": 0.7, "advantageGrpo": 0.7,
         "components": {"grpo": 0.7, "perceptual": 0.8, "reasoning": 0.6}},
        {"response": "4", "reward": 0, "format": 1, "accuracy": 0, "meanLogprob": -0.5, "advantage": -0.7, "advantageGrpo": -0.7, "relabeled": True},
    ],
}


def test_every_file_written_validates_against_the_schemas(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "run-1"
    config = {"estimator": "durian", "estimatorOptions": {"weights": [0.1, 0.2, 0.7]}, "groupSize": 2, "batchSize": 1, "lr": 1e-6,
              "myTrainer": {"fsdp": True}}
    with RunFolder.create(folder, config, writer="test writer") as run:
        image = run.write_image("p-1.png", b"\x89PNG\r\n\x1a\n")
        assert image == "images/p-1.png"
        run.append_metrics(1, {"actor/pg_loss": 0.25, "reward/mean": float("nan"), "critic/advantages/max": float("inf")}, elapsed_ms=812.5)
        run.append_metrics(2, {"actor/pg_loss": 0.2}, elapsed_ms=1600)
        run.append_validation(2, 0.5, 0.55, {"perceptual/0": 1.0})
        assert run.write_rollouts(2, [GROUP, GROUP]) == "rollouts/step-000002.jsonl"
        run.write_status("completed", 2)

    status = json.loads((folder / "status.json").read_text())
    assert_valid(status, "status.schema.json", "status.json")
    assert (status["state"], status["step"], status["pid"], status["formatVersion"], status["writer"]) == (
        "completed", 2, os.getpid(), FORMAT_VERSION, "test writer")
    assert "inbox" not in status, "a completed writer reads no controls: no inbox advertised"
    assert json.loads((folder / "config.json").read_text()) == config
    assert_valid(config, "config.schema.json", "config.json")
    metrics = json_lines(folder / "metrics.jsonl")
    assert metrics[0] == {"step": 1, "elapsedMs": 812.5, "actor/pg_loss": 0.25, "reward/mean": None, "critic/advantages/max": None}
    for line in metrics:
        assert_valid(line, "metrics-line.schema.json", "a metrics line")
    for line in json_lines(folder / "validation.jsonl"):
        assert_valid(line, "validation-line.schema.json", "a validation line")
    groups = json_lines(folder / "rollouts" / "step-000002.jsonl")
    assert groups == [GROUP, GROUP]
    for group in groups:
        assert_valid(group, "rollout-group.schema.json", "a rollouts line")
    leftovers = [p.name for p in folder.rglob(".tmp-*")]
    assert leftovers == [], f"unfinished writes left behind: {leftovers}"


def test_status_schema_requires_what_readers_need() -> None:
    required = load("status.schema.json")["required"]
    assert required == ["state", "step", "pid", "updatedAt"]


def test_a_folder_holding_a_link_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / "rollouts").mkdir(parents=True)
    outside = tmp_path / "outside.jsonl"
    outside.write_text("keep\n")
    (folder / "rollouts" / "step-000001.jsonl").symlink_to(outside)
    with pytest.raises(RunFolderError, match="symbolic link, rollouts/step-000001.jsonl"):
        RunFolder.create(folder, {})
    assert not (folder / "status.json").exists() and not (folder / "config.json").exists()
    assert outside.read_text() == "keep\n"


def test_an_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    RunFolder.create(tmp_path / "run", {"seed": 1}).close()
    with pytest.raises(RunFolderError, match="already holds a run"):
        RunFolder.create(tmp_path / "run", {"seed": 2})
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == {"seed": 1}


def test_writes_never_follow_a_link_planted_later(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n")
    run = RunFolder.create(tmp_path / "run", {})
    folder = tmp_path / "run"
    # an append-only log replaced by a link: refused, the target untouched
    (folder / "metrics.jsonl").symlink_to(outside)
    with pytest.raises(RunFolderError, match="symbolic link"):
        run.append_metrics(1, {"x": 1})
    # an atomic file replaced by a link: the link itself is replaced, the target untouched
    (folder / "status.json").unlink()
    (folder / "status.json").symlink_to(outside)
    run.write_status("running", 1)
    assert not (folder / "status.json").is_symlink()
    # a sub-folder replaced by a link to a folder outside: refused
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "rollouts").rmdir()
    (folder / "rollouts").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(RunFolderError, match="rollouts/"):
        run.write_rollouts(1, [GROUP])
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(ValueError, match="inside the run folder"):
        run.append_lines("../escape.jsonl", [{"step": 1}])
    with pytest.raises(ValueError, match="image name"):
        run.write_image("../x.png", b"")
    run.close()
    assert outside.read_text() == "keep\n"


def test_bad_records_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    with RunFolder.create(tmp_path / "run", {}) as run:
        with pytest.raises(ValueError, match="step must be a whole number"):
            run.append_metrics(-1, {"x": 1})
        with pytest.raises(ValueError, match="state must be one of"):
            run.write_status("sleeping", 1)
        with pytest.raises(ValueError, match="accuracy must be in"):
            run.append_validation(1, 1.5, 0)
        with pytest.raises(ValueError, match="non-finite numbers must be written as null"):
            run.write_rollouts(1, [dict(GROUP, visualEntropy=float("nan"))])
    assert not (tmp_path / "run" / "metrics.jsonl").exists()
    assert not (tmp_path / "run" / "rollouts" / "step-000001.jsonl").exists()
