import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrainConfig } from '../../src/trainer/config.js';

describe('training config', () => {
  it('fills every default, and DAPO brings clip-higher and the band filter', () => {
    const config = parseTrainConfig({});
    assert.equal(config.estimator, 'durian');
    assert.equal(config.groupSize, 8);
    assert.deepEqual(config.estimatorOptions.weights, [0.1, 0.2, 0.7]);
    const dapo = parseTrainConfig({ algorithm: 'dapo' });
    assert.equal(dapo.clipHigh, 0.28);
    assert.deepEqual(dapo.estimatorOptions.band, [0.01, 0.99]);
    assert.equal(parseTrainConfig({ algorithm: 'dapo', clipHigh: 0.3 }).clipHigh, 0.3);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['negative lr', { lr: -1 }, /^config\.lr: must be > 0 and <= 1, got -1$/],
    ['G < 2 for a group estimator', { estimator: 'grpo', groupSize: 1 }, /^config\.groupSize: must be >= 2 for the group estimator grpo/],
    ['weights not numbers', { estimatorOptions: { weights: ['a', 0.2, 0.7] } }, /^config\.estimatorOptions\.weights\[0\]: \(a_ori\) must be a finite number, got "a"$/],
    ['b larger than the batch allows', { batchSize: 8, estimatorOptions: { reasoningBins: 12 } }, /^config\.estimatorOptions\.reasoningBins: 12 bins need at least 24 prompts .* batchSize is 8 \(allowed: 1\.\.4\)$/],
    ['unknown field', { learningRate: 0.1 }, /^config\.learningRate: is not an option of the training config/],
    ['unknown estimator', { estimator: 'ppo' }, /^config\.estimator: must be one of "grpo", "dr_grpo", "rloo", "batch_std", "durian", got "ppo"$/],
    ['option of another estimator', { estimator: 'grpo', estimatorOptions: { reasoningBins: 4 } }, /^config\.estimatorOptions\.reasoningBins: is not an option of estimator grpo/],
    ['fractional steps', { steps: 2.5 }, /^config\.steps: must be a whole number, got 2\.5$/],
    ['not an object', [1, 2], /^config: must be a JSON object, got an array of 2$/],
  ];
  for (const [name, raw, message] of invalid) {
    it(`rejects ${name} naming the field and the allowed range`, () => {
      assert.throws(() => parseTrainConfig(raw), (error: Error) => (assert.match(error.message, message), true));
    });
  }
});
