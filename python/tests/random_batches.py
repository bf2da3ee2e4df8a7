"""Random batches in the JSON Lines form of `durian advantages`, covering what the estimators must agree on:
group sizes from 1 to 16 (singletons, mixed sizes), interleaved sequences, zero-variance groups, ties in
visual entropy and confidence, zero-length responses, accuracy, group weights (0 included), relabels, the band
filter and every option."""
from __future__ import annotations

from typing import Any

import numpy as np


def _rewards(rng: np.random.Generator, size: int) -> list[float]:
    kind = rng.integers(4)
    if kind == 0:  # binary accuracy
        return rng.integers(0, 2, size).astype(float).tolist()
    if kind == 1:  # the paper's 0.1 * format + 0.9 * accuracy
        return (0.1 * rng.integers(0, 2, size) + 0.9 * rng.integers(0, 2, size)).tolist()
    if kind == 2:  # continuous
        return rng.normal(0.3, 2.0, size).tolist()
    return rng.choice([0.0, 0.25, 1.0], size).tolist()  # few distinct values: many zero-variance groups


def random_batch(rng: np.random.Generator, estimator: str) -> dict[str, Any]:
    prompts = int(rng.integers(1, 40))
    sizes_kind = rng.integers(4)
    if sizes_kind == 0:
        sizes = np.full(prompts, int(rng.choice([1, 2, 3, 4, 8, 16])))
    else:  # mixed sizes, singletons included
        sizes = rng.integers(1, 9, prompts)
    ids: list[Any] = [f"p{k}" if rng.random() < 0.8 else int(k) for k in range(prompts)]
    index = [ids[k] for k in range(prompts) for _ in range(sizes[k])]
    n = len(index)
    order = rng.permutation(n) if rng.random() < 0.3 else np.arange(n)  # interleaved prompts
    index = [index[i] for i in order]
    prompt_of = {str(identifier): k for k, identifier in enumerate(ids)}

    scores = _rewards(rng, n)
    # Force some groups to be all-same.
    for k in range(prompts):
        if rng.random() < 0.3:
            value = float(rng.choice([0.0, 1.0, 0.5]))
            for i, identifier in enumerate(index):
                if prompt_of[str(identifier)] == k:
                    scores[i] = value

    batch: dict[str, Any] = {"estimator": estimator, "index": index, "scores": scores}
    if rng.random() < 0.7:
        batch["lengths"] = rng.integers(0 if rng.random() < 0.3 else 1, 50, n).tolist()
    # Ties: entropies and confidences drawn from a few values in a third of the batches.
    entropy_pool = rng.choice([0.5, 1.25, 2.0], prompts) if rng.random() < 0.35 else rng.uniform(0.0, 5.0, prompts)
    batch["visualEntropy"] = [float(entropy_pool[prompt_of[str(i)]]) for i in index]
    if rng.random() < 0.35:
        per_prompt = rng.choice([-1.0, -0.5, -2.0], prompts)
        batch["logprob"] = [float(per_prompt[prompt_of[str(i)]]) for i in index]
    else:
        batch["logprob"] = rng.uniform(-3.0, 0.0, n).tolist()
    if rng.random() < 0.3:
        batch["accuracy"] = rng.integers(0, 2, n).astype(float).tolist()
    if rng.random() < 0.4:
        chosen = rng.choice(prompts, size=int(rng.integers(1, prompts + 1)), replace=False)
        weights = {str(ids[k]): float(rng.choice([0.0, 0.5, 2.0, 1.0, 3.25])) for k in chosen}
        weights["not-in-batch"] = 7.0
        batch["groupWeights"] = weights
    if rng.random() < 0.4:
        batch["relabels"] = [
            {"sequence": int(rng.integers(n)), "score": float(rng.choice([0.0, 1.0, 0.3]))}
            for _ in range(int(rng.integers(1, 4)))
        ]

    options: dict[str, Any] = {}
    if rng.random() < 0.35:
        low = float(rng.choice([0.0, 0.01, 0.2]))
        options["band"] = [low, float(rng.choice([0.8, 0.99, 1.0]))]
    if estimator in ("grpo", "durian") and rng.random() < 0.3:
        options["eps"] = float(rng.choice([0.0, 1e-6, 1e-3, 0.1]))
    if estimator == "durian":
        if rng.random() < 0.5:
            options["weights"] = [float(x) for x in rng.choice([0.0, 0.1, 0.2, 0.6, 0.7, 1.0, 2.5], 3)]
        if rng.random() < 0.5:
            options["reasoningBins"] = int(rng.choice([1, 2, 3, 4, 12, 16, 48]))
        if rng.random() < 0.4:
            options["minPromptsPerBin"] = int(rng.choice([1, 2, 3, 5]))
        if rng.random() < 0.3:
            options["poolZeroVariance"] = False
        if rng.random() < 0.3:
            options["confidence"] = "sum"
    if options:
        batch["options"] = options
    return batch


def random_batches(seed: int, per_estimator: int, estimators: tuple[str, ...]) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [random_batch(rng, estimator) for estimator in estimators for _ in range(per_estimator)]
