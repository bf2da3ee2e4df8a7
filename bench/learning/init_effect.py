"""How much the image moves the general policy's outputs at initialisation, per kernel init (durian_rl.policy
KERNEL_INITS): logit spread, the logit change when every image is swapped for another task's, the patch memory's
and the layer-0 cross-attention scores' spread, and the gradient norms of the patch projection and the question
embedding under the warm-up loss (docs/measurements-learning.md, 2026-12-02 helper L).

  OPENBLAS_NUM_THREADS=1 nice -n 10 /usr/bin/python3 bench/learning/init_effect.py --tasks /tmp/learning-data
"""
from __future__ import annotations

import argparse

import torch

from common import GeneralPolicy, load
from durian_rl.policy import KERNEL_INITS
from recipe import token_loss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    train, _ = load(args.tasks)
    patches, questions, gold = (torch.from_numpy(x[: args.n]) for x in (train.features, train.questions, train.gold))
    swapped = patches[torch.randperm(args.n)]
    print("| kernel init | logit std | logit change when images are swapped (share of logit std) | patch memory std "
          "| cross-attention score std (layer 0) | grad norm patch.proj / question.embedding |")
    print("|---|---|---|---|---|---|")
    for kernel_init in KERNEL_INITS:
        policy = GeneralPolicy(train.shape, seed=args.seed, kernel_init=kernel_init)
        with torch.no_grad():
            logits = policy.logits(patches, questions, gold)
            change = (logits - policy.logits(swapped, questions, gold)).abs().mean()
            memory = policy.memory(patches)
            keys = policy._heads(policy._linear(memory, "layer0.cross.k"))
            queries = policy._heads(policy._linear(torch.randn(args.n, 1, policy.d), "layer0.cross.q"))
            scores = queries @ keys.transpose(-1, -2) / policy.head_width ** 0.5
        logp, mask = policy.token_logprobs(patches, questions, gold)
        token_loss(logp, mask).backward()
        print(f"| {kernel_init} | {logits.std():.3f} | {change:.4f} ({change / logits.std():.1%}) | {memory.std():.3f} | {scores.std():.4f} "
              f"| {policy.p('patch.proj.kernel').grad.norm():.3f} / {policy.p('question.embedding').grad.norm():.3f} |")


if __name__ == "__main__":
    main()
