"""Difficulty probe of the built-in suite: does each knob make the tasks harder for a *generic* learned policy?

Trains the general policy's PyTorch twin (python/durian_rl/policy.py: a transformer decoder with cross-attention
to the frozen encoder's patch features, no task knowledge) supervised on gold responses for a fixed time, then
reports held-out accuracy (greedy; the token before the first <eos> is the answer, as the reward reads it) by
perceptual level at reasoning level 0 and by reasoning level at perceptual level 0, beside two blind scores computed from the training set:
the most common answer per question type (reasoning level and question kind) and per exact question text.
Evaluates at every checkpoint (--eval-every seconds), so a base policy of ~0.35-0.45 can be read as well as the end.

    bench/probe/export-all.sh v2 /tmp/probe      # -> /tmp/probe/v2-perceptual, /tmp/probe/v2-reasoning
    nice -n 10 /usr/bin/python3 bench/probe/probe.py /tmp/probe/v2-perceptual /tmp/probe/v2-reasoning --seconds 240
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from durian_rl.policy import GeneralPolicy  # noqa: E402  (the general policy's twin, F's module)


def load_one(directory: str, split: str):
    meta = json.load(open(os.path.join(directory, f"{split}.meta.json")))
    rows = [json.loads(line) for line in open(os.path.join(directory, f"{split}.jsonl"))]
    features = np.load(os.path.join(directory, f"{split}.features.npy"))
    lq, lr = meta["shape"]["maxQuestionLength"], meta["shape"]["maxResponseLength"]
    questions = np.zeros((len(rows), lq), dtype=np.int64)
    responses = np.zeros((len(rows), lr), dtype=np.int64)
    for i, row in enumerate(rows):
        questions[i, : len(row["questionTokens"])] = row["questionTokens"]
        responses[i, : len(row["goldResponse"])] = row["goldResponse"]
    return meta, rows, features, questions, responses


def load(directories: list[str], split: str):
    """One split of every directory, concatenated (same suite and shapes required)."""
    parts = [load_one(directory, split) for directory in directories]
    meta = parts[0][0]
    for other in parts[1:]:
        if other[0]["shape"] != meta["shape"] or other[0].get("suite") != meta.get("suite"):
            raise SystemExit(f"{directories}: the exports differ in suite or shape")
    rows = [row for part in parts for row in part[1]]
    cat = lambda k: torch.from_numpy(np.concatenate([part[k] for part in parts]))  # noqa: E731
    return meta, rows, cat(2), cat(3), cat(4)


class FastDecoder(nn.Module):
    """A cheaper generic decoder for machines where the twin learns too slowly (--model fast): the state at
    response position t is a sum of position-specific embeddings of the question tokens and of the response tokens
    before t, refined by an MLP and two rounds of multi-head cross-attention to the projected patch features.
    No task knowledge: no keyword splitting, no count pointer, no arithmetic in the architecture."""

    def __init__(self, shape, d: int = 64, heads: int = 4):
        super().__init__()
        lq, lr, vq, vr = shape["maxQuestionLength"], shape["maxResponseLength"], shape["questionVocabSize"], shape["responseVocabSize"]
        self.lq, self.lr, self.vq, self.vr, self.eos, self.heads = lq, lr, vq, vr, shape["eosToken"], heads
        self.question = nn.Embedding(lq * vq, d)
        self.response = nn.Embedding(lr * vr, d)
        self.position = nn.Embedding(lr, d)
        self.patch_norm = nn.LayerNorm(shape["patchDim"])
        self.patch = nn.Linear(shape["patchDim"], d)
        self.patch_position = nn.Parameter(torch.randn(shape["patchCount"], d) * 0.02)
        self.rounds = nn.ModuleList()
        for _ in range(2):
            self.rounds.append(nn.ModuleDict({
                "norm": nn.LayerNorm(d), "mlp": nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d)),
                "q": nn.Linear(d, d), "kv": nn.Linear(d, 2 * d), "o": nn.Linear(d, d)}))
        self.out_norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, vr)

    def _state(self, questions: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """[B, T, d] from questions [B, Lq] and response tokens [B, T] (state t sees tokens before t)."""
        q_ids = questions + self.vq * torch.arange(self.lq)[None, :]
        bag = (self.question(q_ids) * (questions != 0)[..., None]).sum(1)
        t = previous.shape[1]
        r = self.response(previous + self.vr * torch.arange(t)[None, :]) * (previous != 0)[..., None]
        before = torch.cumsum(r, 1) - r
        return bag[:, None, :] + before + self.position.weight[:t][None]

    def forward(self, patches: torch.Tensor, questions: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        memory = self.patch(self.patch_norm(patches)) + self.patch_position
        x = self._state(questions, previous)
        b, t, d = x.shape
        h = d // self.heads
        for block in self.rounds:
            x = x + block["mlp"](block["norm"](x))
            k, v = block["kv"](memory).split(d, dim=-1)
            q = block["q"](x).view(b, t, self.heads, h).transpose(1, 2)
            k = k.view(b, -1, self.heads, h).transpose(1, 2)
            v = v.view(b, -1, self.heads, h).transpose(1, 2)
            att = torch.softmax(q @ k.transpose(-1, -2) / h ** 0.5, -1) @ v
            x = x + block["o"](att.transpose(1, 2).reshape(b, t, d))
        return self.out(self.out_norm(x))

    def loss(self, patches, questions, responses) -> torch.Tensor:
        logits = self(patches, questions, responses)
        mask = responses != 0
        return nn.functional.cross_entropy(logits[mask], responses[mask])

    @torch.no_grad()
    def greedy(self, patches, questions) -> torch.Tensor:
        b = patches.shape[0]
        out = torch.zeros(b, self.lr, dtype=torch.long)
        for t in range(self.lr):
            logits = self(patches, questions, out[:, : t + 1])[:, t]
            logits[:, 0] = -1e9  # never pad
            out[:, t] = logits.argmax(-1)
        # Tokens after the first <eos> are ignored, as by the reward.
        return out


def final_answers(responses: torch.Tensor, eos: int) -> list[int]:
    """The token just before the first <eos> (-1 when there is none or it comes first), per row."""
    out = []
    for row in responses.tolist():
        at = row.index(eos) if eos in row else -1
        out.append(row[at - 1] if at > 0 else -1)
    return out


def evaluate(policy, features, questions, gold_answers, eos, batch=1000) -> np.ndarray:
    correct = []
    with torch.no_grad():
        for start in range(0, len(gold_answers), batch):
            sl = slice(start, start + batch)
            responses = policy.greedy(features[sl], questions[sl]) if isinstance(policy, FastDecoder) else \
                policy.sample(features[sl], questions[sl], greedy=True).responses
            correct += [int(a == g) for a, g in zip(final_answers(responses, eos), gold_answers[sl])]
    return np.array(correct)


def tables(rows, correct, blind_type, blind_text) -> dict:
    """Accuracy, blind scores and mean visual entropy per (perceptual, reasoning) cell present, and overall."""
    cells = defaultdict(list)
    for row, ok, bt, bq in zip(rows, correct, blind_type, blind_text):
        cells[f"p{row['perceptualLevel']}r{row['reasoningLevel']}"].append((ok, bt, bq, row["visualEntropy"]))

    def summary(items):
        a = np.array(items, dtype=float)
        return {"n": len(items), "accuracy": a[:, 0].mean(), "blindType": a[:, 1].mean(), "blindQuestion": a[:, 2].mean(), "entropy": a[:, 3].mean()}

    return {"cells": {key: summary(items) for key, items in sorted(cells.items())},
            "overall": summary([x for items in cells.values() for x in items])}


def print_tables(label: str, t: dict) -> None:
    cells = t["cells"]
    print(f"\n== {label}: overall accuracy {t['overall']['accuracy']:.3f} (blind per type {t['overall']['blindType']:.3f}, "
          f"per question {t['overall']['blindQuestion']:.3f}, n {t['overall']['n']})")
    for knob, keys in (("perceptual level 0..3 at reasoning level 0", [f"p{p}r0" for p in range(4)]),
                       ("reasoning level 0..3 at perceptual level 0", [f"p0r{r}" for r in range(4)])):
        if not all(key in cells for key in keys):
            continue
        row = lambda field: "  ".join(f"{cells[key][field]:.3f}" for key in keys)  # noqa: E731
        drop = cells[keys[0]]["accuracy"] - cells[keys[-1]]["accuracy"]
        print(f"  {knob}: accuracy {row('accuracy')}  (level 0 - level 3: {100 * drop:+.1f} points; n {row('n').replace('.000', '')})")
        print(f"  {' ' * len(knob)}  blind/type {row('blindType')}  blind/question {row('blindQuestion')}  entropy {row('entropy')}")


def blind_scores(train_rows, val_rows) -> tuple[list[int], list[int]]:
    """Per validation task: is the most common training answer of its question type (reasoning level and kind),
    and of its exact question text (falling back to the type for unseen questions), right?"""
    by_type, by_text = defaultdict(Counter), defaultdict(Counter)
    for row in train_rows:
        by_type[(row["reasoningLevel"], row["kind"])][row["answer"]] += 1
        by_text[row["question"]][row["answer"]] += 1
    common = lambda counter: counter.most_common(1)[0][0] if counter else None  # noqa: E731
    blind_type = [int(common(by_type[(r["reasoningLevel"], r["kind"])]) == r["answer"]) for r in val_rows]
    blind_text = [int(common(by_text[r["question"]] or by_type[(r["reasoningLevel"], r["kind"])]) == r["answer"]) for r in val_rows]
    return blind_type, blind_text


def report_evaluation(results, rows, correct, blind_type, blind_text, trained, samples, loss) -> None:
    """Appends one evaluation's tables (with training time, samples and loss) to `results` and prints them."""
    t = tables(rows, correct, blind_type, blind_text)
    t.update({"trainedSeconds": round(trained, 1), "samples": samples, "loss": loss})
    results.append(t)
    print_tables(f"after {trained:.0f} s training ({samples} samples, {samples / trained:.0f}/s, loss {loss:.3f})", t)
    sys.stdout.flush()


