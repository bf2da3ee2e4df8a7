"""`durian export-tasks` -> durian_rl.tasks: the exported tasks load with the shapes the meta file gives, and the
reward ported to Python (durian_rl.reward) gives the TypeScript scoreResponse's format, accuracy and reward for
every response the export scored (gold, bare, wrong answer, wrong kind, no EOS, empty, trailing tokens, too long,
random tokens, malformed)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from durian_rl.reward import RESPONSE_VOCAB, score_response
from durian_rl.tasks import TasksError, load_tasks

from conftest import export_tasks


def test_exported_tasks_load_with_their_shapes(exported_tasks: Path) -> None:
    train = load_tasks(str(exported_tasks), "train")
    shape = train.shape
    assert len(train) == 8 and train.features.shape == (8, shape["patchCount"], shape["patchDim"]) and train.features.dtype == np.float32
    assert train.questions.shape == (8, shape["maxQuestionLength"]) and train.gold.shape == (8, shape["maxResponseLength"])
    assert tuple(train.meta["responseVocab"]) == RESPONSE_VOCAB
    assert [task["id"] for task in train.tasks] == [f"train-{i:06d}" for i in range(8)]
    assert np.all(train.visual_entropy > 0) and np.all(np.isfinite(train.features))
    assert all((exported_tasks / task["image"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for task in train.tasks)
    validation = load_tasks(str(exported_tasks), "validation")
    assert not np.array_equal(validation.features, train.features)


def test_python_reward_equals_the_typescript_scores(exported_tasks: Path) -> None:
    seen: Counter[float] = Counter()
    checked = 0
    for split in ("train", "validation"):
        for task in load_tasks(str(exported_tasks), split).tasks:
            assert score_response(task["goldResponse"], task["answer"]).reward == 1.0
            for check in task["rewardChecks"]:
                got = score_response(check["tokens"], task["answer"])
                assert (got.format, got.accuracy, got.reward) == (check["format"], check["accuracy"], check["reward"]), (task["id"], check)
                seen[check["reward"]] += 1
                checked += 1
    assert checked == 16 * 10
    # Every outcome of the reward occurs, so a port that got any branch wrong would fail above.
    assert set(seen) == {0.0, 0.1, 0.9, 1.0}, seen


def test_a_missing_split_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TasksError, match="no exported train tasks .*`durian export-tasks --split train"):
        load_tasks(str(tmp_path), "train")


def test_the_same_seed_exports_the_same_tasks(exported_tasks: Path, tmp_path: Path) -> None:
    export_tasks(tmp_path, "train", 3)
    again, first = load_tasks(str(tmp_path), "train"), load_tasks(str(exported_tasks), "train")
    assert np.array_equal(again.features, first.features[:3])
    assert again.tasks == first.tasks[:3]
