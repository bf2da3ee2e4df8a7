"""The PyTorch side of `durian bench --suite general-policy` (src/cli/bench/generalPolicy.ts): the general policy's
twin (python/durian_rl/policy.py, same shape and parameter count as the TypeScript policy) at P prompts x G samples,
random patch features and questions of the built-in suite's shape, every sequence running to Lr tokens (EOS masked,
as the TypeScript side's ignoreEos). Three numbers, medians of wall-clock time:

  - rollouts: GeneralPolicy.sample (KV cache, inverse-CDF sampling) -> sequences/s;
  - update: one clipped policy-gradient step with the k3 KL term (the TypeScript trainStep's GRPO defaults: clip
    0.2, KL 0.01), backward, global-norm clip 1, Adam -> samples/s;
  - whole RL step: rollouts, reward (durian_rl.reward.score_response against each prompt's answer), difficulty
    (confidence from the token log-probs; visual entropy per prompt), advantages (durian_rl.estimators, 'durian'),
    update -> samples/s.

    /usr/bin/python3 bench/pytorch/general_step_bench.py [--prompts 128] [--group 8] [--threads 2] [--repeats 3]
Prints one JSON line.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from durian_rl.confidence import sequence_confidence  # noqa: E402
from durian_rl.estimators import compute_advantages  # noqa: E402
from durian_rl.policy import GeneralPolicy  # noqa: E402
from durian_rl.reward import score_response  # noqa: E402
from bench_common import SHAPE, timed  # noqa: E402

ANSWERS = [str(n) for n in range(16)] + ["yes", "no"]
CLIP, KL_COEF, MAX_GRAD_NORM, LEARNING_RATE = 0.2, 0.01, 1.0, 1e-5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    policy = GeneralPolicy(SHAPE, seed=7)
    with torch.no_grad():
        policy.p("output.bias")[SHAPE["eosToken"] - 1] = -1e4  # every sequence runs to Lr tokens
    p, g, lr = args.prompts, args.group, SHAPE["maxResponseLength"]
    b = p * g
    patches = torch.rand(p, SHAPE["patchCount"], SHAPE["patchDim"])
    questions = torch.randint(1, SHAPE["questionVocabSize"], (p, SHAPE["maxQuestionLength"]))
    questions[:, 9:] = 0
    answers = [ANSWERS[k % len(ANSWERS)] for k in range(p)]
    entropy = torch.rand(p).tolist()
    rows = torch.arange(p).repeat_interleave(g)
    optimizer = torch.optim.Adam(policy.parameters(), lr=LEARNING_RATE)

    def rollout():
        return policy.sample(patches, questions, torch.rand(b, lr), group_size=g)

    def update(out, advantages):
        old = out.token_logprobs.detach()
        logp, mask = policy.token_logprobs(patches[rows], questions[rows], out.responses)
        ratio = torch.exp(logp - old)
        adv = advantages[:, None]
        pg = torch.maximum(-adv * ratio, -adv * ratio.clamp(1 - CLIP, 1 + CLIP))
        log_density = old - logp
        kl = torch.exp(log_density) - log_density - 1
        per_token = (pg + KL_COEF * kl) * mask
        loss = (per_token.sum(1) / mask.sum(1).clamp(min=1)).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), MAX_GRAD_NORM)
        optimizer.step()

    def whole_step():
        out = rollout()
        responses = out.responses.tolist()
        scores = [score_response(responses[s], answers[s // g]).reward for s in range(b)]
        confidence = sequence_confidence(out.token_logprobs, out.responses != 0).tolist()
        result = compute_advantages("durian", {"index": [s // g for s in range(b)], "scores": scores,
                                               "visualEntropy": [entropy[s // g] for s in range(b)], "logprob": confidence})
        update(out, torch.as_tensor(result.advantages, dtype=torch.float32))

    rollout_wall = timed(rollout, args.repeats)[0]
    fixed = rollout()
    fixed_advantages = torch.randn(b)
    update_wall = timed(lambda: update(fixed, fixed_advantages), args.repeats)[0]
    step_wall = timed(whole_step, args.repeats)[0]
    print(json.dumps({
        "framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(), "sequences": b,
        "parameters": sum(t.numel() for t in policy.parameters()),
        "rolloutPerSecond": b / rollout_wall, "updatePerSecond": b / update_wall, "stepPerSecond": b / step_wall,
    }))


if __name__ == "__main__":
    main()
