import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { PolicyModel, initialWeights, resolvePolicyConfig, repeatPrompts } from '../../../src/trainer/policy/index.js';
import { SYNTHETIC_POLICY_CONFIG, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

describe('PolicyModel', () => {
  it('a seed fixes the initial weights', () => {
    const a = initialWeights(resolvePolicyConfig({ ...SYNTHETIC_POLICY_CONFIG, seed: 3 }));
    const b = initialWeights(resolvePolicyConfig({ ...SYNTHETIC_POLICY_CONFIG, seed: 3 }));
    const c = initialWeights(resolvePolicyConfig({ ...SYNTHETIC_POLICY_CONFIG, seed: 4 }));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a['decoder.recurrent.kernel'], c['decoder.recurrent.kernel']);
  });

  it('getWeights/setWeights round-trip and reject a wrong shape', () => {
    const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 1 });
    const other = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 2 });
    other.setWeights(model.getWeights());
    assert.deepEqual(other.getWeights(), model.getWeights());
    const broken = { ...model.getWeights(), 'output.bias': new Float32Array(3) };
    assert.throws(() => other.setWeights(broken), /'output.bias' has 3 values, expected 11/);
    model.dispose();
    other.dispose();
  });

  it('logProbs: valid tokens get log-probs <= 0, padding gets 0, and promptIndex equals repeating the prompts', () => {
    const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 1 });
    const prompts = syntheticPrompts(3, 9);
    const responses = Int32Array.from([4, 1, 0, 0, 7, 5, 1, 0, 2, 3, 4, 1, 9, 1, 0, 0, 6, 6, 6, 6, 1, 0, 0, 0]);
    const promptIndex = repeatPrompts(3, 2);
    const viaIndex = model.logProbs({ ...prompts, responses, responseLength: 4, promptIndex }, { temperature: 0.7 });
    const repeatedPatches = new Float32Array(6 * 64 * 32);
    const repeatedQuestions = new Int32Array(6 * prompts.questionLength);
    promptIndex.forEach((p, s) => {
      repeatedPatches.set(prompts.patches.subarray(p * 2048, (p + 1) * 2048), s * 2048);
      repeatedQuestions.set(prompts.questions.subarray(p * 3, p * 3 + 3), s * 3);
    });
    const explicit = model.logProbs({ patches: repeatedPatches, questions: repeatedQuestions, questionLength: 3, responses, responseLength: 4 }, { temperature: 0.7 });
    for (let i = 0; i < responses.length; i++) {
      assert.ok(Math.abs(viaIndex.tokenLogprobs[i] - explicit.tokenLogprobs[i]) < 1e-5, `token ${i}`);
      if (responses[i] === 0) {
        assert.equal(viaIndex.tokenLogprobs[i], 0);
        assert.equal(viaIndex.entropies[i], 0);
      } else {
        assert.ok(viaIndex.tokenLogprobs[i] < 0);
        assert.ok(viaIndex.entropies[i] > 0 && viaIndex.entropies[i] <= Math.log(11) + 1e-5);
      }
    }
    model.dispose();
  });

  it('rejects ids outside the vocabularies and a missing promptIndex', () => {
    const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 1 });
    const prompts = syntheticPrompts(2, 1);
    assert.throws(() => model.logProbs({ ...prompts, responses: Int32Array.from([12, 1, 2, 1]), responseLength: 2 }), /responses\[0\] = 12 is outside 0..11/);
    assert.throws(() => model.logProbs({ ...prompts, responses: new Int32Array(8).fill(1), responseLength: 2 }), /needs a promptIndex/);
    model.dispose();
  });
});
