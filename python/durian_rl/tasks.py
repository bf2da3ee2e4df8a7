"""Tasks exported by `durian export-tasks` (src/cli/exportTasks.ts): DIR/<split>.meta.json, DIR/<split>.jsonl and
DIR/<split>.features.npy (float32 [n, patches, dims]), loaded as numpy arrays ready for the PyTorch policy."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

EXPORT_FORMAT = "durian-tasks/1"


class TasksError(ValueError):
    """An exported tasks folder that is missing, incomplete or of another format (the message says which file)."""


@dataclass
class TaskSet:
    split: str
    meta: dict[str, Any]
    #: One dict per task, as in <split>.jsonl (id, levels, question, answer, goldResponse, rewardChecks, ...).
    tasks: list[dict[str, Any]]
    #: [n, patches, dims] float32.
    features: np.ndarray
    #: [n, maxQuestionLength] int64, right-padded with 0.
    questions: np.ndarray
    #: [n, maxResponseLength] int64 gold responses, right-padded with 0.
    gold: np.ndarray
    #: [n] float64 visual entropy of each image.
    visual_entropy: np.ndarray

    @property
    def shape(self) -> dict[str, int]:
        """The policy shape (src/trainer/policy/policy.ts PolicyShape)."""
        return dict(self.meta["shape"])

    @property
    def answers(self) -> list[str]:
        return [task["answer"] for task in self.tasks]

    def __len__(self) -> int:
        return len(self.tasks)


def _pad(rows: list[list[int]], length: int, what: str) -> np.ndarray:
    out = np.zeros((len(rows), length), dtype=np.int64)
    for i, row in enumerate(rows):
        if len(row) > length:
            raise TasksError(f"{what} of task {i} has {len(row)} tokens, the limit is {length}")
        out[i, : len(row)] = row
    return out


def load_tasks(directory: str, split: str) -> TaskSet:
    """The exported `split` ('train' or 'validation') in `directory`."""
    meta_path = os.path.join(directory, f"{split}.meta.json")
    if not os.path.isfile(meta_path):
        raise TasksError(f"no exported {split} tasks in {directory} ({split}.meta.json missing): run "
                         f"`durian export-tasks --split {split} --n N --out {directory}`")
    with open(meta_path, encoding="utf-8") as handle:
        meta = json.load(handle)
    if meta.get("format") != EXPORT_FORMAT:
        raise TasksError(f"{meta_path}: format {meta.get('format')!r}, this reader reads {EXPORT_FORMAT!r}")
    with open(os.path.join(directory, f"{split}.jsonl"), encoding="utf-8") as handle:
        tasks = [json.loads(line) for line in handle if line.strip()]
    features = np.load(os.path.join(directory, f"{split}.features.npy"))
    shape = meta["shape"]
    expected = (meta["count"], shape["patchCount"], shape["patchDim"])
    if len(tasks) != meta["count"] or features.shape != expected or features.dtype != np.float32:
        raise TasksError(f"{directory}: {len(tasks)} task lines and features {features.shape} {features.dtype}, "
                         f"{split}.meta.json says {meta['count']} tasks of {expected[1:]} float32 (export again)")
    return TaskSet(
        split=split, meta=meta, tasks=tasks, features=features,
        questions=_pad([task["questionTokens"] for task in tasks], shape["maxQuestionLength"], "question"),
        gold=_pad([task["goldResponse"] for task in tasks], shape["maxResponseLength"], "gold response"),
        visual_entropy=np.asarray([task["visualEntropy"] for task in tasks], dtype=np.float64),
    )
