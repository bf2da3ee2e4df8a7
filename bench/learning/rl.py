"""RL of the general policy (PyTorch twin) from a warmed-up base: G rollouts per prompt at a temperature, reward
from durian_rl.reward, advantages from durian_rl.estimators (grpo, durian, ...), PPO-clip loss (token mean over
the rollouts whose advantage is not 0), several epochs / mini-batches per rollout batch, Adam; greedy held-out
accuracy every --check-every seconds of training (evaluation time is not counted in the training clock).

  nice -n 10 /usr/bin/python3 bench/learning/rl.py --tasks /tmp/learning-data --base DIR --seconds 180 --log OUT.jsonl
"""
from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch

from common import Clock, GeneralPolicy, blind_scores, evaluate, fmt, load, load_average, score_response
from durian_rl.estimators import compute_advantages


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--seconds", type=float, default=180, help="training wall time (evaluations excluded)")
    p.add_argument("--check-every", type=float, default=15)
    p.add_argument("--eval-size", type=int, default=1000)
    p.add_argument("--estimator", default="grpo")
    p.add_argument("--prompts", type=int, default=64)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--minibatches", type=int, default=2)
    p.add_argument("--clip", type=float, default=0.2)
    p.add_argument("--kl", type=float, default=0.0, help="k3 KL to the base, per token")
    p.add_argument("--sft-mix", type=float, default=0.0, help="(not RL; off by default)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--log", default=None)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train, val = load(a.tasks)
    policy = GeneralPolicy.load(a.base)
    reference = copy.deepcopy(policy) if a.kl > 0 else None
    opt = torch.optim.Adam(policy.parameters(), lr=a.lr)
    rng = np.random.default_rng(1000 + a.seed)
    feats, qs = torch.from_numpy(train.features), torch.from_numpy(train.questions)
    lr_len = train.shape["maxResponseLength"]
    log = open(a.log, "w") if a.log else None

    def emit(row):
        print(json.dumps(row), flush=True)
        if log:
            log.write(json.dumps(row) + "\n"); log.flush()

    emit({"config": vars(a), "blind": blind_scores(train, val), "load": load_average()})
    train_s, cpu0, step, rollouts = 0.0, time.process_time(), 0, 0
    base_scores = evaluate(policy, val, a.eval_size)
    emit({"step": 0, "rollouts": 0, "train_s": 0.0, "cpu_s": 0.0, "load": load_average(), **base_scores})
    next_check = a.check_every
    train_acc_hist = []
    while train_s < a.seconds:
        t0 = time.time()
        idx = rng.integers(0, len(train), a.prompts)
        f, q = feats[idx], qs[idx]
        rows = a.prompts * a.group
        uniforms = torch.from_numpy(rng.random((rows, lr_len)))
        out = policy.sample(f, q, uniforms, group_size=a.group, temperature=a.temperature)
        answers = [train.tasks[i]["answer"] for i in idx]
        resp = out.responses.tolist()
        scores = [score_response(resp[r], answers[r // a.group]) for r in range(rows)]
        rewards = np.asarray([s.reward for s in scores])
        acc = np.asarray([s.accuracy for s in scores], dtype=float)
        train_acc_hist.append(acc.mean())
        batch = {"index": np.repeat(np.arange(a.prompts), a.group).tolist(), "scores": rewards.tolist(),
                 "lengths": out.lengths.tolist(), "visualEntropy": np.repeat(train.visual_entropy[idx], a.group).tolist(),
                 "logprob": out.sequence_logprobs.tolist(), "accuracy": acc.tolist()}
        adv = compute_advantages(a.estimator, batch, None).advantages
        live = np.nonzero(np.abs(adv) > 1e-9)[0]
        if len(live):
            rep = torch.from_numpy(np.repeat(np.arange(a.prompts), a.group)[live])
            lf, lq, lresp = f[rep], q[rep], out.responses[live]
            old = out.token_logprobs[live].to(torch.float32)
            A = torch.tensor(adv[live], dtype=torch.float32)[:, None]
            ref_lp = None
            if reference is not None:
                with torch.no_grad():
                    ref_lp, _ = reference.token_logprobs(lf, lq, lresp, a.temperature)
            for _ in range(a.epochs):
                perm = torch.from_numpy(rng.permutation(len(live)))
                for chunk in torch.chunk(perm, a.minibatches):
                    lp, mask = policy.token_logprobs(lf[chunk], lq[chunk], lresp[chunk], a.temperature)
                    ratio = torch.exp(lp - old[chunk])
                    obj = torch.minimum(ratio * A[chunk], torch.clamp(ratio, 1 - a.clip, 1 + a.clip) * A[chunk])
                    loss_tok = -obj
                    if ref_lp is not None:
                        d = ref_lp[chunk] - lp
                        loss_tok = loss_tok + a.kl * (torch.exp(d) - d - 1)
                    loss = (loss_tok * mask).sum() / mask.sum()
                    opt.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
                    opt.step()
        step += 1
        rollouts += rows
        train_s += time.time() - t0
        if train_s >= next_check or train_s >= a.seconds:
            cpu = time.process_time() - cpu0
            s = evaluate(policy, val, a.eval_size)
            emit({"step": step, "rollouts": rollouts, "train_s": round(train_s, 1), "cpu_s": round(cpu, 1), "load": load_average(),
                  "train_acc": round(float(np.mean(train_acc_hist[-5:])), 3), "live_frac": round(len(live) / rows, 3), **s})
            next_check = train_s + a.check_every
    final = evaluate(policy, val, 0)
    emit({"final": True, "step": step, "rollouts": rollouts, "train_s": round(train_s, 1), "gain": round(final["all"] - base_scores["all"], 3)
          if a.eval_size in (0, len(val)) else None, **final})


if __name__ == "__main__":
    main()
