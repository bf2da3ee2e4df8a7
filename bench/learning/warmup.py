"""Supervised warm-up of the general policy (PyTorch twin) on gold responses, with a held-out check every
--check-every seconds (or every --check-samples samples); saves a base each time held-out accuracy first reaches
one of --save-at. The recipe variants (--kernel-init fan-in; recipe.py: --init-gain, --embed-std, --memory-norm,
--loss sequence, --warmup-steps, --clip-norm) are opt-in; without them this is the twin's own warm-up.

  nice -n 10 /usr/bin/python3 bench/learning/warmup.py --tasks /tmp/learning-data --seconds 240 --out /tmp/learning-data/bases
  # A/B by samples: --max-samples 100000 --check-samples 8000 --eval-size 1000 --log bench/learning/runs/ab-NAME.jsonl
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from common import Clock, GeneralPolicy, blind_scores, evaluate, fmt, load, load_average
from recipe import MemoryNormPolicy, lr_at, reinitialise, sequence_loss, token_loss


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
    parser.add_argument("--max-samples", type=int, default=0, help="stop after this many training samples (0: --seconds only)")
    parser.add_argument("--check-samples", type=int, default=0, help="check every this many samples (0: every --check-every s)")
    parser.add_argument("--kernel-init", choices=("gpt2", "fan-in"), default="fan-in",
                        help="the policy's kernel init (durian_rl.policy KERNEL_INITS; fan-in = the twin's default; gpt2 = std 0.02, the earlier default)")
    parser.add_argument("--init-gain", type=float, default=None,
                        help="re-initialise kernels N(0, (gain/sqrt(fan_in))^2) (default: the twin's init, std 0.02)")
    parser.add_argument("--init-only", default="", help="with --init-gain: only kernels whose name contains one of these (comma-separated)")
    parser.add_argument("--embed-std", type=float, default=None,
                        help="re-initialise embeddings and positions N(0, std^2) (default: the twin's, std 0.02)")
    parser.add_argument("--memory-norm", action="store_true", help="layer-normalise the patch memory (architecture A/B)")
    parser.add_argument("--loss", choices=("token", "sequence"), default="token",
                        help="token: mean over all tokens of the batch (the twin's); sequence: per-response mean, then batch mean")
    parser.add_argument("--warmup-steps", type=int, default=0, help="linear lr warm-up steps")
    parser.add_argument("--clip-norm", type=float, default=0.0, help="gradient-norm clip (0: none)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, val = load(args.tasks)
    blind = blind_scores(train, val)
    print("blind", fmt(blind), flush=True)
    policy_class = MemoryNormPolicy if args.memory_norm else GeneralPolicy
    policy = policy_class.load(args.init) if args.init else policy_class(train.shape, seed=args.seed, kernel_init=args.kernel_init)
    if (args.init_gain is not None or args.embed_std is not None) and not args.init:
        reinitialise(policy, args.seed, args.init_gain, args.embed_std, tuple(filter(None, args.init_only.split(","))))
    loss_of = sequence_loss if args.loss == "sequence" else token_loss
    optimiser = torch.optim.Adam(policy.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    feats, qs, gold = torch.from_numpy(train.features), torch.from_numpy(train.questions), torch.from_numpy(train.gold)
    thresholds = [float(x) for x in args.save_at.split(",")]
    rows = []
    clock = Clock()
    samples = 0
    next_check = 0.0
    log = open(args.log, "w") if args.log else None
    if log:
        log.write(json.dumps({"config": vars(args), "blind": blind, "load": load_average()}) + "\n")
    step = 0
    losses: list[float] = []
    while True:
        if (samples >= next_check) if args.check_samples else (clock.wall() >= next_check):
            train_wall = clock.wall()
            scores = evaluate(policy, val, args.eval_size)
            row = {"samples": samples, "wall_s": round(train_wall, 1), "cpu_s": round(clock.cpu_s(), 1), "load": load_average(),
                   "loss": round(float(np.mean(losses)), 4) if losses else None, **scores}
            losses = []
            rows.append(row)
            print(json.dumps(row), flush=True)
            if log:
                log.write(json.dumps(row) + "\n"); log.flush()
            while thresholds and scores["all"] >= thresholds[0]:
                name = os.path.join(args.out, f"seed{args.seed}-acc{thresholds[0]:.2f}")
                policy.save(name)
                with open(os.path.join(name, "warmup.json"), "w") as handle:
                    json.dump({"row": row, "blind": blind, "lr": args.lr, "batch": args.batch, "seed": args.seed, "config": vars(args)}, handle)
                print("saved", name, flush=True)
                thresholds.pop(0)
            next_check = samples + args.check_samples if args.check_samples else clock.wall() + args.check_every
            policy.save(os.path.join(args.out, f"seed{args.seed}-last"))
            if clock.wall() >= args.seconds or not thresholds or (args.max_samples and samples >= args.max_samples):
                break
        index = torch.from_numpy(rng.integers(0, len(train), args.batch))
        logp, mask = policy.token_logprobs(feats[index], qs[index], gold[index])
        loss = loss_of(logp, mask)
        for group in optimiser.param_groups:
            group["lr"] = lr_at(step, args.lr, args.warmup_steps)
        optimiser.zero_grad()
        loss.backward()
        if args.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(policy.parameters(), args.clip_norm)
        optimiser.step()
        losses.append(float(loss))
        step += 1
        samples += args.batch


if __name__ == "__main__":
    main()
