"""Counting probe: how well can a small learned model that reads the frozen encoder's 8 x 8 patch features count?

The perception step every policy of the built-in suite needs is counting objects of a colour, a shape or a
colour+shape pair. This probe learns exactly that and nothing else, so it converges within minutes where a whole
decoder policy does not (on 2 shared cores): a small convolutional net over the 8 x 8 grid of patch features
(1 x 1 convolutions = a per-patch MLP, then 3 x 3 convolutions so an object split across patches can be counted
once), sum-pooled, then an MLP with 23 heads, each a distribution over the counts 0..15. No task knowledge: it
gets the features and learns the 23 counts from the ground truth.

Reports held-out exact-count accuracy by perceptual level (per count kind: colours, shapes, pairs) and, on a
second export of tasks at perceptual level 0 (--reasoning DIR), the accuracy of answering each reasoning level's
questions with the probe's counts combined by exact arithmetic (so the reasoning knob's effect here is only the
compounding of counting errors over more terms: a learned policy also has to learn the arithmetic).

    bench/probe/export-all.sh v2 /tmp/probe
    nice -n 10 /usr/bin/python3 bench/probe/countProbe.py /tmp/probe/v2-perceptual --reasoning /tmp/probe/v2-reasoning --seconds 180
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict

import numpy as np
import torch
from torch import nn

MAX_COUNT = 15


def load(directory: str, split: str):
    meta = json.load(open(os.path.join(directory, f"{split}.meta.json")))
    rows = [json.loads(line) for line in open(os.path.join(directory, f"{split}.jsonl"))]
    features = torch.from_numpy(np.load(os.path.join(directory, f"{split}.features.npy")))
    return meta, rows, features


class CountNet(nn.Module):
    def __init__(self, dims: int, counted: int, width: int = 48):
        super().__init__()
        self.norm = nn.BatchNorm2d(dims)
        self.body = nn.Sequential(
            nn.Conv2d(dims, width, 1), nn.GELU(), nn.Conv2d(width, width, 1), nn.GELU(),
            nn.Conv2d(width, width, 3, padding=1), nn.GELU(), nn.Conv2d(width, width, 3, padding=1), nn.GELU(),
            nn.Conv2d(width, 2 * width, 1))
        self.head = nn.Sequential(nn.Linear(2 * width, 2 * width), nn.GELU(), nn.Linear(2 * width, counted * (MAX_COUNT + 1)))
        self.counted = counted

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """[B, 64, d] patch features -> [B, counted, 16] count logits."""
        b, n, d = patches.shape
        side = int(round(n ** 0.5))
        grid = patches.transpose(1, 2).reshape(b, d, side, side)
        pooled = self.body(self.norm(grid)).sum((2, 3)) / 8.0
        return self.head(pooled).view(b, self.counted, MAX_COUNT + 1)


def predict(model: CountNet, features: torch.Tensor, batch: int = 1000) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(features[i: i + batch]).argmax(-1) for i in range(0, len(features), batch)])
    model.train()
    return out.numpy()


def answer_from_counts(question: str, counts: dict[str, int]) -> str:
    """The answer the question asks for, computed from counts by phrase (same grammar as the suite's questions)."""
    compare = re.match(r"^are there (more|fewer) (.+) than (.+) \?$", question)
    if compare:
        left, right = counts[compare[2]], counts[compare[3]]
        return "yes" if (left > right if compare[1] == "more" else left < right) else "no"
    difference = re.match(r"^how many more (.+) than (.+) \?$", question)
    if difference:  # either side may be a group "X plus Y"
        group = lambda text: sum(counts[phrase] for phrase in text.split(" plus "))  # noqa: E731
        return str(group(difference[1]) - group(difference[2]))
    body = re.match(r"^how many (.+) \?$", question)[1]
    parts = re.split(r" (plus|minus) ", body)
    value = counts[parts[0]]
    for i in range(1, len(parts), 2):
        value += counts[parts[i + 1]] if parts[i] == "plus" else -counts[parts[i + 1]]
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", help="export with `counts` (bench/probe/exportSuite.ts), any perceptual levels")
    parser.add_argument("--reasoning", help="export at perceptual level 0 with all reasoning levels (validation split used)")
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write the tables here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    meta, train_rows, train_f = load(args.directory, "train")
    _, val_rows, val_f = load(args.directory, "validation")
    names = meta["countNames"]
    train_c = torch.tensor([row["counts"] for row in train_rows]).clamp(max=MAX_COUNT)
    val_c = np.array([row["counts"] for row in val_rows])
    model = CountNet(train_f.shape[2], len(names))
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    started = time.perf_counter()
    samples = 0
    while time.perf_counter() - started < args.seconds:
        order = torch.randperm(len(train_rows), generator=generator)
        for start in range(0, len(order) - args.batch + 1, args.batch):
            idx = order[start: start + args.batch]
            logits = model(train_f[idx])
            loss = nn.functional.cross_entropy(logits.reshape(-1, MAX_COUNT + 1), train_c[idx].reshape(-1))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            samples += args.batch
            if time.perf_counter() - started >= args.seconds:
                break
    trained = time.perf_counter() - started

    predicted = predict(model, val_f)
    exact = predicted == np.minimum(val_c, MAX_COUNT)
    groups = {"colours": slice(0, 5), "shapes": slice(5, 8), "pairs": slice(8, 23), "all": slice(0, 23)}
    levels = np.array([row["perceptualLevel"] for row in val_rows])
    # Blind: the most common training count of each kind, per kind.
    blind_counts = [int(np.bincount(train_c[:, k].numpy()).argmax()) for k in range(len(names))]
    blind = val_c == np.array(blind_counts)[None, :]
    table = {"suite": meta.get("suite"), "trainedSeconds": round(trained, 1), "samples": samples, "loss": float(loss), "perceptual": {}}
    print(f"{args.directory}: {meta.get('suite')} suite, {len(train_rows)} train / {len(val_rows)} validation images, "
          f"{sum(p.numel() for p in model.parameters())} parameters, {samples} samples in {trained:.0f} s ({samples / trained:.0f}/s), loss {float(loss):.3f}")
    print("exact-count accuracy by perceptual level 0..3 (blind = most common count of each kind)")
    for group, sl in groups.items():
        accs = [exact[levels == p][:, sl].mean() for p in range(4)]
        blinds = [blind[levels == p][:, sl].mean() for p in range(4)]
        table["perceptual"][group] = {"accuracy": accs, "blind": blinds}
        print(f"  {group:8s} " + "  ".join(f"{a:.3f}" for a in accs) + f"   (0 - 3: {100 * (accs[0] - accs[3]):+.1f} points)   blind "
              + "  ".join(f"{b:.3f}" for b in blinds))
    # The question each validation task asked at reasoning level 0 is one count: the probe's answer to it.
    asked = [answer_from_counts(row["question"], dict(zip(names, predicted[i]))) == row["answer"] for i, row in enumerate(val_rows)]
    table["perceptual"]["asked"] = [float(np.mean([a for a, p in zip(asked, levels) if p == level])) for level in range(4)]
    print("  asked    " + "  ".join(f"{a:.3f}" for a in table["perceptual"]["asked"]) + "   (the count each task's question asks)")

    if args.reasoning:
        rmeta, rrows, rf = load(args.reasoning, "validation")
        if rmeta.get("suite") != meta.get("suite"):
            raise SystemExit("the --reasoning export is of another suite version")
        rpred = predict(model, rf)
        by_level = defaultdict(list)
        for i, row in enumerate(rrows):
            counts = dict(zip(names, rpred[i]))
            by_level[row["reasoningLevel"]].append(answer_from_counts(row["question"], counts) == row["answer"])
        accs = [float(np.mean(by_level[r])) for r in range(4)]
        table["reasoning"] = {"accuracy": accs, "n": [len(by_level[r]) for r in range(4)]}
        print("answer accuracy by reasoning level 0..3 at perceptual level 0, probe counts + exact arithmetic: "
              + "  ".join(f"{a:.3f}" for a in accs) + f"   (0 - 3: {100 * (accs[0] - accs[3]):+.1f} points)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1, default=float)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
