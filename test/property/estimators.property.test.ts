/** Invariants of the estimators (../shared/docs/durian-method.md), checked on random batches with fast-check. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ESTIMATOR_NAMES, MAX_MAGNITUDE, computeAdvantages, unbiasedStd } from '../../src/core/index.js';

// Rewards away from the subnormal range, where no ratio of floats is meaningful.
const reward = fc.oneof(
  fc.constantFrom(0, 1, 0.1, 0.9, 1),
  fc.double({ min: -10, max: 10, noNaN: true }).map((r) => (Math.abs(r) < 1e-100 ? 0 : r)),
);

/** Groups of 2..12 rollouts; distinct difficulty scores per prompt so that order cannot break ties. */
const groupsArbitrary = fc
  .array(fc.array(reward, { minLength: 2, maxLength: 12 }), { minLength: 1, maxLength: 24 })
  .chain((groups) =>
    fc.record({
      groups: fc.constant(groups),
      entropy: fc.uniqueArray(fc.double({ min: 0, max: 6, noNaN: true }), { minLength: groups.length, maxLength: groups.length, comparator: 'SameValueZero' }),
      confidence: fc.uniqueArray(fc.double({ min: -8, max: 0, noNaN: true }), { minLength: groups.length, maxLength: groups.length, comparator: 'SameValueZero' }),
    }),
  );

function toBatch(sample: { groups: number[][]; entropy: number[]; confidence: number[] }, order?: number[]) {
  const index: string[] = [];
  const scores: number[] = [];
  const visualEntropy: number[] = [];
  const logprob: number[] = [];
  for (const g of order ?? sample.groups.map((_, i) => i)) {
    for (const r of sample.groups[g]) {
      index.push(`p${g}`);
      scores.push(r);
      visualEntropy.push(sample.entropy[g]);
      logprob.push(sample.confidence[g]);
    }
  }
  return { index, scores, visualEntropy, logprob, lengths: scores.map((_, i) => 1 + (i % 5)) };
}

function groupSlices(groups: number[][]): [number, number][] {
  const slices: [number, number][] = [];
  let start = 0;
  for (const g of groups) {
    slices.push([start, start + g.length]);
    start += g.length;
  }
  return slices;
}

const close = (a: number, b: number, tolerance = 1e-7) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));

/** max |r| / std over the groups with a spread: how much rounding of the rewards an advantage can amplify. */
function conditioning(groups: readonly (readonly number[])[]): number {
  let worst = 1;
  for (const rewards of groups) {
    const std = unbiasedStd(rewards);
    if (std > 0) worst = Math.max(worst, Math.max(...rewards.map(Math.abs)) / std);
  }
  return worst;
}

