"""durian_rl.policy.GeneralPolicy (the PyTorch twin of the general policy): shapes and weight layout, question pads
masked (what sits at a pad position changes nothing), causality (a later response token never changes an earlier
log-prob), the KV-cached sampler equal to teacher forcing, and the checkpoint form round-tripping exactly."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from durian_rl.policy import GeneralPolicy, pack_arrays, unpack_arrays, weight_shapes
from durian_rl.tasks import load_tasks

SHAPE = {"questionVocabSize": 21, "responseVocabSize": 26, "eosToken": 2, "maxQuestionLength": 12, "maxResponseLength": 8,
         "patchCount": 64, "patchDim": 32}


def inputs(batch: int = 6, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    patches = torch.randn(batch, 64, 32, generator=g, dtype=torch.float64)
    questions = torch.zeros(batch, 12, dtype=torch.long)
    for b in range(batch):
        length = min(12, 3 + 2 * b)
        questions[b, :length] = torch.randint(1, 21, (length,), generator=g)
    responses = torch.randint(1, 26, (batch, 8), generator=g)
    responses[0, 3:] = 0  # a short response: pads after it
    return patches, questions, responses


@pytest.fixture(scope="module")
def policy() -> GeneralPolicy:
    torch.manual_seed(0)
    model = GeneralPolicy(SHAPE, seed=5, dtype=torch.float64)
    with torch.no_grad():  # non-trivial norms and biases, so masking bugs cannot hide behind zeros
        for name, value in model.named_weights().items():
            if not name.endswith("kernel") and "embedding" not in name and "position" not in name:
                value.add_(torch.randn_like(value) * 0.1)
    return model


def test_weight_names_shapes_and_init() -> None:
    model = GeneralPolicy(SHAPE, seed=1)
    shapes = weight_shapes(SHAPE, 64, 3)
    assert list(model.get_arrays()) == list(shapes)
    assert shapes["output.kernel"] == (64, 25) and shapes["text.position"] == (20, 64) and shapes["layer2.mlp.up.kernel"] == (64, 256)
    assert model.describe()["parameters"] == sum(int(np.prod(s)) for s in shapes.values())
    assert abs(float(model.p("question.embedding").std()) - 0.02) < 0.002
    assert abs(float(model.p("layer0.self.o.kernel").std()) - 1 / np.sqrt(64)) < 0.01  # fan-in kernels
    assert float(model.p("layer1.mlp.norm.scale").min()) == 1.0 and float(model.p("patch.proj.bias").abs().max()) == 0.0
    assert np.array_equal(GeneralPolicy(SHAPE, seed=1).get_arrays()["output.kernel"], model.get_arrays()["output.kernel"])


def test_fan_in_kernel_init_is_the_default() -> None:
    model = GeneralPolicy(SHAPE, seed=1)
    assert abs(float(model.p("layer0.mlp.down.kernel").std()) - 1 / np.sqrt(256)) < 0.005
    assert abs(float(model.p("patch.proj.kernel").std()) - 1 / np.sqrt(SHAPE["patchDim"])) < 0.02
    assert abs(float(model.p("question.embedding").std()) - 0.02) < 0.002  # embeddings keep the default
    with pytest.raises(ValueError, match="kernel_init 'xavier'"):
        GeneralPolicy(SHAPE, seed=1, kernel_init="xavier")
    gpt2 = GeneralPolicy(SHAPE, seed=1, kernel_init="gpt2")
    assert abs(float(gpt2.p("layer0.self.q.kernel").std()) - 0.02) < 0.002


def test_shapes_and_log_probs(policy: GeneralPolicy) -> None:
    patches, questions, responses = inputs()
    logits = policy.logits(patches, questions, responses)
    assert logits.shape == (6, 8, 25)
    logp, mask = policy.token_logprobs(patches, questions, responses)
    assert logp.shape == (6, 8) and mask[0].tolist() == [True] * 3 + [False] * 5
    assert float(logp[0, 3:].abs().max()) == 0.0 and bool((logp[mask] < 0).all())
    expected = torch.log_softmax(logits, -1)[1, 4, responses[1, 4] - 1]
    assert torch.allclose(logp[1, 4], expected)
    hot = policy.token_logprobs(patches, questions, responses, temperature=0.5)[0]
    assert not torch.allclose(hot[mask], logp[mask])


def test_question_pads_change_nothing(policy: GeneralPolicy) -> None:
    patches, questions, responses = inputs()
    before = policy.logits(patches, questions, responses)
    pads = questions == 0
    state = {name: value.detach().clone() for name, value in policy.named_weights().items()}
    try:
        with torch.no_grad():
            # Not a constant shift (LayerNorm would hide it): random vectors.
            noise = torch.Generator().manual_seed(4)
            policy.p("question.embedding")[0] += torch.randn(64, generator=noise, dtype=torch.float64)  # what a pad position holds
            policy.p("text.position")[8:12] += torch.randn(4, 64, generator=noise, dtype=torch.float64)
        after = policy.logits(patches, questions, responses)
        rows = [b for b in range(6) if bool(pads[b, 8:].all())]  # the rows whose positions 8..11 are all pads
        assert len(rows) >= 3
        assert torch.allclose(after[rows], before[rows], atol=1e-12, rtol=0)
        with torch.no_grad():
            policy.p("question.embedding")[int(questions[0, 0])] += torch.randn(64, generator=noise, dtype=torch.float64)  # a real token: the control
        assert not torch.allclose(policy.logits(patches, questions, responses)[0], before[0], atol=1e-6)
        assert not torch.allclose(after[[b for b in range(6) if b not in rows]], before[[b for b in range(6) if b not in rows]], atol=1e-6)
    finally:
        policy.set_arrays({name: value.numpy() for name, value in state.items()})


def test_later_tokens_do_not_change_earlier_log_probs(policy: GeneralPolicy) -> None:
    patches, questions, responses = inputs()
    changed = responses.clone()
    changed[:, 5:] = torch.randint(1, 26, (6, 3), generator=torch.Generator().manual_seed(9))
    a = policy.token_logprobs(patches, questions, responses)[0]
    b = policy.token_logprobs(patches, questions, changed)[0]
    assert torch.allclose(a[1:, :5], b[1:, :5], atol=1e-12, rtol=0)  # log-probs of tokens 0..4 read tokens < 5 only
    assert not torch.allclose(a[1:, 5:], b[1:, 5:])


def test_cached_sampling_equals_teacher_forcing(policy: GeneralPolicy, exported_tasks: Path) -> None:
    tasks = load_tasks(str(exported_tasks), "train")
    patches, questions = torch.from_numpy(tasks.features).double(), torch.from_numpy(tasks.questions)
    uniforms = torch.rand(8 * 4, 8, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    out = policy.sample(patches, questions, uniforms, group_size=4, temperature=0.8)
    assert out.responses.shape == (32, 8)
    ended = out.lengths < 8
    assert bool((out.responses[ended, :].gather(1, (out.lengths[ended] - 1)[:, None]) == 2).all()), "a response ends at its EOS"
    for r in range(32):
        assert bool((out.responses[r, out.lengths[r]:] == 0).all()) and bool((out.responses[r, :out.lengths[r]] != 0).all())
    logp, _ = policy.token_logprobs(patches.repeat_interleave(4, 0), questions.repeat_interleave(4, 0), out.responses, temperature=0.8)
    assert torch.allclose(out.token_logprobs, logp, atol=1e-10, rtol=0)
    assert torch.allclose(out.sequence_logprobs, logp.sum(-1) / out.lengths, atol=1e-10)
    again = policy.sample(patches, questions, uniforms, group_size=4, temperature=0.8)
    assert torch.equal(again.responses, out.responses)
    half = policy.sample(patches[4:], questions[4:], uniforms[16:], group_size=4, temperature=0.8)
    assert torch.equal(half.responses, out.responses[16:]), "a prompt's rollouts depend on its uniforms only, not on the batch"
    greedy = policy.sample(patches, questions, greedy=True)
    logits = policy.logits(patches, questions, greedy.responses)
    assert torch.equal(greedy.responses[:, 0], logits[:, 0].argmax(-1) + 1)


def test_checkpoint_form_round_trips(tmp_path: Path) -> None:
    model = GeneralPolicy(SHAPE, seed=2, d=32, heads=2, layers=2)
    model.save(str(tmp_path))
    loaded = GeneralPolicy.load(str(tmp_path))
    assert (loaded.d, loaded.heads, loaded.layers) == (32, 2, 2)
    for name, value in model.get_arrays().items():
        assert np.array_equal(loaded.get_arrays()[name], value)
    data, index = pack_arrays(model.get_arrays())
    assert data == (tmp_path / "weights.bin").read_bytes() and list(index) == sorted(index)
    assert np.frombuffer(data[:4], dtype="<f4")[0] == model.get_arrays()[sorted(index)[0]][0]
    with pytest.raises(ValueError, match="lies outside"):
        unpack_arrays(data[:-4], index)
    with pytest.raises(ValueError, match="expected"):
        model.set_arrays({"output.bias": np.zeros(3, np.float32)})
