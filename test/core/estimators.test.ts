import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurianInputError, computeAdvantages } from '../../src/core/index.js';
import { assertClose, batchOf } from './helpers.js';

describe('grpo (verl semantics)', () => {
  it('matches the spec check value: G = 2, scores {0, 1} -> -/+0.70710578', () => {
    const result = computeAdvantages('grpo', { index: ['a', 'a'], scores: [0, 1] });
    assertClose(result.advantages, [-0.7071057811879616, 0.7071057811879616], 1e-12);
  });

  it('gives the lone sample of a 7:1 group with G = 8 an advantage of about -2.47', () => {
    const result = computeAdvantages('grpo', batchOf([[1, 1, 1, 1, 1, 1, 1, 0]]));
    // mean 0.875, unbiased std sqrt(0.125) = 0.35355339; (0 - 0.875) / (0.35355339 + 1e-6)
    assertClose(result.advantages.slice(7), [-2.474866734172715], 1e-12);
    assertClose(result.advantages.slice(0, 1), [0.35355239059610216], 1e-12);
  });

  it('gives exactly 0 to zero-variance groups and r / (1 + eps) to singletons', () => {
    const result = computeAdvantages('grpo', { index: ['z', 'z', 'z', 's'], scores: [0.1, 0.1, 0.1, 0.9] });
    assert.deepEqual(Array.from(result.advantages.slice(0, 3)), [0, 0, 0]);
    assertClose(result.advantages.slice(3), [0.9 / (1 + 1e-6)], 1e-15);
  });

  it('adds eps to the std, not inside a square root', () => {
    const eps = 0.5;
    const result = computeAdvantages('grpo', { index: ['a', 'a'], scores: [0, 1] }, { eps });
    assertClose(result.advantages, [-0.5 / (Math.SQRT1_2 + eps), 0.5 / (Math.SQRT1_2 + eps)], 1e-12);
  });
});

describe('dr_grpo, rloo, batch_std', () => {
  it('dr_grpo subtracts the group mean only; a singleton keeps r', () => {
    const result = computeAdvantages('dr_grpo', { index: ['a', 'a', 'a', 'b'], scores: [1, 0, 0, 0.7] });
    assertClose(result.advantages, [2 / 3, -1 / 3, -1 / 3, 0.7], 1e-12);
  });

  it('rloo subtracts the mean of the other samples; a singleton keeps r', () => {
    const result = computeAdvantages('rloo', { index: ['a', 'a', 'a', 'b'], scores: [1, 0, 0, 0.7] });
    // 1 - mean(0, 0) = 1; 0 - mean(1, 0) = -0.5
    assertClose(result.advantages, [1, -0.5, -0.5, 0.7], 1e-12);
  });

  it('batch_std whitens the centred scores over valid tokens (token-weighted, unbiased, mean not added back)', () => {
    const batch = { index: ['a', 'a', 'b', 'b'], scores: [1, 0, 1, 1], lengths: [3, 1, 2, 0] };
    const result = computeAdvantages('batch_std', batch);
    // centred: a: +0.5, -0.5; b: 0, 0. Token values: [0.5 x3, -0.5 x1, 0 x2]; N = 6
    const tokens = [0.5, 0.5, 0.5, -0.5, 0, 0];
    const mu = tokens.reduce((s, v) => s + v, 0) / 6;
    const variance = tokens.reduce((s, v) => s + (v - mu) ** 2, 0) / 5;
    const scale = 1 / Math.sqrt(variance + 1e-8);
    assertClose(result.advantages, [(0.5 - mu) * scale, (-0.5 - mu) * scale, (0 - mu) * scale, 0], 1e-12);
  });

  it('batch_std rejects a batch with a single valid token instead of returning NaN', () => {
    assert.throws(
      () => computeAdvantages('batch_std', { index: ['a', 'b'], scores: [1, 0], lengths: [1, 0] }),
      (error: unknown) => error instanceof DurianInputError && /at least 2/.test(error.message),
    );
  });
});