describe('estimator invariants', () => {
  it('advantages within a group sum to about 0 for grpo, dr_grpo, rloo and durian', () => {
    fc.assert(
      fc.property(groupsArbitrary, (sample) => {
        const batch = toBatch(sample);
        for (const name of ['grpo', 'dr_grpo', 'rloo', 'durian']) {
          const { advantages } = computeAdvantages(name, batch);
          for (const [start, end] of groupSlices(sample.groups)) {
            let total = 0;
            let scale = 0;
            for (let s = start; s < end; s++) {
              total += advantages[s];
              scale = Math.max(scale, Math.abs(advantages[s]));
            }
            assert.ok(Math.abs(total) <= 1e-9 * Math.max(1, scale) * (end - start), `${name}: group sum ${total}`);
          }
        }
      }),
    );
  });

  it('scaling all rewards by c > 0 leaves grpo and durian unchanged (eps = 0)', () => {
    fc.assert(
      fc.property(groupsArbitrary, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (sample, c) => {
        const batch = toBatch(sample);
        const scaled = { ...batch, scores: batch.scores.map((r) => r * c) };
        // Rounding, not the estimator, limits how exactly (r - mean) / std survives scaling: its relative error is
        // ~ machine epsilon x max|r| / std, so a group like [9.99999999790, 9.99999999863] (std 5e-10) may move
        // in the 6th digit. The tolerance is 1e-6 unless the batch is that ill-conditioned.
        const tolerance = Math.max(1e-6, 1e3 * Number.EPSILON * conditioning(sample.groups));
        for (const name of ['grpo', 'durian']) {
          const a = computeAdvantages(name, batch, { eps: 0 }).advantages;
          const b = computeAdvantages(name, scaled, { eps: 0 }).advantages;
          a.forEach((value, s) => assert.ok(close(value, b[s], tolerance), `${name}[${s}]: ${value} vs ${b[s]} (tolerance ${tolerance})`));
        }
      }),
    );
  });

  it('durian with weights (1, 0, 0) equals grpo', () => {
    fc.assert(
      fc.property(groupsArbitrary, (sample) => {
        const batch = toBatch(sample);
        const a = computeAdvantages('durian', batch, { weights: [1, 0, 0] }).advantages;
        const b = computeAdvantages('grpo', batch).advantages;
        assert.deepEqual(Array.from(a), Array.from(b));
      }),
    );
  });

  it('durian with one reasoning bin and weights (0, 0, 1) is (r - mean_s) / (pooled std of the batch + eps)', () => {
    fc.assert(
      fc.property(groupsArbitrary, (sample) => {
        const batch = toBatch(sample);
        const a = computeAdvantages('durian', batch, { weights: [0, 0, 1], reasoningBins: 1 }).advantages;
        const sigma = unbiasedStd(batch.scores);
        groupSlices(sample.groups).forEach(([start, end], g) => {
          const rewards = sample.groups[g];
          const mean = rewards.reduce((s, r) => s + r, 0) / rewards.length;
          const same = rewards.every((r) => r === rewards[0]);
          for (let s = start; s < end; s++) {
            const expected = same || sigma === 0 ? 0 : (batch.scores[s] - mean) / (sigma + 1e-6);
            assert.ok(close(a[s], expected, 1e-9), `[${s}] ${a[s]} vs ${expected}`);
          }
        });
      }),
    );
  });

  it('zero-variance groups give 0 under grpo, dr_grpo, rloo and durian', () => {
    fc.assert(
      fc.property(groupsArbitrary, reward, fc.integer({ min: 2, max: 10 }), (sample, value, size) => {
        const withFlat = {
          groups: [...sample.groups, new Array(size).fill(value)],
          entropy: [...sample.entropy, 7],
          confidence: [...sample.confidence, 1],
        };
        const batch = toBatch(withFlat);
        for (const name of ['grpo', 'dr_grpo', 'rloo', 'durian']) {
          const { advantages } = computeAdvantages(name, batch);
          for (let s = batch.scores.length - size; s < batch.scores.length; s++) assert.equal(advantages[s], 0, name);
        }
      }),
    );
  });

  it('permuting prompts permutes the outputs (every estimator)', () => {
    fc.assert(
      fc.property(
        groupsArbitrary.chain((sample) =>
          fc.record({ sample: fc.constant(sample), order: fc.shuffledSubarray(sample.groups.map((_, i) => i), { minLength: sample.groups.length }) }),
        ),
        ({ sample, order }) => {
          const identity = sample.groups.map((_, i) => i);
          for (const name of ESTIMATOR_NAMES) {
            const a = computeAdvantages(name, toBatch(sample, identity));
            const b = computeAdvantages(name, toBatch(sample, order));
            // Map each (prompt, rollout) to its value in both runs.
            const value = (result: typeof a, arrangement: number[]) => {
              const byKey = new Map<string, number>();
              let s = 0;
              for (const g of arrangement) for (let r = 0; r < sample.groups[g].length; r++) byKey.set(`${g}/${r}`, result.advantages[s++]);
              return byKey;
            };
            const va = value(a, identity);
            const vb = value(b, order);
            if (name === 'batch_std') continue; // token weights follow positions (lengths are per position here)
            for (const [key, x] of va) assert.ok(close(x, vb.get(key) as number, 1e-9), `${name} ${key}: ${x} vs ${vb.get(key)}`);
          }
        },
      ),
    );
  });

  it('rloo equals dr_grpo scaled by n / (n - 1)', () => {
    fc.assert(
      fc.property(groupsArbitrary, (sample) => {
        const batch = toBatch(sample);
        const rloo = computeAdvantages('rloo', batch).advantages;
        const dr = computeAdvantages('dr_grpo', batch).advantages;
        groupSlices(sample.groups).forEach(([start, end]) => {
          const n = end - start;
          for (let s = start; s < end; s++) assert.ok(close(rloo[s], (dr[s] * n) / (n - 1), 1e-12));
        });
      }),
    );
  });

  it('any finite input within the supported range gives finite output, singletons and huge values included', () => {
    const anyReward = fc.double({ min: -MAX_MAGNITUDE, max: MAX_MAGNITUDE, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), anyReward, fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 0, max: 50 })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.constantFrom(0, 1e-6, 1),
        (rows, eps) => {
          const index = rows.map(([p]) => `p${p}`);
          const lengths = rows.map(([, , , l]) => l);
          if (lengths.reduce((s, l) => s + l, 0) < 2) lengths[0] = 2;
          const entropyOf = (p: number) => p * 0.37;
          const batch = {
            index,
            scores: rows.map(([, r]) => r),
            lengths,
            visualEntropy: rows.map(([p]) => entropyOf(p)),
            logprob: rows.map(([, , l]) => l),
          };
          for (const name of ESTIMATOR_NAMES) {
            const options = name === 'grpo' || name === 'durian' ? { eps } : {};
            const result = computeAdvantages(name, batch, options);
            result.advantages.forEach((a, s) => assert.ok(Number.isFinite(a), `${name}[${s}] = ${a}`));
            for (const values of Object.values(result.perSequence)) values.forEach((a) => assert.ok(Number.isFinite(a)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
