"""Shared pieces of the learning probes (issue 14 item 6): exported tasks, greedy held-out accuracy per question
type, the blind score (most common train answer for each question string). Run with /usr/bin/python3 from the
repository root; tasks come from `node dist/cli.js export-tasks ... --out DIR`."""
from __future__ import annotations

import collections
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from durian_rl.policy import GeneralPolicy  # noqa: E402
from durian_rl.reward import score_response  # noqa: E402
from durian_rl.tasks import TaskSet, load_tasks  # noqa: E402

#: Question types = the suite's reasoning levels: 0 count, 1 compare (yes/no), 2 two-term arithmetic, 3 three-term.
TYPE_NAMES = ("count", "compare", "arith2", "arith3")


def load(directory: str) -> tuple[TaskSet, TaskSet]:
    return load_tasks(directory, "train"), load_tasks(directory, "validation")


def types_of(tasks: TaskSet) -> np.ndarray:
    return np.asarray([int(t["reasoningLevel"]) for t in tasks.tasks])


def blind_answers(train: TaskSet) -> tuple[dict[str, str], dict[int, str]]:
    by_question: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    by_type: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for task in train.tasks:
        by_question[task["question"]][task["answer"]] += 1
        by_type[int(task["reasoningLevel"])][task["answer"]] += 1
    return ({q: c.most_common(1)[0][0] for q, c in by_question.items()},
            {k: c.most_common(1)[0][0] for k, c in by_type.items()})


def blind_scores(train: TaskSet, held_out: TaskSet) -> dict[str, float]:
    """Accuracy of the most common train answer for each question string (fallback: for its type), overall and
    per question type."""
    per_question, per_type = blind_answers(train)
    types = types_of(held_out)
    hits = np.asarray([per_question.get(t["question"], per_type[int(t["reasoningLevel"])]) == t["answer"] for t in held_out.tasks], dtype=float)
    out = {"all": float(hits.mean())}
    for k, name in enumerate(TYPE_NAMES):
        out[name] = float(hits[types == k].mean()) if (types == k).any() else float("nan")
    return out


@torch.no_grad()
def evaluate(policy: GeneralPolicy, tasks: TaskSet, limit: int = 0, batch: int = 500) -> dict[str, float]:
    """Greedy held-out accuracy (the reward's accuracy term), overall and per question type."""
    n = len(tasks) if limit <= 0 else min(limit, len(tasks))
    hits = np.zeros(n)
    for start in range(0, n, batch):
        end = min(n, start + batch)
        out = policy.sample(torch.from_numpy(tasks.features[start:end]), torch.from_numpy(tasks.questions[start:end]), greedy=True)
        for i, row in enumerate(out.responses.tolist()):
            hits[start + i] = score_response(row, tasks.tasks[start + i]["answer"]).accuracy
    types = types_of(tasks)[:n]
    result = {"all": float(hits.mean())}
    for k, name in enumerate(TYPE_NAMES):
        result[name] = float(hits[types == k].mean()) if (types == k).any() else float("nan")
    return result


def load_average() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def fmt(scores: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.3f}" for k, v in scores.items())


class Clock:
    def __init__(self) -> None:
        self.start = time.time()
        self.cpu = time.process_time()

    def wall(self) -> float:
        return time.time() - self.start

    def cpu_s(self) -> float:
        return time.process_time() - self.cpu