describe('durian', () => {
  // Four prompts, G = 8: A 7:1 (entropy 1, confident), B 4:4, C 1:7, D 8:0 (most confident).
  // Perceptual: ranks by entropy -> quarters 0,1,2,3 -> low, mid, mid, high.
  // Reasoning: b = min(12, floor(4 / 2)) = 2 bins; confidence ascending C, B | A, D.
  const groups = [
    [1, 1, 1, 1, 1, 1, 1, 0],
    [1, 1, 1, 1, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 1],
  ];
  const batch = batchOf(groups, { entropy: [1, 2, 3, 4], confidence: [-0.1, -0.5, -0.9, -0.05] });

  it('reproduces a hand-computed 7:1 / 1:7 example with the default weights (0.1, 0.2, 0.7)', () => {
    const result = computeAdvantages('durian', batch);
    const at = (g: number, i: number) => result.advantages[g * 8 + i];
    // A: perceptual pool = A alone (std 0.35355339); reasoning pool = A + D (15 ones, 1 zero) -> std 0.25.
    // lone 0: 0.1 * -2.4748667 + 0.2 * -2.4748667 + 0.7 * (-0.875 / 0.250001) = -3.19245022
    assertClose([at(0, 7)], [-3.1924502202910148], 1e-12, 'A lone');
    assertClose([at(0, 0)], [0.4560643171844307], 1e-12, 'A right');
    // C: pools B + C (5 ones of 16) in both bucket kinds -> std 0.47871355
    assertClose([at(2, 0)], [1.892517085842158], 1e-12, 'C lone');
    assertClose([at(1, 0)], [1.0335586381981825], 1e-12, 'B right');
    assert.equal(at(3, 0), 0, 'all-right group gets 0');

    const explanation = result.explanation as { reasoningBins: number; prompts: { perceptualBucket: string; reasoningBin: number }[] };
    assert.equal(explanation.reasoningBins, 2);
    assert.deepEqual(explanation.prompts.map((p) => p.perceptualBucket), ['low', 'mid', 'mid', 'high']);
    assert.deepEqual(explanation.prompts.map((p) => p.reasoningBin), [1, 0, 0, 1]);
    // The components are returned per rollout and recombine into the advantage.
    const { grpo, perceptual, reasoning } = result.perSequence;
    for (let s = 0; s < 32; s++) {
      assertClose([0.1 * grpo[s] + 0.2 * perceptual[s] + 0.7 * reasoning[s]], [result.advantages[s]], 1e-12);
    }
  });

  it('poolZeroVariance = false keeps all-same prompts out of the pooled stds', () => {
    const result = computeAdvantages('durian', batch, { poolZeroVariance: false });
    // Reasoning bin of A now pools A alone -> every term equals GRPO's for A.
    assertClose([result.advantages[7]], [-2.474866734172715], 1e-12);
    const buckets = result.explanation.buckets as { reasoning: { pooledRewards: number }[] };
    assert.deepEqual(buckets.reasoning.map((b) => b.pooledRewards), [16, 8]);
  });

  it('caps the reasoning bins so each holds minPromptsPerBin prompts', () => {
    const many = batchOf(Array.from({ length: 10 }, (_, g) => [g % 2, 1, 0, 1]));
    assert.equal((computeAdvantages('durian', many, { reasoningBins: 12 }).explanation.reasoningBins as number), 5);
    assert.equal((computeAdvantages('durian', many, { reasoningBins: 12, minPromptsPerBin: 3 }).explanation.reasoningBins as number), 3);
    assert.equal((computeAdvantages('durian', many, { reasoningBins: 4 }).explanation.reasoningBins as number), 4);
    assert.equal((computeAdvantages('durian', many, { minPromptsPerBin: 11 }).explanation.reasoningBins as number), 1);
  });

  it('sums the rollouts log-probs with confidence = "sum"', () => {
    const b = batchOf([[1, 0], [1, 0, 0, 0]], { confidence: [-1, -0.6] });
    const mean = computeAdvantages('durian', b, { minPromptsPerBin: 1 }).explanation.prompts as { confidence: number }[];
    const total = computeAdvantages('durian', b, { minPromptsPerBin: 1, confidence: 'sum' }).explanation.prompts as { confidence: number }[];
    assert.deepEqual(mean.map((p) => p.confidence), [-1, -0.6]);
    assertClose(total.map((p) => p.confidence), [-2, -2.4], 1e-12);
  });
});

