"""Speed of the data-parallel trainer's two phases (python/durian_rl/ddp) on one process, at the paper's rollout
batch: P prompts x G samples (default 128 x 8), on CPU with a fixed number of torch threads.

  - rollouts: GeneralPolicy.sample as the trainer calls it (question prefix once per prompt, KV cache,
    inverse-CDF sampling from per-prompt uniforms, early stop once every row has ended) -> sequences/s;
  - update: teacher-forced log-probs of the P x G responses, verl's compute_policy_loss_vanilla (token-mean) plus
    low_var_kl kl_penalty + agg_loss against a reference policy, backward, global-norm clip, Adam -> samples/s.

Inputs: the exported tasks' features and questions with --tasks DIR (`durian export-tasks`), else random features
of the same shape. Wall-clock and process CPU time (medians): on a loaded machine the CPU time is the stable one.
Prints one JSON line. Run: /usr/bin/python3 bench/pytorch/ddp_step_bench.py [--threads 1] [--tasks DIR]
(bench/pytorch/general_step_bench.py is the twin's side of `durian bench --suite general-policy`.)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from durian_rl.ddp.verl_ops import PolicyLossConfig, load_core_algos  # noqa: E402
from durian_rl.policy import GeneralPolicy  # noqa: E402
from durian_rl.tasks import load_tasks  # noqa: E402
from bench_common import SHAPE, timed  # noqa: E402



def inputs(args):
    if args.tasks:
        tasks = load_tasks(args.tasks, "train")
        rows = np.arange(args.prompts) % len(tasks)
        return tasks.shape, torch.from_numpy(tasks.features[rows]), torch.from_numpy(tasks.questions[rows]), "exported tasks"
    g = torch.Generator().manual_seed(0)
    questions = torch.zeros(args.prompts, 12, dtype=torch.long)
    for p in range(args.prompts):
        length = 4 + p % 8
        questions[p, :length] = torch.randint(2, 21, (length,), generator=g)
    return SHAPE, torch.rand(args.prompts, 64, 32, generator=g), questions, "random features"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    shape, patches, questions, source = inputs(args)
    policy = GeneralPolicy(shape, seed=1)
    reference = GeneralPolicy(shape, seed=1)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-4)
    core = load_core_algos()
    rows = args.prompts * args.group_size
    uniforms = torch.rand(rows, shape["maxResponseLength"], generator=torch.Generator().manual_seed(1))
    samples = []
    rollout_wall, rollout_cpu = timed(lambda: samples.append(policy.sample(patches, questions, uniforms, group_size=args.group_size)), args.repeats)
    responses = samples[-1].responses
    rep_patches = patches.repeat_interleave(args.group_size, 0)
    rep_questions = questions.repeat_interleave(args.group_size, 0)
    mask = (responses != 0).float()
    advantages = torch.randn(rows, 1).expand_as(mask) * mask
    info = {"dp_size": 1, "batch_num_tokens": float(mask.sum())}
    config = PolicyLossConfig(clip_ratio=0.2, global_batch_info=info)
    loss_fn = core.get_policy_loss_fn("vanilla")
    with torch.no_grad():
        old, _ = policy.token_logprobs(rep_patches, rep_questions, responses)
        ref, _ = reference.token_logprobs(rep_patches, rep_questions, responses)

    def update():
        optimizer.zero_grad()
        logp, _ = policy.token_logprobs(rep_patches, rep_questions, responses)
        pg_loss, _ = loss_fn(old, logp, advantages, mask, "token-mean", config)
        kl = core.agg_loss(core.kl_penalty(logp, ref, "low_var_kl"), mask, "token-mean", **info)
        (pg_loss + 0.01 * kl).backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()

    update_wall, update_cpu = timed(update, args.repeats)
    print(json.dumps({
        "bench": "durian_rl.ddp step phases", "torch": torch.__version__, "threads": torch.get_num_threads(), "inputs": source,
        "prompts": args.prompts, "groupSize": args.group_size, "sequences": rows, "parameters": policy.describe()["parameters"],
        "meanResponseTokens": float((responses != 0).sum(-1).float().mean()), "repeats": args.repeats,
        "rollout": {"wallS": rollout_wall, "cpuS": rollout_cpu, "perSecond": rows / rollout_wall, "perCpuSecond": rows / rollout_cpu},
        "update": {"wallS": update_wall, "cpuS": update_cpu, "perSecond": rows / update_wall, "perCpuSecond": rows / update_cpu},
    }))


if __name__ == "__main__":
    main()
