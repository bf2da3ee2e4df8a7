import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { GRPO_TRAIN_DEFAULTS } from '../../../src/trainer/policy/update.js';
import { GENERAL_POLICY, GeneralPolicy, generalParameterCount, resolveGeneralConfig } from '../../../src/trainer/policy/general/index.js';
import type { Policy, PolicyShape } from '../../../src/trainer/policy/policy.js';
import { repeatPrompts } from '../../../src/trainer/policy/sampler.js';
import { SYNTHETIC_EOS, syntheticGoldBatch, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { Rng } from '../../../src/trainer/rng.js';
import { assertWellFormedSample } from './sampleChecks.js';

/** The synthetic counting task's vocabularies, a small image (16 patches of 8 features) and a tiny model, so the tests stay fast. */
const SHAPE: PolicyShape = { questionVocabSize: 5, responseVocabSize: 12, eosToken: SYNTHETIC_EOS, maxQuestionLength: 5, maxResponseLength: 4, patchCount: 16, patchDim: 8 };
const TINY = { d: 32, heads: 4, layers: 2 };
const prompts = (count: number, seed: number) => syntheticPrompts(count, seed, 6, SHAPE.patchCount, SHAPE.patchDim);

let policy: Policy;

before(async () => {
  await selectBackend({ backend: 'wasm' });
  policy = await GENERAL_POLICY.create(SHAPE, { seed: 21, config: TINY });
});

after(async () => {
  await policy.dispose();
});

function worstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('general policy: ONNX sampler (prefix + KV-cached step graphs) against tfjs', () => {
  const batch = prompts(6, 5);

  it('sampled log-probs and entropies equal the tfjs teacher-forced ones, grouped and ungrouped prompts', async () => {
    const layouts = { grouped: repeatPrompts(6, 4), scattered: Int32Array.from([3, 0, 5, 5, 1, 0, 2, 4, 3]) };
    for (const [layout, promptIndex] of Object.entries(layouts)) {
      for (const temperature of [1, 1.3, 0.6]) {
        const rng = new Rng(77);
        const rollout = await policy.sample(batch, { random: () => rng.next(), promptIndex, temperature });
        const scored = policy.logProbs({ ...batch, responses: rollout.responses, responseLength: rollout.responseLength, promptIndex }, { temperature });
        assert.ok(rollout.lengths.some((n) => n > 1), 'some responses run past their first token');
        const logprobGap = worstDifference(scored.tokenLogprobs, rollout.tokenLogprobs);
        const entropyGap = worstDifference(scored.entropies, rollout.entropies);
        assert.ok(logprobGap < 1e-4, `${layout}, temperature ${temperature}: log-probs differ by ${logprobGap}`);
        assert.ok(entropyGap < 1e-4, `${layout}, temperature ${temperature}: entropies differ by ${entropyGap}`);
      }
    }
  });

  it('is reproducible for a seed, stops at EOS and reports mean token log-probs', async () => {
    const promptIndex = repeatPrompts(6, 4);
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return policy.sample(batch, { random: () => rng.next(), promptIndex, temperature: 2 });
    };
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    assert.deepEqual(a.responses, b.responses);
    assert.deepEqual(a.tokenLogprobs, b.tokenLogprobs);
    assert.notDeepEqual(a.responses, c.responses);
    assert.equal(a.lengths.length, promptIndex.length);
    assertWellFormedSample(a, SYNTHETIC_EOS);
  });

  it('greedy decoding is deterministic, ignores the random source and picks each step\'s most likely token', async () => {
    const promptIndex = repeatPrompts(6, 2);
    const first = await policy.sample(batch, { random: () => 0.99, promptIndex, greedy: true });
    const second = await policy.sample(batch, { random: () => 0.01, promptIndex, greedy: true });
    assert.deepEqual(first.responses, second.responses);
    // Every other token at that step scores no higher under tfjs teacher forcing.
    const length = first.responseLength;
    for (let s = 0; s < promptIndex.length; s++) {
      const n = first.lengths[s];
      for (let t = 0; t < n; t++) {
        const responses = first.responses.slice(s * length, (s + 1) * length);
        const alternatives: number[] = [];
        for (let token = 1; token < SHAPE.responseVocabSize; token++) {
          if (token === responses[t]) continue;
          const changed = responses.slice(0, t + 1);
          changed[t] = token;
          const padded = new Int32Array(length);
          padded.set(changed);
          const single = { patches: batch.patches, questions: batch.questions, questionLength: batch.questionLength, responses: padded, responseLength: length, promptIndex: Int32Array.of(promptIndex[s]) };
          alternatives.push(policy.logProbs(single).tokenLogprobs[t]);
        }
        assert.ok(alternatives.every((lp) => lp <= first.tokenLogprobs[s * length + t] + 1e-6), `sequence ${s} step ${t}: a token scores above the greedy one`);
      }
    }
  });

  it('follows the current weights (no session rebuild)', async () => {
    const weights = policy.getWeights();
    const bias = weights['output.bias'].slice();
    bias[SYNTHETIC_EOS - 1] = 50;
    policy.setWeights({ ...weights, 'output.bias': bias });
    try {
      const rollout = await policy.sample(batch, { random: () => 0.5, promptIndex: repeatPrompts(6, 2) });
      assert.ok(rollout.lengths.every((n) => n === 1), 'every response is EOS alone');
    } finally {
      policy.setWeights(weights);
    }
  });
});

