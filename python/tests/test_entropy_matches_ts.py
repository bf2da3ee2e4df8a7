"""durian_rl.entropy.spectral_entropy gives src/core's spectralEntropy (run from source through tsx in this test
run) on random patch features: P < d and P > d, rank-deficient, constant, tiny and huge scales."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from conftest import REPO_ROOT
from durian_rl import DurianInputError
from durian_rl.entropy import spectral_entropy

SCRIPT = """
import { spectralEntropy } from %s;
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  const out = cases.map((c) => spectralEntropy(c.features.flat(), c.features.length, c.features[0].length).entropy);
  process.stdout.write(JSON.stringify(out));
});
"""


def feature_cases(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(30):
        patches, dims = int(rng.integers(2, 40)), int(rng.integers(1, 40))
        features = rng.normal(0, 1, (patches, dims))
        kind = rng.integers(5)
        if kind == 1:  # rank-deficient: a few directions only
            rank = int(rng.integers(1, 4))
            features = rng.normal(0, 1, (patches, rank)) @ rng.normal(0, 1, (rank, dims))
        elif kind == 2:
            features *= 10.0 ** float(rng.choice([-30, 30]))
        elif kind == 3:  # one dominant direction plus noise
            features = np.outer(rng.normal(0, 5, patches), rng.normal(0, 1, dims)) + 0.01 * features
        cases.append(features)
    cases.append(np.full((6, 4), 3.5))  # a constant image
    cases.append(np.ones((1, 8)))  # one patch
    return cases


def test_spectral_entropy_agrees_with_the_typescript(tmp_path):
    node = shutil.which("node")
    assert node, "node is not on PATH"
    script = tmp_path / "entropy.mjs"
    script.write_text(SCRIPT % json.dumps(str(REPO_ROOT / "src" / "core" / "difficulty" / "spectralEntropy.ts")))
    cases = feature_cases(11)
    done = subprocess.run(
        [node, "--import", "tsx", str(script)], input=json.dumps([{"features": c.tolist()} for c in cases]),
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ts = json.loads(done.stdout)
    py = [spectral_entropy(c) for c in cases]
    assert np.allclose(py, ts, rtol=1e-9, atol=1e-9), [(a, b) for a, b in zip(py, ts) if abs(a - b) > 1e-9]
    assert ts[-2] == 0 and ts[-1] == 0 and max(ts) > 2  # constant and one-patch images, and real spread


def test_spectral_entropy_by_hand_and_bad_input():
    # Two orthogonal directions of equal variance: p = (1/2, 1/2), H = ln 2.
    features = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    assert spectral_entropy(features) == pytest.approx(np.log(2), abs=1e-12)
    with pytest.raises(DurianInputError) as error:
        spectral_entropy([[0.0, float("nan")], [1.0, 2.0]])
    assert error.value.where == "features[0][1]"
