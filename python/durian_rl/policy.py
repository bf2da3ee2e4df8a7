"""The general policy, version 1, in PyTorch: the twin of the TypeScript general policy (src/trainer/policy/general),
same architecture, weight names and layouts, so weights cross the language boundary in the checkpoint's form
(named little-endian float32 arrays, `pack_arrays` / `unpack_arrays` as src/trainer/policyIo.ts).

A transformer decoder over a text stream (the Lq question tokens, then Lr decoder inputs: the previous response
token, response id 0 at t = 0) with cross-attention to the projected patch features of the frozen encoder. Pre-LN
layers: causal self-attention (question pads masked as keys), cross-attention to the patch memory, GELU (tanh) MLP.
The output at response position t is a distribution over response ids 1..Vr-1 (pad is never produced).

    policy = GeneralPolicy(task_set.shape, seed=1)
    logp, mask = policy.token_logprobs(patches, questions, responses)          # teacher-forced, with autograd
    out = policy.sample(patches, questions, uniforms)                          # batched, KV cache, no autograd
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KIND = "general"
#: The decoder input at response position 0 ("begin"): response id 0, as the architecture text says.
START_INPUT_ID = 0
LAYER_NORM_EPS = 1e-5
DEFAULT_CONFIG = {"d": 64, "heads": 4, "layers": 3}
#: How kernels are initialised: "fan-in" (the default, as the TypeScript policy: std 1 / sqrt(fan_in)) or "gpt2"
#: (std 0.02, and 0.02 / sqrt(2 layers) on the residual projections; the earlier default: at d 64 it leaves the
#: cross-attention uniform and the image's effect on the logits ~2% of their spread, so the supervised warm-up sits
#: at the blind score ~5x longer; docs/measurements-learning.md). Embeddings, positions, norms and biases are the same.
KERNEL_INITS = ("gpt2", "fan-in")
SHAPE_KEYS = ("questionVocabSize", "responseVocabSize", "eosToken", "maxQuestionLength", "maxResponseLength", "patchCount", "patchDim")


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def weight_shapes(shape: Mapping[str, int], d: int, layers: int) -> dict[str, tuple[int, ...]]:
    """Every weight's name and shape, in the order they are initialised."""
    vq, vr, lq, lr = shape["questionVocabSize"], shape["responseVocabSize"], shape["maxQuestionLength"], shape["maxResponseLength"]
    n, dp = shape["patchCount"], shape["patchDim"]
    shapes: dict[str, tuple[int, ...]] = {
        "patch.norm.scale": (dp,), "patch.norm.bias": (dp,), "patch.proj.kernel": (dp, d), "patch.proj.bias": (d,),
        "patch.position": (n, d), "question.embedding": (vq, d), "response.embedding": (vr, d), "text.position": (lq + lr, d),
    }
    for i in range(layers):
        for block in ("self", "cross"):
            shapes[f"layer{i}.{block}.norm.scale"] = (d,)
            shapes[f"layer{i}.{block}.norm.bias"] = (d,)
            for proj in ("q", "k", "v", "o"):
                shapes[f"layer{i}.{block}.{proj}.kernel"] = (d, d)
                shapes[f"layer{i}.{block}.{proj}.bias"] = (d,)
        shapes.update({
            f"layer{i}.mlp.norm.scale": (d,), f"layer{i}.mlp.norm.bias": (d,),
            f"layer{i}.mlp.up.kernel": (d, 4 * d), f"layer{i}.mlp.up.bias": (4 * d,),
            f"layer{i}.mlp.down.kernel": (4 * d, d), f"layer{i}.mlp.down.bias": (d,),
        })
    shapes.update({"final.norm.scale": (d,), "final.norm.bias": (d,), "output.kernel": (d, vr - 1), "output.bias": (vr - 1,)})
    return shapes


def pack_arrays(arrays: Mapping[str, np.ndarray]) -> tuple[bytes, dict[str, list[int]]]:
    """Named arrays -> little-endian float32 bytes + {name: [offset, length]} (names sorted), as packArrays does."""
    index: dict[str, list[int]] = {}
    parts = []
    total = 0
    for name in sorted(arrays):
        flat = np.ascontiguousarray(np.asarray(arrays[name], dtype="<f4").reshape(-1))
        index[name] = [total, int(flat.size)]
        total += flat.size
        parts.append(flat)
    return (np.concatenate(parts).tobytes() if parts else b""), index


