import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { PolicyModel, repeatPrompts } from '../../../src/trainer/policy/index.js';
import { SYNTHETIC_POLICY_CONFIG, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { batchTensors, disposeBatchTensors, tokenStatistics } from '../../../src/trainer/policy/tensors.js';
import { Rng } from '../../../src/trainer/rng.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

/** Random responses [B, Lr] with EOS-terminated lengths (so some rows are padded). */
function randomResponses(rng: Rng, sequences: number, length: number): Int32Array {
  const out = new Int32Array(sequences * length);
  for (let s = 0; s < sequences; s++) {
    const n = 1 + rng.int(length);
    for (let t = 0; t < n; t++) out[s * length + t] = t === n - 1 && n < length ? 1 : 2 + rng.int(10);
  }
  return out;
}

describe('fused decoder (hand-written GRU gradient)', () => {
  it('log-probs, entropies and every parameter gradient match tfjs autodiff of the reference formulation', () => {
    const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, hiddenSize: 24, seed: 9 });
    // Move off the initialisation so every gate is exercised (non-zero biases, larger recurrent weights).
    const rng = new Rng(31);
    const weights = model.getWeights();
    for (const values of Object.values(weights)) for (let i = 0; i < values.length; i++) values[i] += 0.3 * rng.normal();
    model.setWeights(weights);
    const prompts = syntheticPrompts(5, 3);
    const promptIndex = repeatPrompts(5, 3);
    const length = 5;
    const batch = { ...prompts, responses: randomResponses(rng, promptIndex.length, length), responseLength: length, promptIndex };
    const tensors = batchTensors(batch, model.config);
    const tokenWeights = tf.tensor2d(Float32Array.from({ length: promptIndex.length * length }, () => rng.normal()), [promptIndex.length, length]);
    const entropyWeights = tf.tensor2d(Float32Array.from({ length: promptIndex.length * length }, () => rng.normal()), [promptIndex.length, length]);
    try {
      const run = (decoder: 'fused' | 'reference') => {
        let logprobs: Float32Array = new Float32Array();
        let entropies: Float32Array = new Float32Array();
        const { value, grads } = tf.variableGrads(() => {
          const stats = tokenStatistics(model.tensors, model.config, tensors, 0.8, decoder);
          logprobs = stats.tokenLogprobs.dataSync() as Float32Array;
          entropies = stats.entropies.dataSync() as Float32Array;
          return tf.add(tf.sum(tf.mul(stats.tokenLogprobs, tokenWeights)), tf.sum(tf.mul(stats.entropies, entropyWeights))) as tf.Scalar;
        });
        const byName = Object.fromEntries(
          Object.entries(model.parameters.variables).map(([name, variable]) => [name, grads[variable.name].dataSync() as Float32Array]),
        );
        const loss = value.dataSync()[0];
        tf.dispose([value, ...Object.values(grads)]);
        return { loss, logprobs, entropies, grads: byName };
      };
      const fused = run('fused');
      const reference = run('reference');
      assert.ok(Math.abs(fused.loss - reference.loss) < 1e-4 * Math.max(1, Math.abs(reference.loss)), `loss ${fused.loss} vs ${reference.loss}`);
      for (let i = 0; i < fused.logprobs.length; i++) {
        assert.ok(Math.abs(fused.logprobs[i] - reference.logprobs[i]) < 1e-5, `log-prob ${i}`);
        assert.ok(Math.abs(fused.entropies[i] - reference.entropies[i]) < 1e-5, `entropy ${i}`);
      }
      assert.equal(Object.keys(fused.grads).length, 19);
      for (const [name, expected] of Object.entries(reference.grads)) {
        const actual = fused.grads[name];
        assert.equal(actual.length, expected.length, name);
        let scale = 0;
        let worst = 0;
        for (let i = 0; i < expected.length; i++) {
          scale = Math.max(scale, Math.abs(expected[i]));
          worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        }
        assert.ok(scale > 0, `${name}: the case gives it a gradient`);
        assert.ok(worst <= 1e-4 * scale, `${name}: gradients differ by ${worst} (max |grad| ${scale})`);
      }
    } finally {
      tf.dispose([tokenWeights, entropyWeights]);
      disposeBatchTensors(tensors);
      model.dispose();
    }
  });
});
