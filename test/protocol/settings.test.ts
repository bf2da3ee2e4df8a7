/** The one table of settings: package.json, the live ranges and src/core's estimator schemas agree with it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESTIMATORS, ESTIMATOR_NAMES, type OptionSpec } from '../../src/core/index.js';
import { LIVE_CONFIG_KEYS, LIVE_RANGES, MAX_GROUPS, SETTINGS, settingNamed, vscodeConfiguration } from '../../src/protocol/index.js';

const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: unknown };
};

describe('the settings table', () => {
  it("is package.json's contributes.configuration (run `node --import tsx scripts/settings-manifest.ts` after changing it)", () => {
    assert.deepEqual(manifest.contributes.configuration, vscodeConfiguration());
  });

  it('lists every option of every estimator in src/core, with the same spec wherever several estimators take it', () => {
    for (const name of ESTIMATOR_NAMES) {
      for (const [option, spec] of Object.entries(ESTIMATORS[name].options as Record<string, OptionSpec<unknown>>)) {
        const setting = settingNamed(option);
        assert.ok(setting, `${name}.${option} is in the table`);
        assert.equal(setting.feeds, 'estimatorOptions', option);
        assert.ok(setting.estimators?.includes(name), `${option} lists ${name}`);
        assert.deepEqual(spec.default, setting.option.default, `${name}.${option} default`);
        assert.deepEqual(spec.shape, setting.option.shape, `${name}.${option} range`);
      }
    }
    for (const setting of SETTINGS.filter((s) => s.feeds === 'estimatorOptions' && s.name !== 'band')) {
      for (const name of setting.estimators ?? []) assert.ok(setting.name in ESTIMATORS[name].options, `${name} takes ${setting.name}`);
    }
  });

  it('bounds every number on both sides, and the live ranges are the table ranges', () => {
    for (const setting of SETTINGS) {
      const shape = setting.option.shape;
      assert.ok(shape, `${setting.name} declares its values`);
      if (shape.kind === 'number' || shape.kind === 'tuple' || shape.kind === 'interval') {
        assert.equal(typeof shape.range.min, 'number', `${setting.name} min`);
        assert.equal(typeof shape.range.max, 'number', `${setting.name} max`);
      }
    }
    const liveKeys = SETTINGS.flatMap((s) => (s.live ? [s.live] : []));
    assert.deepEqual([...liveKeys].sort(), [...LIVE_CONFIG_KEYS].sort());
    for (const [key, range] of Object.entries(LIVE_RANGES)) {
      const setting = settingNamed(key === 'durianWeight' ? 'weights' : key);
      assert.ok(setting?.live, `${key} is a live setting`);
      assert.deepEqual(range, (setting.option.shape as { range: unknown }).range, key);
    }
    assert.ok(LIVE_RANGES.batchSize.max <= MAX_GROUPS, 'a groups event can carry a full batch');
  });

  it('gives one VS Code key per setting and one setting per key', () => {
    const keys = SETTINGS.flatMap((s) => (s.vscode ? [s.vscode.key] : []));
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(new Set(SETTINGS.map((s) => s.name)).size, SETTINGS.length);
  });
});
