"""Supervised warm-up of the general policy (PyTorch twin) on gold responses, with a held-out check every
--check-every seconds; saves a base each time held-out accuracy first reaches one of --save-at.

  nice -n 10 /usr/bin/python3 bench/learning/warmup.py --tasks /tmp/learning-data --seconds 240 --out /tmp/learning-data/bases
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from common import Clock, GeneralPolicy, blind_scores, evaluate, fmt, load, load_average


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--check-every", type=float, default=5)
    parser.add_argument("--eval-size", type=int, default=500)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save-at", default="0.36,0.40,0.44,0.48,0.55")
    parser.add_argument("--log", default=None)
    parser.add_argument("--init", default=None, help="continue from this base (policy.json + weights.bin)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, val = load(args.tasks)
    blind = blind_scores(train, val)
    print("blind", fmt(blind), flush=True)
    policy = GeneralPolicy.load(args.init) if args.init else GeneralPolicy(train.shape, seed=args.seed)
    optimiser = torch.optim.Adam(policy.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    feats, qs, gold = torch.from_numpy(train.features), torch.from_numpy(train.questions), torch.from_numpy(train.gold)
    thresholds = [float(x) for x in args.save_at.split(",")]
    rows = []
    clock = Clock()
    samples = 0
    next_check = 0.0
    log = open(args.log, "w") if args.log else None
    while True:
        if clock.wall() >= next_check:
            train_wall = clock.wall()
            scores = evaluate(policy, val, args.eval_size)
            row = {"samples": samples, "wall_s": round(train_wall, 1), "cpu_s": round(clock.cpu_s(), 1), "load": load_average(), **scores}
            rows.append(row)
            print(json.dumps(row), flush=True)
            if log:
                log.write(json.dumps(row) + "\n"); log.flush()
            while thresholds and scores["all"] >= thresholds[0]:
                name = os.path.join(args.out, f"seed{args.seed}-acc{thresholds[0]:.2f}")
                policy.save(name)
                with open(os.path.join(name, "warmup.json"), "w") as handle:
                    json.dump({"row": row, "blind": blind, "lr": args.lr, "batch": args.batch, "seed": args.seed}, handle)
                print("saved", name, flush=True)
                thresholds.pop(0)
            next_check = clock.wall() + args.check_every
            policy.save(os.path.join(args.out, f"seed{args.seed}-last"))
            if clock.wall() >= args.seconds or not thresholds:
                break
        index = torch.from_numpy(rng.integers(0, len(train), args.batch))
        logp, mask = policy.token_logprobs(feats[index], qs[index], gold[index])
        loss = -(logp.sum() / mask.sum())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        samples += args.batch


if __name__ == "__main__":
    main()