describe('interventions and the band filter', () => {
  it('a relabel replaces the reward before any maths', () => {
    const plain = computeAdvantages('grpo', { index: ['a', 'a', 'a'], scores: [1, 0, 0] });
    const relabelled = computeAdvantages('grpo', { index: ['a', 'a', 'a'], scores: [1, 1, 0], relabels: [{ sequence: 1, score: 0 }] });
    assert.deepEqual(Array.from(relabelled.advantages), Array.from(plain.advantages));
    assert.equal(relabelled.scores[1], 0);
  });

  it('a group weight scales the final advantages; 0 excludes the group from the statistics too', () => {
    const batch = batchOf([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]]);
    const base = computeAdvantages('durian', batch, { minPromptsPerBin: 1 });
    const doubled = computeAdvantages('durian', { ...batch, groupWeights: { p1: 2 } }, { minPromptsPerBin: 1 });
    assertClose(doubled.advantages.slice(4, 8), Array.from(base.advantages.slice(4, 8), (a) => 2 * a), 1e-12);
    assertClose(doubled.advantages.slice(0, 4), base.advantages.slice(0, 4), 1e-12);

    const excluded = computeAdvantages('durian', { ...batch, groupWeights: { p1: 0, unknownPrompt: 3 } }, { minPromptsPerBin: 1 });
    assert.deepEqual(Array.from(excluded.advantages.slice(4, 8)), [0, 0, 0, 0]);
    assert.deepEqual(excluded.kept.slice(4, 8), [false, false, false, false]);
    assert.equal(excluded.groups[1].dropped, 'weight');
    // The remaining prompts are normalised as if p1 had never been in the batch.
    const without = computeAdvantages('durian', batchOf([[1, 0, 0, 0], [1, 1, 1, 0]], { entropy: [0, 2], confidence: [0, -2] }), { minPromptsPerBin: 1 });
    assertClose([...excluded.advantages.slice(0, 4), ...excluded.advantages.slice(8)], without.advantages, 1e-12);
  });

  it('the band filter drops groups whose mean accuracy is outside [low, high], for any estimator', () => {
    const batch = { index: ['a', 'a', 'b', 'b', 'c', 'c'], scores: [1, 1, 1, 0, 0, 0] };
    for (const name of ['grpo', 'dr_grpo', 'rloo', 'batch_std']) {
      const result = computeAdvantages(name, batch, { band: [0.01, 0.99] });
      assert.deepEqual(result.kept, [false, false, true, true, false, false], name);
      assert.deepEqual(result.groups.map((g) => g.dropped ?? 'kept'), ['band', 'kept', 'band'], name);
      assert.equal(result.advantages[0], 0, name);
      assert.notEqual(result.advantages[2], 0, name);
    }
    const withAccuracy = computeAdvantages('grpo', { ...batch, accuracy: [1, 0, 1, 0, 1, 0] }, { band: [0.4, 0.6] });
    assert.deepEqual(withAccuracy.kept, [true, true, true, true, true, true]);
  });

  it('keeps every advantage at 0 when the filter drops everything', () => {
    const result = computeAdvantages('durian', batchOf([[1, 1], [0, 0]]), { band: [0.2, 0.8] });
    assert.deepEqual(Array.from(result.advantages), [0, 0, 0, 0]);
  });
});