def train_timed(n, batch, seconds, eval_every, generator, optimiser, loss_of, on_eval) -> None:
    """Shuffled mini-batch epochs over n rows for `seconds` of training time (evaluation time excluded), calling
    on_eval(trained_seconds, samples, loss) every `eval_every` training seconds and once at the end."""
    trained, samples, next_eval, loss = 0.0, 0, eval_every, None
    while True:
        order = torch.randperm(n, generator=generator)
        tick = time.perf_counter()
        for start in range(0, n - batch + 1, batch):
            loss = loss_of(order[start: start + batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            samples += batch
            now = time.perf_counter()
            trained += now - tick
            tick = now
            if trained >= next_eval or trained >= seconds:
                break
        if trained >= next_eval or trained >= seconds:
            on_eval(trained, samples, float(loss))
            next_eval += eval_every
            if trained >= seconds:
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directories", nargs="+", help="folders with train.* and validation.* from bench/probe/exportSuite.ts")
    parser.add_argument("--seconds", type=float, default=240, help="training time (default 240)")
    parser.add_argument("--eval-every", type=float, default=60, help="seconds between evaluations (default 60)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", choices=("twin", "fast"), default="twin",
                        help="twin: the general policy's PyTorch twin (python/durian_rl/policy.py); fast: FastDecoder")
    parser.add_argument("--d", type=int, default=64, help="model width (the general policy's default: 64)")
    parser.add_argument("--layers", type=int, default=3, help="decoder layers (default 3)")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write every evaluation's tables here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    meta, train_rows, train_f, train_q, train_r = load(args.directories, "train")
    _, val_rows, val_f, val_q, val_r = load(args.directories, "validation")
    eos = meta["shape"]["eosToken"]
    gold = [row["goldResponse"][-2] for row in val_rows]

    blind_type, blind_text = blind_scores(train_rows, val_rows)

    if args.model == "twin":
        policy = GeneralPolicy(meta["shape"], seed=args.seed, d=args.d, heads=args.heads, layers=args.layers)
        step_loss = lambda f, q, r: -(lambda lp, m: lp.sum() / m.sum())(*policy.token_logprobs(f, q, r))  # noqa: E731
    else:
        policy = FastDecoder(meta["shape"], d=args.d, heads=args.heads)
        step_loss = policy.loss
    optimiser = torch.optim.Adam(policy.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    n = len(train_rows)
    results = []
    started = time.perf_counter()
    print(f"{' '.join(args.directories)}: {meta.get('suite', '?')} suite, {n} train / {len(val_rows)} validation tasks, "
          f"{sum(p.numel() for p in policy.parameters())} parameters ({args.model}), {args.threads} threads")

    def on_eval(trained, samples, loss):
        correct = evaluate(policy, val_f, val_q, gold, eos)
        report_evaluation(results, val_rows, correct, blind_type, blind_text, trained, samples, loss)

    train_timed(n, args.batch, args.seconds, args.eval_every, generator, optimiser,
                lambda idx: step_loss(train_f[idx], train_q[idx], train_r[idx]), on_eval)
    print(f"\nwall {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"directories": args.directories, "suite": meta.get("suite"), "args": vars(args), "evaluations": results}, f, indent=1, default=float)


if __name__ == "__main__":
    main()
