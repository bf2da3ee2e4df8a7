"""Answer probe: a small generic question-answering model over the frozen encoder's patch features, cheap enough
to learn within minutes on 2 shared cores (where the general policy's twin, bench/probe/probe.py, does not).

Convolutions over the 8 x 8 grid of patch features (1 x 1 = a per-patch MLP, then 3 x 3 for neighbours), each
modulated by the question (FiLM: scale and shift from a bag of position-specific question-token embeddings),
sum-pooled, then an MLP to the answer (0..15, yes, no). No task knowledge: no keyword splitting, no count
pointer, no arithmetic in the architecture. It answers directly, without the gold response's intermediate counts,
so reasoning steps must be learned inside the network. Trained on the gold answers of the same exports as
probe.py; prints the same tables (accuracy by perceptual level at reasoning level 0 and by reasoning level at
perceptual level 0, beside the blind scores).

    bench/probe/export-all.sh v2 /tmp/probe
    nice -n 10 /usr/bin/python3 bench/probe/answerProbe.py /tmp/probe/v2-perceptual /tmp/probe/v2-reasoning --seconds 240
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe import blind_scores, load, report_evaluation, train_timed  # noqa: E402

ANSWERS = [str(n) for n in range(16)] + ["yes", "no"]


class AnswerNet(nn.Module):
    def __init__(self, shape, width: int = 48, d: int = 64):
        super().__init__()
        self.lq, self.vq = shape["maxQuestionLength"], shape["questionVocabSize"]
        self.question = nn.Embedding(self.lq * self.vq, d)
        self.question_mlp = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
        self.norm = nn.BatchNorm2d(shape["patchDim"])
        self.convs = nn.ModuleList([
            nn.Conv2d(shape["patchDim"], width, 1), nn.Conv2d(width, width, 1),
            nn.Conv2d(width, width, 3, padding=1), nn.Conv2d(width, width, 3, padding=1)])
        self.film = nn.ModuleList([nn.Linear(d, 2 * width) for _ in self.convs])
        self.head = nn.Sequential(nn.Linear(width + d, 2 * d), nn.GELU(), nn.Linear(2 * d, 2 * d), nn.GELU(), nn.Linear(2 * d, len(ANSWERS)))

    def forward(self, patches: torch.Tensor, questions: torch.Tensor) -> torch.Tensor:
        b, n, dims = patches.shape
        side = int(round(n ** 0.5))
        ids = questions + self.vq * torch.arange(self.lq)[None, :]
        q = self.question_mlp((self.question(ids) * (questions != 0)[..., None]).sum(1))
        x = self.norm(patches.transpose(1, 2).reshape(b, dims, side, side))
        for conv, film in zip(self.convs, self.film):
            scale, shift = film(q).chunk(2, dim=-1)
            x = nn.functional.gelu(conv(x) * (1 + scale[..., None, None]) + shift[..., None, None])
        return self.head(torch.cat([x.sum((2, 3)) / 8.0, q], dim=-1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directories", nargs="+")
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--eval-every", type=float, default=60)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    meta, train_rows, train_f, train_q, _ = load(args.directories, "train")
    _, val_rows, val_f, val_q, _ = load(args.directories, "validation")
    train_a = torch.tensor([ANSWERS.index(row["answer"]) for row in train_rows])
    val_a = np.array([ANSWERS.index(row["answer"]) for row in val_rows])
    blind_type, blind_text = blind_scores(train_rows, val_rows)
    model = AnswerNet(meta["shape"])
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    print(f"{' '.join(args.directories)}: {meta.get('suite')} suite, {len(train_rows)} train / {len(val_rows)} validation tasks, "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    results = []

    def on_eval(trained, samples, loss):
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(val_f[i: i + 1000], val_q[i: i + 1000]).argmax(-1) for i in range(0, len(val_rows), 1000)]).numpy()
        model.train()
        report_evaluation(results, val_rows, (predicted == val_a).astype(int), blind_type, blind_text, trained, samples, loss)

    train_timed(len(train_rows), args.batch, args.seconds, args.eval_every, generator, optimiser,
                lambda idx: nn.functional.cross_entropy(model(train_f[idx], train_q[idx]), train_a[idx]), on_eval)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"directories": args.directories, "suite": meta.get("suite"), "args": vars(args), "evaluations": results}, f, indent=1, default=float)


if __name__ == "__main__":
    main()