describe('bad input is rejected with what and where', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['unknown estimator', () => computeAdvantages('ppo', { index: ['a'], scores: [1] }), /estimator: unknown estimator "ppo" \(known: grpo, dr_grpo, rloo, batch_std, durian\)/],
    ['empty batch', () => computeAdvantages('grpo', { index: [], scores: [] }), /index: the batch is empty/],
    ['mismatched lengths', () => computeAdvantages('grpo', { index: ['a', 'a'], scores: [1] }), /scores: has 1 entries but index has 2/],
    ['NaN reward', () => computeAdvantages('grpo', { index: ['a', 'a'], scores: [1, Number.NaN] }), /scores\[1\]: must be a finite number, got NaN/],
    ['Infinity reward', () => computeAdvantages('rloo', { index: ['a', 'a'], scores: [Infinity, 1] }), /scores\[0\]: must be a finite number, got Infinity/],
    ['null reward', () => computeAdvantages('grpo', { index: ['a'], scores: [null as unknown as number] }), /scores\[0\]: must be a finite number, got null/],
    ['huge reward', () => computeAdvantages('grpo', { index: ['a'], scores: [1e300] }), /scores\[0\]: 1e\+300 is outside the supported range/],
    ['bad id', () => computeAdvantages('grpo', { index: [{}] as unknown as string[], scores: [1] }), /index\[0\]: must be a string or an integer prompt id/],
    ['negative length', () => computeAdvantages('batch_std', { index: ['a', 'a'], scores: [1, 0], lengths: [2, -1] }), /lengths\[1\]: must be a whole number of valid tokens >= 0, got -1/],
    ['missing entropy', () => computeAdvantages('durian', { index: ['a'], scores: [1], logprob: [-1] }), /visualEntropy: is required by this estimator/],
    ['entropy differs within a prompt', () => computeAdvantages('durian', { index: ['a', 'a'], scores: [1, 0], logprob: [-1, -1], visualEntropy: [1, 2] }), /visualEntropy\[1\]: is 2 but sequence 0 of the same prompt "a" has 1/],
    ['unknown option', () => computeAdvantages('grpo', { index: ['a'], scores: [1] }, { reasoningBins: 3 }), /options.reasoningBins: is not an option of estimator grpo \(or common: band\) \(known: eps\)/],
    ['negative eps', () => computeAdvantages('grpo', { index: ['a'], scores: [1] }, { eps: -1 }), /options.eps: must be >= 0 and <= 1, got -1/],
    ['bad weights', () => computeAdvantages('durian', batchOf([[1, 0]]), { weights: [0.1, 'x', 0.7] }), /options.weights\[1\]: \(a_perc\) must be a finite number, got "x"/],
    ['two weights', () => computeAdvantages('durian', batchOf([[1, 0]]), { weights: [0.1, 0.9] }), /options.weights: must be an array of 3 numbers \[a_ori, a_perc, a_reas\]/],
    ['fractional bins', () => computeAdvantages('durian', batchOf([[1, 0]]), { reasoningBins: 2.5 }), /options.reasoningBins: must be a whole number, got 2.5/],
    ['bad confidence', () => computeAdvantages('durian', batchOf([[1, 0]]), { confidence: 'max' }), /options.confidence: must be one of "mean", "sum", got "max"/],
    ['inverted band', () => computeAdvantages('grpo', { index: ['a'], scores: [1] }, { band: [0.9, 0.1] }), /options.band: low \(0.9\) must not exceed high \(0.1\)/],
    ['negative group weight', () => computeAdvantages('grpo', { index: ['a'], scores: [1], groupWeights: { a: -1 } }), /groupWeights\["a"\]: must be a finite weight >= 0, got -1/],
    ['relabel out of range', () => computeAdvantages('grpo', { index: ['a'], scores: [1], relabels: [{ sequence: 4, score: 0 }] }), /relabels\[0\].sequence: must be a sequence position in \[0, 0\], got 4/],
    ['relabel NaN', () => computeAdvantages('grpo', { index: ['a'], scores: [1], relabels: [{ sequence: 0, score: Number.NaN }] }), /relabels\[0\].score: must be a finite reward, got NaN/],
  ];
  for (const [name, run, message] of cases) {
    it(name, () => {
      assert.throws(run, (error: unknown) => {
        assert.ok(error instanceof DurianInputError, `expected DurianInputError, got ${String(error)}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('JSON Lines with defaults', () => {
  it('applies default options only to lines of the default estimator', async () => {
    const { advantagesForLine } = await import('../../src/core/index.js');
    const defaults = { estimator: 'durian', options: { weights: [1, 0, 0] } };
    const grpoLine = advantagesForLine('{"estimator":"grpo","index":["a","a"],"scores":[0,1]}', 1, defaults);
    assert.ok(Array.isArray(grpoLine.advantages), String(grpoLine.error));
    const durianLine = advantagesForLine('{"index":["a","a"],"scores":[0,1],"visualEntropy":[1,1],"logprob":[-1,-1]}', 2, defaults);
    assert.deepEqual((durianLine.weights as { aOri: number }).aOri, 1);
  });
});
