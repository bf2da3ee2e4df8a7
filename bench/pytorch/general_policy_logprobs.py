"""Teacher-forced log-probs and entropies of the PyTorch twin of the general policy (python/durian_rl/policy.py)
for weights and a batch written by the TypeScript side, so both languages can be compared on identical inputs.

    /usr/bin/python3 bench/pytorch/general_policy_logprobs.py DIR

DIR holds policy.json + weights.bin (the twin's `GeneralPolicy.save` form: {kind, config, weightsIndex} and
little-endian float32 arrays), batch.json ({prompts, sequences, questionLength, responseLength, temperature,
promptIndex, questions, responses}, questions already padded to maxQuestionLength) and patches.bin (float32
[prompts, patchCount, patchDim]). Writes DIR/twin.json: {tokenLogprobs, entropies}, [sequences * responseLength].
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from durian_rl.policy import GeneralPolicy  # noqa: E402


def main(directory: str) -> None:
    policy = GeneralPolicy.load(directory)
    with open(os.path.join(directory, "batch.json"), encoding="utf-8") as handle:
        batch = json.load(handle)
    shape = policy.shape
    with open(os.path.join(directory, "patches.bin"), "rb") as handle:
        patches = np.frombuffer(handle.read(), dtype="<f4").reshape(batch["prompts"], shape["patchCount"], shape["patchDim"])
    rows = torch.tensor(batch["promptIndex"], dtype=torch.long)
    questions = torch.tensor(batch["questions"], dtype=torch.long).reshape(batch["prompts"], batch["questionLength"])[rows]
    responses = torch.tensor(batch["responses"], dtype=torch.long).reshape(batch["sequences"], batch["responseLength"])
    with torch.no_grad():
        logp, _mask, entropy = policy.token_logprobs(torch.from_numpy(patches.copy())[rows], questions, responses,
                                                     temperature=batch["temperature"], with_entropy=True)
    with open(os.path.join(directory, "twin.json"), "w", encoding="utf-8") as handle:
        json.dump({"tokenLogprobs": logp.reshape(-1).tolist(), "entropies": entropy.reshape(-1).tolist()}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
