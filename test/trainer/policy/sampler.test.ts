import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { PolicyModel, PolicySampler, repeatPrompts } from '../../../src/trainer/policy/index.js';
import { SYNTHETIC_EOS, SYNTHETIC_POLICY_CONFIG, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { Rng } from '../../../src/trainer/rng.js';
import { assertWellFormedSample } from './sampleChecks.js';

let model: PolicyModel;
let sampler: PolicySampler;

before(async () => {
  await selectBackend({ backend: 'wasm' });
  model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 21 });
  sampler = await PolicySampler.create(model.config);
});

after(async () => {
  await sampler.release();
  model.dispose();
});

describe('PolicySampler (onnxruntime)', () => {
  const prompts = syntheticPrompts(8, 5);
  const promptIndex = repeatPrompts(8, 4);

  it('log-probs and entropies equal the tfjs teacher-forced ones on the same tokens (PPO ratios need this)', async () => {
    for (const temperature of [1, 1.3, 0.6]) {
      const rng = new Rng(77);
      const rollout = await sampler.sample(model.getWeights(), prompts, { random: () => rng.next(), promptIndex, temperature });
      const scored = model.logProbs({ ...prompts, responses: rollout.responses, responseLength: rollout.responseLength, promptIndex }, { temperature });
      let worstLogprob = 0;
      let worstEntropy = 0;
      for (let i = 0; i < rollout.responses.length; i++) {
        worstLogprob = Math.max(worstLogprob, Math.abs(scored.tokenLogprobs[i] - rollout.tokenLogprobs[i]));
        worstEntropy = Math.max(worstEntropy, Math.abs(scored.entropies[i] - rollout.entropies[i]));
      }
      assert.ok(worstLogprob < 1e-4, `temperature ${temperature}: log-probs differ by ${worstLogprob}`);
      assert.ok(worstEntropy < 1e-4, `temperature ${temperature}: entropies differ by ${worstEntropy}`);
    }
  });

  it('is deterministic for a seeded random source and stops each sequence at EOS', async () => {
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return sampler.sample(model.getWeights(), prompts, { random: () => rng.next(), promptIndex, temperature: 2 });
    };
    const [a, b, c] = await Promise.all([run(1), run(1), run(2)]);
    assert.deepEqual(a.responses, b.responses);
    assert.deepEqual(a.tokenLogprobs, b.tokenLogprobs);
    assert.notDeepEqual(a.responses, c.responses);
    assert.equal(a.lengths.length, promptIndex.length);
    assertWellFormedSample(a, SYNTHETIC_EOS);
  });

  it('follows the current weights without rebuilding the session', async () => {
    const rng = new Rng(3);
    const weights = model.getWeights();
    // Make EOS overwhelmingly likely: every response is then the single token EOS with log-prob ~ 0.
    const bias = weights['output.bias'].slice();
    bias[SYNTHETIC_EOS - 1] = 50;
    const rollout = await sampler.sample({ ...weights, 'output.bias': bias }, prompts, { random: () => rng.next(), promptIndex });
    assert.ok(rollout.lengths.every((n) => n === 1));
    assert.ok(rollout.tokenLogprobs.every((lp, i) => (i % rollout.responseLength === 0 ? lp > -1e-6 : lp === 0)));
  });
});
