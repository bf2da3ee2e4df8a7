/**
 * The config the extension launches, built without VS Code from an inspector such as
 * `getConfiguration().inspect(key)`, compared with what the CLI runs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type InspectedSetting, launchConfigFromSettings, userValue, validateLaunchConfig } from '../../src/extension/launchConfig.js';
import { SETTINGS } from '../../src/protocol/index.js';
import { parseTrainInvocation } from '../../src/trainer/args.js';
import { parseTrainConfig } from '../../src/trainer/config.js';

const properties = (JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
}).contributes.configuration.properties;

/** A settings store as VS Code's inspect() sees it: package.json's defaults plus the user's values (global scope). */
function store(user: Record<string, unknown> = {}): (key: string) => (InspectedSetting & { defaultValue?: unknown }) | undefined {
  return (key) => {
    if (!(key in properties) && !(key in user)) return undefined;
    return { defaultValue: properties[key]?.default, ...(key in user ? { globalValue: user[key] } : {}) };
  };
}

const cliDefault = () => parseTrainInvocation([]).config;

describe('the config the extension launches', () => {
  it('from an empty settings store is the CLI default session (durian train, no flags)', () => {
    const launched = launchConfigFromSettings(store(), 'durian', true);
    assert.deepEqual(launched, { estimator: 'durian', estimatorOptions: {} });
    assert.deepEqual(parseTrainConfig(launched), cliDefault());
    assert.equal(validateLaunchConfig(launched), undefined);
  });

  it("package.json's defaults are the trainer's: launching every default explicitly is the same session", () => {
    const everyDefault: Record<string, unknown> = { estimatorOptions: {} };
    for (const [key, spec] of Object.entries(properties)) {
      if (key === 'durian.runsFolder') continue;
      // Where the value goes is the table's: a config field or an estimator option.
      const setting = SETTINGS.find((candidate) => candidate.vscode?.key === key);
      assert.ok(setting, `${key} is a setting of the table`);
      if (setting.feeds === 'estimatorOptions') (everyDefault.estimatorOptions as Record<string, unknown>)[setting.name] = spec.default;
      else everyDefault[setting.name] = spec.default;
    }
    assert.equal(validateLaunchConfig(everyDefault), undefined);
    assert.deepEqual(parseTrainConfig(everyDefault), cliDefault());
  });

  it('sends only what the user set, the most specific scope first', () => {
    const launched = launchConfigFromSettings(store({ 'durian.training.steps': 50, 'durian.training.lr': null, 'durian.durian.reasoningBins': 4, 'durian.eps': 0.01 }), 'durian', true);
    assert.deepEqual(launched, { estimator: 'durian', steps: 50, estimatorOptions: { reasoningBins: 4, eps: 0.01 } });
    const grpo = launchConfigFromSettings(store({ 'durian.durian.reasoningBins': 4, 'durian.eps': 0.01 }), 'grpo', true);
    assert.deepEqual(grpo, { estimator: 'grpo', estimatorOptions: { eps: 0.01 } }, "another estimator's options stay out");
    assert.equal(userValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
    assert.equal(userValue({ globalValue: 1, workspaceValue: 2, globalLanguageValue: 4 }), 4);
    assert.equal(userValue({ globalValue: 1, workspaceValue: null }), 1);
    assert.equal(userValue({}), undefined);
    const encoder = store({ 'durian.encoderPath': ' /models/enc.onnx ' });
    assert.equal(launchConfigFromSettings(encoder, 'durian', true).encoderPath, '/models/enc.onnx');
    assert.equal(launchConfigFromSettings(encoder, 'durian', false).encoderPath, undefined, 'not in an untrusted workspace');
  });

  it('applies reasoning bins above what a step can fill (capped, as the setting says) instead of refusing them', () => {
    const launched = launchConfigFromSettings(store({ 'durian.durian.reasoningBins': 16, 'durian.training.batchSize': 8 }), 'durian', true);
    assert.equal(validateLaunchConfig(launched), undefined);
    assert.equal(parseTrainConfig(launched).estimatorOptions.reasoningBins, 16);
  });

  const refused: [string, Record<string, unknown>, string, string, RegExp][] = [
    ['G = 1', { 'durian.training.groupSize': 1 }, 'grpo', 'durian.training.groupSize', /^durian\.training\.groupSize: must be >= 2 and <= 64, got 1$/],
    ['G = 1 with batch_std too', { 'durian.training.groupSize': 1 }, 'batch_std', 'durian.training.groupSize', /must be >= 2 and <= 64, got 1$/],
    ['fewer prompts per step than a reasoning bin needs', { 'durian.training.batchSize': 3, 'durian.durian.minPromptsPerBin': 4 }, 'durian', 'durian.training.batchSize', /^durian\.training\.batchSize: must be >= estimatorOptions\.minPromptsPerBin \(4\)/],
    ['a huge Durian weight', { 'durian.durian.weights': [1e308, 0.2, 0.7] }, 'durian', 'durian.durian.weights', /^durian\.durian\.weights\[0\]: \(a_ori\) must be >= 0 and <= 1000000, got 1e\+308$/],
    ['eps above 1', { 'durian.eps': 2 }, 'grpo', 'durian.eps', /^durian\.eps: must be >= 0 and <= 1, got 2$/],
    ['an unknown backend', { 'durian.backend': 'tensorflow' }, 'durian', 'durian.backend', /^durian\.backend: must be one of "auto", "tfjs-node-gpu", "tfjs-node", "wasm", "cpu", got "tensorflow"$/],
  ];
  for (const [name, user, estimator, setting, message] of refused) {
    it(`refuses ${name} before launch, naming the setting and the allowed range`, () => {
      const problem = validateLaunchConfig(launchConfigFromSettings(store(user), estimator, true));
      assert.equal(problem?.setting, setting);
      assert.match(problem.message, message);
    });
  }

  it('a problem in a config file field without a setting names the field', () => {
    assert.deepEqual(validateLaunchConfig({ keepCheckpoints: 0 }), { message: 'config.keepCheckpoints: must be >= 1 and <= 1000, got 0' });
  });
});
