"""durian_rl.estimators gives the numbers of src/core: random batches are computed by both this package and the
TypeScript `durian advantages` CLI in this test run, and must agree to 1e-9 in every output field (advantages,
kept, groups, Durian's components, bins, buckets and pooled stds) or fail with the same field named."""
from __future__ import annotations

import json

import numpy as np
import pytest

from compare import differences, error_where
from durian_rl import DurianInputError, compute_advantages
from durian_rl.estimators import ESTIMATOR_NAMES, advantages_for_line
from random_batches import random_batches

PER_ESTIMATOR = 60


@pytest.mark.parametrize("seed", [1, 2])
def test_random_batches_agree_with_the_typescript_cli(ts_advantages, seed):
    batches = random_batches(seed, PER_ESTIMATOR, ESTIMATOR_NAMES)
    ts_lines = ts_advantages(batches)
    py_lines = [advantages_for_line(json.dumps(batch), k + 1) for k, batch in enumerate(batches)]

    problems = []
    for k, (py, ts) in enumerate(zip(py_lines, ts_lines)):
        if "error" in ts or "error" in py:
            if "error" not in ts or "error" not in py or error_where(py) != error_where(ts):
                problems.append(f"batch {k}: python {py.get('error')!r} vs ts {ts.get('error')!r}")
            continue
        problems += [f"batch {k} ({batches[k]['estimator']}): {d}" for d in differences(py, ts)[:3]]
    assert not problems, "\n".join(problems[:20])

    # The batches really exercised what the estimators must agree on (else this test would prove little).
    ok = [line for line in ts_lines if "error" not in line]
    assert len(ok) >= 0.9 * len(batches)
    groups = [g for line in ok for g in line["groups"]]
    assert any(g.get("dropped") == "band" for g in groups)
    assert any(g.get("dropped") == "weight" for g in groups)
    assert any(g["size"] == 1 and g["kept"] for g in groups)
    assert any(g["weight"] not in (0, 1) for g in groups)
    durian = [line for line in ok if line["estimator"] == "durian" and line.get("prompts")]
    assert any(p["zeroVariance"] for line in durian for p in line["prompts"])
    assert any(len({p["confidence"] for p in line["prompts"]}) < len(line["prompts"]) for line in durian), "no confidence ties"
    assert any(len({p["visualEntropy"] for p in line["prompts"]}) < len(line["prompts"]) for line in durian), "no entropy ties"
    assert any(line["reasoningBins"] > 2 for line in durian)
    # Equal visual entropies share a perceptual bucket (the same image never lands in two).
    for line in durian:
        bucket_of = {}
        for p in line["prompts"]:
            assert bucket_of.setdefault(p["visualEntropy"], p["perceptualBucket"]) == p["perceptualBucket"]
    assert any(b["pooledStd"] == 0 and b["prompts"] > 0 for line in durian for b in line["buckets"]["perceptual"])
    assert any(any(a != 0 for a in line["advantages"]) for line in ok if line["estimator"] == "batch_std")