describe('general policy: tfjs scoring and updates', () => {
  it('the grouped stream (one question per prompt, G decoder blocks) scores like one stream per sequence', () => {
    const batch = prompts(3, 8);
    const promptIndex = repeatPrompts(3, 3);
    const rng = new Rng(5);
    const responses = Int32Array.from({ length: 9 * 4 }, () => 1 + rng.int(SHAPE.responseVocabSize - 1));
    const grouped = policy.logProbs({ ...batch, responses, responseLength: 4, promptIndex }, { temperature: 1.1 });
    // The same sequences with every prompt copied once per sequence (no promptIndex): no sharing at all.
    const perSequence = prompts(3, 8);
    const patches = new Float32Array(9 * SHAPE.patchCount * SHAPE.patchDim);
    const questions = new Int32Array(9 * batch.questionLength);
    promptIndex.forEach((p, s) => {
      patches.set(perSequence.patches.subarray(p * SHAPE.patchCount * SHAPE.patchDim, (p + 1) * SHAPE.patchCount * SHAPE.patchDim), s * SHAPE.patchCount * SHAPE.patchDim);
      questions.set(perSequence.questions.subarray(p * batch.questionLength, (p + 1) * batch.questionLength), s * batch.questionLength);
    });
    const single = policy.logProbs({ patches, questions, questionLength: batch.questionLength, responses, responseLength: 4 }, { temperature: 1.1 });
    assert.ok(worstDifference(grouped.tokenLogprobs, single.tokenLogprobs) < 1e-5);
    assert.ok(worstDifference(grouped.entropies, single.entropies) < 1e-5);
    assert.ok(grouped.tokenLogprobs.every((lp) => lp < 0));
  });

  it('a token depends on the image, the question and earlier tokens only (no peeking at later tokens)', () => {
    const batch = prompts(2, 9);
    const responses = Int32Array.from([3, 4, 5, 1, 3, 4, 5, 1]);
    const base = policy.logProbs({ ...batch, responses, responseLength: 4 }).tokenLogprobs;
    const later = responses.slice();
    later[2] = 7; // changes step 2's target and step 3's input only
    const changed = policy.logProbs({ ...batch, responses: later, responseLength: 4 }).tokenLogprobs;
    assert.ok(worstDifference(changed.subarray(0, 2), base.subarray(0, 2)) < 1e-7, 'earlier steps do not see the change');
    assert.notEqual(changed[3], base[3]);
    const otherImage = prompts(2, 10);
    const moved = policy.logProbs({ ...batch, patches: otherImage.patches, responses, responseLength: 4 }).tokenLogprobs;
    assert.notEqual(moved[0], base[0]);
  });

  it('supervised steps fit gold responses and a policy-gradient step raises the log-prob of advantaged sequences', async () => {
    const learner = GeneralPolicy.create(resolveGeneralConfig(SHAPE, { seed: 4, config: TINY }));
    try {
      const gold = syntheticGoldBatch(prompts(16, 3));
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) losses.push(learner.supervisedStep(gold, { learningRate: 3e-3, maxGradNorm: 1 }).loss);
      assert.ok(losses[29] < 0.6 * losses[0], `loss ${losses[0]} -> ${losses[29]}`);

      const batch = prompts(4, 11);
      const promptIndex = repeatPrompts(4, 4);
      const rng = new Rng(6);
      const rollout = await learner.sample(batch, { random: () => rng.next(), promptIndex });
      const advantages = Float64Array.from({ length: 16 }, (_, s) => (s % 2 === 0 ? 1 : -1));
      const rolloutBatch = { ...batch, responses: rollout.responses, responseLength: rollout.responseLength, promptIndex };
      const metrics = learner.trainStep(rolloutBatch, advantages, rollout.tokenLogprobs, rollout.tokenLogprobs, { ...GRPO_TRAIN_DEFAULTS, learningRate: 1e-3 });
      assert.ok(Number.isFinite(metrics.loss) && metrics.grad_norm > 0);
      assert.ok(Math.abs(metrics.kl_loss) < 1e-6, 'KL to the rollout policy is 0 before the step');
      const after = learner.logProbs(rolloutBatch).tokenLogprobs;
      const change = (s: number) => {
        let sum = 0;
        for (let t = 0; t < rollout.lengths[s]; t++) sum += after[s * rollout.responseLength + t] - rollout.tokenLogprobs[s * rollout.responseLength + t];
        return sum;
      };
      let up = 0;
      let down = 0;
      for (let s = 0; s < 16; s++) {
        if (s % 2 === 0) up += change(s);
        else down += change(s);
      }
      assert.ok(up > 0 && down < 0, `advantaged sequences +${up}, disadvantaged ${down}`);
    } finally {
      await learner.dispose();
    }
  });
});

