import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKEND_CHOICES, CONFIG_SETTINGS, SETTINGS, liveConfigOfRunConfig } from '../../src/protocol/index.js';
import { STUDY_HELP } from '../../src/cli/study/settings.js';
import { TRAIN_HELP, parseTrainInvocation } from '../../src/trainer/args.js';
import { parseTrainConfig, trainConfigNotes } from '../../src/trainer/config.js';

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

  it('has exactly the fields of the settings table', () => {
    const fields = Object.keys(parseTrainConfig({})).sort();
    assert.deepEqual(fields, [...CONFIG_SETTINGS.map((s) => s.name), 'estimatorOptions'].sort());
  });

  it('caps reasoning bins a step cannot fill (as the setting says) and says so', () => {
    const config = parseTrainConfig({ batchSize: 16, estimatorOptions: { reasoningBins: 12 } });
    assert.equal(config.estimatorOptions.reasoningBins, 12, 'the config keeps what was asked');
    assert.deepEqual(trainConfigNotes(config), [
      'durian uses 8 reasoning bins, not the 12 of estimatorOptions.reasoningBins: 16 prompts per step fill at most 8 bins of minPromptsPerBin 2',
    ]);
    assert.deepEqual(trainConfigNotes(parseTrainConfig({ estimatorOptions: { reasoningBins: 8 } })), []);
    assert.deepEqual(trainConfigNotes(parseTrainConfig({ estimator: 'grpo' })), []);
  });

  it('says when a mini-batch is larger than the batch (the update then takes the whole batch)', () => {
    assert.deepEqual(trainConfigNotes(parseTrainConfig({ estimator: 'grpo', batchSize: 8, miniBatchSize: 16 })), [
      'miniBatchSize 16 is more than the 8 prompts per step: each PPO epoch updates on the whole batch in one optimiser step',
    ]);
    assert.deepEqual(trainConfigNotes(parseTrainConfig({ estimator: 'grpo', batchSize: 16, miniBatchSize: 16 })), []);
    assert.deepEqual(trainConfigNotes(parseTrainConfig({ estimator: 'grpo', batchSize: 8, miniBatchSize: 0 })), []);
  });

  it('every live setting at either end of its range starts a run whose live configuration the protocol accepts', () => {
    for (const end of ['min', 'max'] as const) {
      const raw: Record<string, unknown> = { estimatorOptions: {} };
      for (const setting of SETTINGS) {
        const shape = setting.option.shape;
        if (!setting.live || (shape?.kind !== 'number' && shape?.kind !== 'tuple')) continue;
        const { min = 0, max = 0, exclusiveMin } = shape.range;
        const value = end === 'max' ? max : exclusiveMin ? min + 1e-9 : min;
        const target = setting.feeds === 'config' ? raw : (raw.estimatorOptions as Record<string, unknown>);
        target[setting.name] = shape.kind === 'tuple' ? shape.names.map(() => value) : value;
      }
      // A step must fill one reasoning bin: the smallest batch goes with the smallest bin.
      if (end === 'max') (raw.estimatorOptions as Record<string, unknown>).minPromptsPerBin = raw.batchSize;
      const config = parseTrainConfig(raw);
      assert.ok(liveConfigOfRunConfig(config as unknown as Record<string, unknown>, [0.1, 0.2, 0.7]), `${end}: the live configuration is valid`);
    }
  });

  const invalid: [string, unknown, RegExp][] = [
    ['negative lr', { lr: -1 }, /^config\.lr: must be > 0 and <= 1, got -1$/],
    ['G < 2', { estimator: 'grpo', groupSize: 1 }, /^config\.groupSize: must be >= 2 and <= 64, got 1$/],
    ['weights not numbers', { estimatorOptions: { weights: ['a', 0.2, 0.7] } }, /^config\.estimatorOptions\.weights\[0\]: \(a_ori\) must be a finite number, got "a"$/],
    ['a weight of 1e308', { estimatorOptions: { weights: [1e308, 0.2, 0.7] } }, /^config\.estimatorOptions\.weights\[0\]: \(a_ori\) must be >= 0 and <= 1000000, got 1e\+308$/],
    ['eps = 2', { estimatorOptions: { eps: 2 } }, /^config\.estimatorOptions\.eps: must be >= 0 and <= 1, got 2$/],
    ['minPromptsPerBin = 1e9', { estimatorOptions: { minPromptsPerBin: 1e9 } }, /^config\.estimatorOptions\.minPromptsPerBin: must be >= 1 and <= 1024, got 1000000000$/],
    ['reasoningBins = 1e6', { estimatorOptions: { reasoningBins: 1e6 } }, /^config\.estimatorOptions\.reasoningBins: must be >= 1 and <= 4096, got 1000000$/],
    ['a band outside [0, 1]', { estimator: 'grpo', estimatorOptions: { band: [0, 1e308] } }, /^config\.estimatorOptions\.band\[1\]: \(high\) must be >= 0 and <= 1, got 1e\+308$/],
    ['a batch smaller than one reasoning bin', { batchSize: 3, estimatorOptions: { minPromptsPerBin: 4 } }, /^config\.batchSize: must be >= estimatorOptions\.minPromptsPerBin \(4\) so that a reasoning bin can be filled, got 3$/],
    ['validationEvery = 1e12', { validationEvery: 1e12 }, /^config\.validationEvery: must be >= 1 and <= 1000000, got 1000000000000$/],
    ['an old backend name', { backend: 'tensorflow' }, /^config\.backend: must be one of "auto", "tfjs-node-gpu", "tfjs-node", "wasm", "cpu", got "tensorflow"$/],
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

describe('backend names', () => {
  /** The names after `--backend NAME` in a help text (`auto | tfjs-node-gpu | ...`). */
  const helpNames = (help: string) => (/--backend NAME\s+([a-z0-9| -]+?)(?:\s+\(|$)/m.exec(help)?.[1] ?? '').split('|').map((n) => n.trim());

  it('train --help, study --help and the config accept one and the same list', () => {
    assert.deepEqual(helpNames(TRAIN_HELP), [...BACKEND_CHOICES]);
    assert.deepEqual(helpNames(STUDY_HELP), [...BACKEND_CHOICES]);
    for (const name of BACKEND_CHOICES) assert.equal(parseTrainConfig({ backend: name }).backend, name);
  });

  it('--backend tfjs-node parses', () => {
    assert.equal(parseTrainInvocation(['--backend', 'tfjs-node']).config.backend, 'tfjs-node');
    assert.throws(() => parseTrainInvocation(['--backend', 'tensorflow']), /^DurianInputError: config\.backend: must be one of/);
  });
});