def unpack_arrays(data: bytes, index: Mapping[str, Any], where: str = "weights") -> dict[str, np.ndarray]:
    if len(data) % 4:
        raise ValueError(f"{where}: {len(data)} bytes is not a whole number of float32 values")
    flat = np.frombuffer(data, dtype="<f4")
    out = {}
    for name, (offset, length) in index.items():
        if offset < 0 or length < 0 or offset + length > flat.size:
            raise ValueError(f"{where}: array {name} [{offset}, +{length}] lies outside the {flat.size} stored values")
        out[name] = flat[offset:offset + length].copy()
    return out


@dataclass
class SampleResult:
    #: [R, Lr] sampled response ids, 0 after EOS.
    responses: torch.Tensor
    #: [R] tokens up to and including EOS (Lr when no EOS).
    lengths: torch.Tensor
    #: [R, Lr] log-prob of each sampled token under the sampling temperature (0 after the end).
    token_logprobs: torch.Tensor
    #: [R] mean token log-prob (the confidence Durian bins by).
    sequence_logprobs: torch.Tensor


class GeneralPolicy(nn.Module):
    def __init__(self, shape: Mapping[str, int], *, seed: int = 0, d: int = 64, heads: int = 4, layers: int = 3,
                 dtype: torch.dtype = torch.float32, weights: Optional[Mapping[str, np.ndarray]] = None, kernel_init: str = "fan-in"):
        super().__init__()
        missing = [key for key in SHAPE_KEYS if key not in shape]
        if missing:
            raise ValueError(f"policy shape lacks {missing}")
        if d % heads:
            raise ValueError(f"d ({d}) must be a multiple of heads ({heads})")
        if kernel_init not in KERNEL_INITS:
            raise ValueError(f"kernel_init {kernel_init!r}: expected one of {', '.join(KERNEL_INITS)}")
        self.shape = {key: int(shape[key]) for key in SHAPE_KEYS}
        self.d, self.heads, self.layers = d, heads, layers
        self.head_width = d // heads
        self.shapes = weight_shapes(self.shape, d, layers)
        generator = torch.Generator().manual_seed(int(seed))
        params = {}
        residual_std = 0.02 / math.sqrt(2 * layers)
        for name, dims in self.shapes.items():
            if name.endswith(".scale"):
                value = torch.ones(dims, dtype=torch.float64)
            elif name.endswith(".bias"):
                value = torch.zeros(dims, dtype=torch.float64)
            else:
                if kernel_init == "fan-in" and name.endswith(".kernel"):
                    std = 1.0 / math.sqrt(dims[0])
                else:
                    std = residual_std if name.endswith((".o.kernel", "mlp.down.kernel")) else 0.02
                value = torch.randn(dims, generator=generator, dtype=torch.float64) * std
            params[name.replace(".", "__")] = nn.Parameter(value.to(dtype))
        self.params = nn.ParameterDict(params)
        if weights is not None:
            self.set_arrays(weights)

    # ---- weights -------------------------------------------------------------------------------------------
    def p(self, name: str) -> torch.Tensor:
        return self.params[name.replace(".", "__")]

    def named_weights(self) -> dict[str, torch.Tensor]:
        return {name: self.p(name) for name in self.shapes}

    def get_arrays(self) -> dict[str, np.ndarray]:
        """Every weight as a flat float32 array (the checkpoint form)."""
        return {name: self.p(name).detach().to("cpu", torch.float32).reshape(-1).numpy().copy() for name in self.shapes}

    def set_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        unknown = sorted(set(arrays) - set(self.shapes))
        if unknown:
            raise ValueError(f"unknown weights {unknown[:5]} for this policy")
        with torch.no_grad():
            for name, values in arrays.items():
                flat = np.asarray(values).reshape(-1)
                size = int(np.prod(self.shapes[name]))
                if flat.size != size:
                    raise ValueError(f"weight {name}: {flat.size} values, expected {size} {self.shapes[name]}")
                target = self.p(name)
                target.copy_(torch.from_numpy(flat.astype(np.float64)).reshape(self.shapes[name]).to(target.dtype))

    def config(self) -> dict[str, Any]:
        return {**self.shape, "d": self.d, "heads": self.heads, "layers": self.layers}

    def describe(self) -> dict[str, Any]:
        count = sum(int(np.prod(dims)) for dims in self.shapes.values())
        return {"kind": KIND, "parameters": count, "config": self.config(),
                "summary": f"transformer decoder, {self.layers} layers, d {self.d}, {self.heads} heads, cross-attention to {self.shape['patchCount']} patches"}

    def save(self, directory: str) -> None:
        """weights.bin (little-endian float32) + policy.json ({kind, config, weightsIndex})."""
        os.makedirs(directory, exist_ok=True)
        data, index = pack_arrays(self.get_arrays())
        with open(os.path.join(directory, "weights.bin"), "wb") as handle:
            handle.write(data)
        with open(os.path.join(directory, "policy.json"), "w", encoding="utf-8") as handle:
            json.dump({"kind": KIND, "config": self.config(), "weightsIndex": index}, handle)

    @classmethod
    def load(cls, directory: str, dtype: torch.dtype = torch.float32) -> "GeneralPolicy":
        with open(os.path.join(directory, "policy.json"), encoding="utf-8") as handle:
            meta = json.load(handle)
        if meta.get("kind") != KIND:
            raise ValueError(f"{directory}/policy.json: kind {meta.get('kind')!r}, expected {KIND!r}")
        with open(os.path.join(directory, "weights.bin"), "rb") as handle:
            arrays = unpack_arrays(handle.read(), meta["weightsIndex"], os.path.join(directory, "weights.bin"))
        config = meta["config"]
        return cls(config, d=config["d"], heads=config["heads"], layers=config["layers"], dtype=dtype, weights=arrays)

    # ---- building blocks -----------------------------------------------------------------------------------
    @property
    def dtype(self) -> torch.dtype:
        return self.p("output.bias").dtype

    def _norm(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.p(f"{prefix}.scale"), self.p(f"{prefix}.bias"), LAYER_NORM_EPS)

    def _linear(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        return torch.addmm(self.p(f"{prefix}.bias"), x.reshape(-1, x.shape[-1]), self.p(f"{prefix}.kernel")).reshape(*x.shape[:-1], -1)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_width).transpose(1, 2)

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, allowed: Optional[torch.Tensor], prefix: str) -> torch.Tensor:
        """q [B, h, Tq, w], k/v [B, h, Tk, w], allowed broadcastable to [B, h, Tq, Tk] -> o-projected [B, Tq, d]."""
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_width)
        if allowed is not None:
            scores = scores.masked_fill(~allowed, -1e30)
        out = torch.softmax(scores, dim=-1) @ v
        return self._linear(out.transpose(1, 2).reshape(q.shape[0], q.shape[2], self.d), f"{prefix}.o")

    def memory(self, patches: torch.Tensor) -> torch.Tensor:
        """Patch memory M [B, N, d]."""
        return self._linear(self._norm(patches.to(self.dtype), "patch.norm"), "patch.proj") + self.p("patch.position")

    def _cross_kv(self, memory: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(self._heads(self._linear(memory, f"layer{i}.cross.k")), self._heads(self._linear(memory, f"layer{i}.cross.v")))
                for i in range(self.layers)]

    def _decoder_inputs(self, responses: torch.Tensor) -> torch.Tensor:
        start = torch.full_like(responses[:, :1], START_INPUT_ID)
        return torch.cat([start, responses[:, :-1]], dim=1)

    def _layer(self, i: int, x: torch.Tensor, self_kv: tuple[torch.Tensor, torch.Tensor], allowed: torch.Tensor,
               cross_kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        h = self._norm(x, f"layer{i}.self.norm")
        x = x + self._attend(self._heads(self._linear(h, f"layer{i}.self.q")), *self_kv, allowed, f"layer{i}.self")
        h = self._norm(x, f"layer{i}.cross.norm")
        x = x + self._attend(self._heads(self._linear(h, f"layer{i}.cross.q")), *cross_kv, None, f"layer{i}.cross")
        h = self._norm(x, f"layer{i}.mlp.norm")
        return x + self._linear(gelu_tanh(self._linear(h, f"layer{i}.mlp.up")), f"layer{i}.mlp.down")

    def _self_kv(self, i: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self._norm(x, f"layer{i}.self.norm")
        return self._heads(self._linear(h, f"layer{i}.self.k")), self._heads(self._linear(h, f"layer{i}.self.v"))

    def _logits(self, x: torch.Tensor, temperature: float) -> torch.Tensor:
        return self._linear(self._norm(x, "final.norm"), "output") / temperature

    # ---- teacher forcing -----------------------------------------------------------------------------------
    def logits(self, patches: torch.Tensor, questions: torch.Tensor, responses: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """[B, Lr, Vr - 1] logits of response ids 1..Vr-1 at every response position (teacher-forced)."""
        lq = questions.shape[1]
        x = torch.cat([F.embedding(questions, self.p("question.embedding")),
                       F.embedding(self._decoder_inputs(responses), self.p("response.embedding"))], dim=1)
        x = x + self.p("text.position")[: x.shape[1]]
        length = x.shape[1]
        causal = torch.ones(length, length, dtype=torch.bool, device=x.device).tril()
        keys = torch.cat([questions != 0, torch.ones_like(responses, dtype=torch.bool)], dim=1)
        allowed = causal[None, None] & keys[:, None, None, :]
        cross = self._cross_kv(self.memory(patches))
        for i in range(self.layers):
            # Each layer's self-attention reads the normalised stream it also queries from.
            x = self._layer(i, x, self._self_kv(i, x), allowed, cross[i])
        return self._logits(x[:, lq:], temperature)

    def token_logprobs(self, patches: torch.Tensor, questions: torch.Tensor, responses: torch.Tensor,
                       temperature: float = 1.0, with_entropy: bool = False):
        """Log-prob of each response token [B, Lr] (0 at pads) and the mask of real tokens (response id != 0);
        with `with_entropy` also the entropy of each position's distribution."""
        logp_all = torch.log_softmax(self.logits(patches, questions, responses, temperature), dim=-1)
        mask = responses != 0
        index = (responses - 1).clamp(min=0).unsqueeze(-1)
        logp = logp_all.gather(-1, index).squeeze(-1) * mask
        if with_entropy:
            entropy = -(logp_all.exp() * logp_all).sum(-1) * mask
            return logp, mask, entropy
        return logp, mask

    # ---- sampling ------------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, patches: torch.Tensor, questions: torch.Tensor, uniforms: Optional[torch.Tensor] = None, *,
               group_size: int = 1, temperature: float = 1.0, greedy: bool = False) -> SampleResult:
        """Samples `group_size` responses per prompt (rows prompt-major: prompt 0's G, then prompt 1's, ...), with a
        KV cache. `uniforms` [B * G, Lr] in [0, 1) pick each token by inverse CDF (so callers own the random
        stream: the same uniforms give the same responses on any batch split); greedy takes the argmax."""
        eos, lr = self.shape["eosToken"], self.shape["maxResponseLength"]
        lq = questions.shape[1]
        prompts = patches.shape[0]
        rows = prompts * group_size
        if not greedy and (uniforms is None or tuple(uniforms.shape) != (rows, lr)):
            raise ValueError(f"sampling needs uniforms of shape ({rows}, {lr})")
        # Prefix (question) once per prompt, then repeated G times.
        x = F.embedding(questions, self.p("question.embedding")) + self.p("text.position")[:lq]
        keys = questions != 0
        device = questions.device
        allowed = torch.ones(lq, lq, dtype=torch.bool, device=device).tril()[None, None] & keys[:, None, None, :]
        cross = self._cross_kv(self.memory(patches))
        caches = []
        for i in range(self.layers):
            kv = self._self_kv(i, x)
            caches.append([kv[0].repeat_interleave(group_size, 0), kv[1].repeat_interleave(group_size, 0)])
            x = self._layer(i, x, kv, allowed, cross[i])
        cross = [(k.repeat_interleave(group_size, 0), v.repeat_interleave(group_size, 0)) for k, v in cross]
        key_mask = keys.repeat_interleave(group_size, 0)

        responses = torch.zeros(rows, lr, dtype=torch.long, device=device)
        token_logprobs = torch.zeros(rows, lr, dtype=self.dtype, device=device)
        done = torch.zeros(rows, dtype=torch.bool, device=device)
        previous = torch.full((rows,), START_INPUT_ID, dtype=torch.long, device=device)
        for t in range(lr):
            x = (F.embedding(previous, self.p("response.embedding")) + self.p("text.position")[lq + t])[:, None, :]
            key_mask = torch.cat([key_mask, torch.ones(rows, 1, dtype=torch.bool, device=device)], dim=1)
            allowed = key_mask[:, None, None, :]
            for i in range(self.layers):
                k_new, v_new = self._self_kv(i, x)
                caches[i][0] = torch.cat([caches[i][0], k_new], dim=2)
                caches[i][1] = torch.cat([caches[i][1], v_new], dim=2)
                x = self._layer(i, x, (caches[i][0], caches[i][1]), allowed, cross[i])
            logp = torch.log_softmax(self._logits(x[:, 0], temperature), dim=-1)
            if greedy:
                choice = logp.argmax(-1)
            else:
                cdf = logp.exp().cumsum(-1)
                u = uniforms[:, t].to(cdf.dtype)[:, None] * cdf[:, -1:]
                choice = torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp(max=logp.shape[-1] - 1)
            token = torch.where(done, torch.zeros_like(choice), choice + 1)
            responses[:, t] = token
            token_logprobs[:, t] = torch.where(done, torch.zeros_like(logp[:, 0]), logp.gather(-1, choice[:, None]).squeeze(-1))
            done = done | (token == eos)
            previous = token
            if bool(done.all()):
                break
        lengths = (responses != 0).sum(-1)
        sequence = token_logprobs.sum(-1) / lengths.clamp(min=1).to(token_logprobs.dtype)
        return SampleResult(responses, lengths, token_logprobs, sequence)