BAD_BATCHES = [
    {"estimator": "grpo", "index": [], "scores": []},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, "x"]},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0]},
    {"estimator": "grpo", "index": ["a", "a", "a"], "scores": [0, "x"]},
    {"estimator": "grpo", "index": ["a", "a", "a"], "scores": [0, 1e200, "x"]},
    {"estimator": "batch_std", "index": ["a", "a", "a"], "scores": [0, 1, 1], "lengths": [1, 1e200, -1]},
    {"estimator": "grpo", "index": ["a", None], "scores": [0, 1]},
    {"estimator": "grpo", "index": ["a", 1.5], "scores": [0, 1]},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1e200]},
    {"estimator": "batch_std", "index": ["a", "a"], "scores": [0, 1], "lengths": [1, -1]},
    {"estimator": "batch_std", "index": ["a", "a"], "scores": [0, 1], "lengths": [1, 1.5]},
    {"estimator": "batch_std", "index": ["a", "a"], "scores": [0, 1], "lengths": [1, 0]},
    {"estimator": "durian", "index": ["a", "a"], "scores": [0, 1], "logprob": [-1, -1]},
    {"estimator": "durian", "index": ["a", "a"], "scores": [0, 1], "visualEntropy": [1, 1]},
    {"estimator": "durian", "index": ["a", "a", "b"], "scores": [0, 1, 1], "visualEntropy": [1, 2, 3], "logprob": [-1, -1, -1]},
    {"estimator": "durian", "index": ["a", "a"], "scores": [0, 1], "visualEntropy": [1, 1], "logprob": [-1, -1], "options": {"reasoningBins": 0}},
    {"estimator": "durian", "index": ["a", "a"], "scores": [0, 1], "visualEntropy": [1, 1], "logprob": [-1, -1], "options": {"weights": [1, 2]}},
    {"estimator": "durian", "index": ["a", "a"], "scores": [0, 1], "visualEntropy": [1, 1], "logprob": [-1, -1], "options": {"weights": [1, -2, 0]}},
    {"estimator": "durian", "index": ["a", "a"], "scores": [0, 1], "visualEntropy": [1, 1], "logprob": [-1, -1], "options": {"confidence": "median"}},
    {"estimator": "durian", "index": ["a", "a"], "scores": [0, 1], "visualEntropy": [1, 1], "logprob": [-1, -1], "options": {"poolZeroVariance": 1}},
    {"estimator": "durian", "index": ["a", "a"], "scores": [0, 1], "visualEntropy": [1, 1], "logprob": [-1, -1], "options": {"bins": 3}},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1], "options": {"eps": -1}},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1], "options": {"eps": None}},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1], "options": {"band": [0.9, 0.1]}},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1], "options": {"band": [0.1]}},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1], "groupWeights": {"a": -1}},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1], "groupWeights": [1]},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1], "relabels": [{"sequence": 2, "score": 1}]},
    {"estimator": "grpo", "index": ["a", "a"], "scores": [0, 1], "relabels": [{"sequence": 0, "score": "1"}]},
    {"estimator": "nope", "index": ["a", "a"], "scores": [0, 1]},
    {"index": ["a", "a"], "scores": [0, 1]},
]


def test_bad_batches_fail_on_the_same_field_as_the_typescript(ts_advantages):
    ts_lines = ts_advantages(BAD_BATCHES)
    for k, (batch, ts) in enumerate(zip(BAD_BATCHES, ts_lines)):
        assert "error" in ts, f"batch {k}: the TypeScript accepted {batch}"
        py = advantages_for_line(json.dumps(batch), k + 1)
        assert "error" in py, f"batch {k}: python accepted {batch}"
        assert error_where(py) == error_where(ts), f"batch {k}: python {py['error']!r} vs ts {ts['error']!r}"


def test_verl_check_value_and_interventions_by_hand():
    # verl's own check value: G = 2, scores {0, 1} -> -/+0.70710578.
    result = compute_advantages("grpo", {"index": ["a", "a"], "scores": [0, 1]})
    assert np.allclose(result.advantages, [-0.70710578, 0.70710578], atol=1e-8)
    # A relabel replaces the reward before the maths; a weight scales the prompt's advantages; weight 0 drops it.
    result = compute_advantages(
        "dr_grpo",
        {"index": ["a", "a", "b", "b"], "scores": [0, 0, 1, 3], "relabels": [{"sequence": 1, "score": 1}], "groupWeights": {"b": 0}},
    )
    assert result.advantages.tolist() == [-0.5, 0.5, 0.0, 0.0]
    assert result.kept.tolist() == [True, True, False, False]
    assert result.groups[1]["dropped"] == "weight"
    with pytest.raises(DurianInputError) as error:
        compute_advantages("grpo", {"index": ["a"], "scores": [float("nan")]})
    assert error.value.where == "scores[0]"
