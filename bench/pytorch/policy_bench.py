"""PyTorch twin of src/trainer/policy (same architecture, sizes and batch) for a speed comparison.

Measures, on CPU with 2 threads, for P prompts x G samples:
  - rollouts: prefix on the P prompts, then 8 GRU steps sampling every sequence (no early stop), with
    per-token log-probs and entropies of softmax(logits / T)  -> sequences/s;
  - updates: one GRPO step (PPO clip + k3 KL, per-sequence mean), backward, global-norm clip, Adam -> samples/s.
Prints one JSON line. Run with the system Python that has torch: /usr/bin/python3 bench/pytorch/policy_bench.py
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


class Policy(torch.nn.Module):
    def __init__(self, qvocab=5, rvocab=12, qlen=12, patches=64, dim=32, hidden=64, terms=3, levels=16, number_token=2):
        super().__init__()
        h = hidden
        self.h, self.n, self.dim, self.terms, self.qvocab = h, patches, dim, terms, qvocab
        self.code_width = qvocab * (qlen + 1)
        context = h + 2
        slots = terms + 1
        p = lambda *shape: torch.nn.Parameter(torch.empty(*shape).uniform_(-0.1, 0.1))
        self.q_emb, self.q_bias = p(self.code_width, h), p(h)
        self.term_emb, self.term_bias, self.term_obj, self.term_offset = p(qvocab, dim), p(qvocab, 1), p(dim, 1), p(terms)
        self.result_kernel, self.result_bias = p(qvocab, 1), p(terms)
        self.init_kernel, self.init_bias = p(context, h), p(h)
        self.ctx_kernel, self.in_bias = p(context, 3 * h), p(3 * h)
        self.dec_emb, self.rec_kernel, self.rec_bias = p(rvocab, 3 * h), p(h, 3 * h), p(3 * h)
        self.ptr_kernel, self.ptr_bias = p(h, slots), p(slots)
        self.out_kernel, self.out_bias = p(h, rvocab - 1), p(rvocab - 1)
        # Count pointer map: number token j gets -sum_k a_k (x_k - j)^2 from the moments (sum a x^2, sum a x, sum a).
        pointer = torch.zeros(3, rvocab - 1)
        for j in range(levels):
            c = number_token + j - 1
            if 0 <= c < rvocab - 1:
                pointer[0, c], pointer[1, c], pointer[2, c] = -1.0, 2.0 * j, -float(j * j)
        self.register_buffer('pointer', pointer)

    def prefix(self, patches, questions):
        P, n, K = patches.shape[0], self.n, self.terms
        code = questions[:, : self.code_width]
        clauses = questions[:, self.code_width : self.code_width + K * self.qvocab].reshape(P * K, self.qvocab)
        q = torch.tanh(code @ self.q_emb + self.q_bias)
        directions = (clauses @ self.term_emb).reshape(P, K, self.dim).transpose(1, 2)
        matches = patches @ directions
        objectness = (patches.reshape(P * n, self.dim) @ self.term_obj).reshape(P, n, 1)
        clause_bias = (clauses @ self.term_bias).reshape(P, 1, K)
        counts = torch.sigmoid(4 * (matches + objectness + clause_bias) + self.term_offset).sum(1)
        weights = (clauses @ self.result_kernel).reshape(P, K) + self.result_bias
        result = (counts * weights).sum(1, keepdim=True)
        diff = counts[:, :1] - counts[:, 1:2]
        comparison = torch.sigmoid(4 * (torch.cat([diff, -diff], 1) - 0.5))
        context = torch.cat([q, comparison], 1)
        slots = torch.cat([counts, result], 1)
        return torch.tanh(context @ self.init_kernel + self.init_bias), context @ self.ctx_kernel + self.in_bias, slots

    def head(self, state, slots):
        a = F.softplus(state @ self.ptr_kernel + self.ptr_bias)
        ax = a * slots
        moments = torch.cat([(ax * slots).sum(1, keepdim=True), ax.sum(1, keepdim=True), a.sum(1, keepdim=True)], 1)
        return state @ self.out_kernel + self.out_bias + moments @ self.pointer

    def step(self, previous_onehot, state, context_gates, slots):
        h = self.h
        x = previous_onehot @ self.dec_emb + context_gates
        hg = state @ self.rec_kernel + self.rec_bias
        r = torch.sigmoid(x[:, :h] + hg[:, :h])
        z = torch.sigmoid(x[:, h : 2 * h] + hg[:, h : 2 * h])
        n = torch.tanh(x[:, 2 * h :] + r * hg[:, 2 * h :])
        state = n + z * (state - n)
        return self.head(state, slots), state

    def teacher_forced(self, patches, questions, index, previous_onehot, length):
        state, gates, slots = self.prefix(patches, questions)
        state, gates, slots = state.index_select(0, index), gates.index_select(0, index), slots.index_select(0, index)
        B = index.shape[0]
        xg = (previous_onehot @ self.dec_emb).reshape(B, length, -1) + gates.unsqueeze(1)
        logits = []
        h = self.h
        for t in range(length):
            hg = state @ self.rec_kernel + self.rec_bias
            x = xg[:, t]
            r = torch.sigmoid(x[:, :h] + hg[:, :h])
            z = torch.sigmoid(x[:, h : 2 * h] + hg[:, h : 2 * h])
            n = torch.tanh(x[:, 2 * h :] + r * hg[:, 2 * h :])
            state = n + z * (state - n)
            logits.append(self.head(state, slots))
        return torch.stack(logits, 1)  # [B, L, V-1]


def median_ms(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--prompts', type=int, default=64)
    parser.add_argument('--group', type=int, default=8)
    parser.add_argument('--hidden', type=int, default=64)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    qvocab, rvocab, qlen, length, temperature = 5, 12, 12, 8, 1.0
    model = Policy(qvocab=qvocab, rvocab=rvocab, qlen=qlen, hidden=args.hidden)
    P, B = args.prompts, args.prompts * args.group
    patches = torch.rand(P, 64, 32)
    questions = torch.zeros(P, qvocab * (qlen + 1) + 3 * qvocab)
    questions[:, 1] = questions[:, 2] = questions[:, 3] = 1
    questions[:, qvocab * (qlen + 1) + 1] = questions[:, qvocab * (qlen + 1) + 2] = questions[:, qvocab * (qlen + 1) + 3] = 1
    index = torch.arange(P).repeat_interleave(args.group)

    @torch.no_grad()
    def rollout():
        state, gates, slots = model.prefix(patches, questions)
        state, gates, slots = state.index_select(0, index), gates.index_select(0, index), slots.index_select(0, index)
        previous = torch.zeros(B, dtype=torch.long)
        tokens, logprobs, entropies = [], [], []
        for _ in range(length):
            logits, state = model.step(F.one_hot(previous, rvocab).float(), state, gates, slots)
            logp = torch.log_softmax(logits / temperature, -1)
            choice = torch.multinomial(logp.exp(), 1).squeeze(1)
            logprobs.append(logp.gather(1, choice.unsqueeze(1)).squeeze(1))
            entropies.append(-(logp.exp() * logp).sum(-1))
            previous = choice + 1
            tokens.append(previous)
        return torch.stack(tokens, 1), torch.stack(logprobs, 1), torch.stack(entropies, 1)

    rollout_ms = median_ms(rollout, args.warmup, args.repeats)
    tokens, old_logprobs, _ = rollout()
    ref_logprobs = old_logprobs.clone()
    previous = torch.cat([torch.zeros(B, 1, dtype=torch.long), tokens[:, :-1]], 1).reshape(-1)
    previous_onehot = F.one_hot(previous, rvocab).float()
    targets = tokens - 1
    mask = torch.ones(B, length)
    advantages = torch.randn(B, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)

    def update():
        logits = model.teacher_forced(patches, questions, index, previous_onehot, length)
        logp_all = torch.log_softmax(logits / temperature, -1)
        logp = logp_all.gather(2, targets.unsqueeze(2)).squeeze(2)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        ratio = torch.exp(torch.clamp(logp - old_logprobs, -20, 20))
        pg = torch.maximum(-advantages * ratio, -advantages * torch.clamp(ratio, 0.8, 1.2))
        d = torch.clamp(ref_logprobs - logp, -20, 20)
        kl = torch.clamp(torch.exp(d) - d - 1, -10, 10)
        per_seq = ((pg + 0.01 * kl) * mask).sum(1) / mask.sum(1)
        loss = per_seq.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        float(((entropy * mask).sum() / mask.sum()).detach())

    update_ms = median_ms(update, args.warmup, args.repeats)
    print(json.dumps({
        'framework': f'pytorch {torch.__version__}', 'threads': torch.get_num_threads(), 'sequences': B, 'tokens': length,
        'parameters': sum(p.numel() for p in model.parameters()),
        'rolloutMs': rollout_ms, 'rolloutSequencesPerSecond': B / rollout_ms * 1000,
        'updateMs': update_ms, 'updateSamplesPerSecond': B / update_ms * 1000,
    }))


if __name__ == '__main__':
    main()