describe('general policy: weights, optimiser state and config', () => {
  it('a seed fixes the initial weights; the factory restores given weights', async () => {
    const a = GeneralPolicy.create(resolveGeneralConfig(SHAPE, { seed: 9, config: TINY }));
    const b = GeneralPolicy.create(resolveGeneralConfig(SHAPE, { seed: 9, config: TINY }));
    const c = await GENERAL_POLICY.create(SHAPE, { seed: 10, config: TINY, weights: a.getWeights() });
    try {
      assert.deepEqual(a.getWeights(), b.getWeights());
      assert.deepEqual(c.getWeights(), a.getWeights());
      const d = GeneralPolicy.create(resolveGeneralConfig(SHAPE, { seed: 10, config: TINY }));
      assert.notDeepEqual(d.getWeights()['layer0.self.q.kernel'], a.getWeights()['layer0.self.q.kernel']);
      await d.dispose();
      const weights = a.getWeights();
      assert.ok(weights['layer1.mlp.norm.scale'].every((v) => v === 1) && weights['output.bias'].every((v) => v === 0));
    } finally {
      await Promise.all([a.dispose(), b.dispose(), c.dispose()]);
    }
  });

  it('describes itself (its config rebuilds it); the default size follows the architecture text', async () => {
    const description = policy.describe();
    const rebuilt = await GENERAL_POLICY.create(SHAPE, { seed: 21, config: description.config });
    assert.deepEqual(rebuilt.getWeights(), policy.getWeights());
    await rebuilt.dispose();
    assert.equal(description.kind, 'general');
    assert.deepEqual(description.config, { ...SHAPE, ...TINY });
    assert.equal(description.parameters, Object.values(policy.getWeights()).reduce((n, w) => n + w.length, 0));
    // d = 64, 3 layers, the built-in suite's shape: counted by hand from the architecture's weight list
    // (per layer: self and cross blocks of a norm and q, k, v, o; the MLP's norm, up and down).
    const builtIn: PolicyShape = { questionVocabSize: 21, responseVocabSize: 26, eosToken: 2, maxQuestionLength: 12, maxResponseLength: 8, patchCount: 64, patchDim: 32 };
    const d = 64;
    const perLayer = 2 * (2 * d + 4 * (d * d + d)) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
    const expected = 2 * 32 + 32 * d + d + 64 * d + 21 * d + 26 * d + 20 * d + 3 * perLayer + 2 * d + d * 25 + 25;
    assert.equal(generalParameterCount(resolveGeneralConfig(builtIn, { seed: 0 })), expected);
  });

  it('refuses bad weights, unknown config keys and a width the heads do not divide, with one clear line', async () => {
    const weights = policy.getWeights();
    assert.throws(() => policy.setWeights({ ...weights, 'output.bias': new Float32Array(3) }), /'output\.bias' has 3 values, expected 11/);
    assert.throws(() => policy.setWeights({ ...weights, extra: new Float32Array(1) }), /unknown weight\(s\) extra/);
    const { 'final.norm.bias': _dropped, ...missing } = weights;
    assert.throws(() => policy.setWeights(missing), /'final\.norm\.bias' is missing/);
    assert.deepEqual(policy.getWeights(), weights, 'a refused setWeights changes nothing');
    await assert.rejects(GENERAL_POLICY.create(SHAPE, { seed: 1, config: { dd: 32 } }), /unknown key\(s\) dd; allowed: d, heads, layers/);
    await assert.rejects(GENERAL_POLICY.create(SHAPE, { seed: 1, config: { d: 30, heads: 4 } }), /d 30 must be a multiple of heads 4/);
    await assert.rejects(GENERAL_POLICY.create(SHAPE, { seed: 1, config: { ...policy.describe().config, patchCount: 64 } }), /patchCount 64 does not match the tasks' 16/);
  });

  it('optimiser state round-trips (a restored Adam takes the same next step)', () => {
    const gold = syntheticGoldBatch(prompts(8, 12));
    const step = { learningRate: 1e-3, maxGradNorm: 1 };
    const a = GeneralPolicy.create(resolveGeneralConfig(SHAPE, { seed: 2, config: TINY }));
    const b = GeneralPolicy.create(resolveGeneralConfig(SHAPE, { seed: 3, config: TINY }));
    try {
      assert.equal(a.getOptimizerState().step[0], 0);
      a.supervisedStep(gold, step);
      b.setWeights(a.getWeights());
      b.setOptimizerState(a.getOptimizerState());
      a.supervisedStep(gold, step);
      b.supervisedStep(gold, step);
      assert.deepEqual(b.getWeights(), a.getWeights());
      assert.equal(b.getOptimizerState().step[0], 2);
      assert.throws(() => b.setOptimizerState({}), /'step' must hold one number/);
    } finally {
      void a.dispose();
      void b.dispose();
    }
  });
});

describe('general policy: initial weights', () => {
  const std = (values: Float32Array) => {
    let sum = 0;
    let squares = 0;
    for (const v of values) {
      sum += v;
      squares += v * v;
    }
    const mean = sum / values.length;
    return Math.sqrt(squares / values.length - mean * mean);
  };

  it('draws kernels at fan-in scale (1 / sqrt of the input size) and embeddings at 0.02, as the PyTorch twin', async () => {
    const config = { d: 64, heads: 4, layers: 3 };
    const shape: PolicyShape = { ...SHAPE, questionVocabSize: 40, responseVocabSize: 30, patchDim: 32 };
    const large = await GENERAL_POLICY.create(shape, { seed: 3, config });
    try {
      const weights = large.getWeights();
      // Every kernel, the residual projections (o, mlp.down) included: GPT-2's 0.02 left attention uniform at d 64.
      for (const [name, fanIn] of [['layer0.self.q.kernel', 64], ['layer1.cross.o.kernel', 64], ['layer2.mlp.down.kernel', 256], ['patch.proj.kernel', 32], ['output.kernel', 64]] as const) {
        assert.ok(Math.abs(std(weights[name]) / (1 / Math.sqrt(fanIn)) - 1) < 0.1, `${name}: std ${std(weights[name])}, expected ${1 / Math.sqrt(fanIn)}`);
      }
      for (const name of ['question.embedding', 'response.embedding', 'text.position', 'patch.position']) {
        assert.ok(Math.abs(std(weights[name]) - 0.02) < 0.003, `${name}: std ${std(weights[name])}`);
      }
      assert.ok(weights['layer0.mlp.up.bias'].every((v) => v === 0));
      assert.ok(weights['final.norm.scale'].every((v) => v === 1));
    } finally {
      await large.dispose();
    }
  });
});
