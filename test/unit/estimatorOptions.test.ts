/**
 * A new estimator option through the one settings table (src/protocol/settings.ts): Durian's
 * `maxPromptsPerBin` (src/core/estimators/durian.ts) changes the reasoning bins and so the advantages, reaches
 * the estimator from a training config by the table's routing (estimatorOptionsOf, as the trainer and the
 * Rollout Groups preview call it), is checked with the table's range, and appears in package.json and
 * schemas/config.schema.json as generated from the table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type DurianPrompt, computeAdvantages, effectiveReasoningBins } from '../../src/core/index.js';
import { estimatorOptionsOf, fixedEstimatorOptionsOf, parseSessionSettings, settingNamed } from '../../src/protocol/index.js';
import { liveConfig } from '../support/liveConfig.js';

const root = path.resolve(__dirname, '../..');

/** 12 prompts of 4 rollouts, each with its own confidence (mean log-prob) and rewards. */
function batch() {
  const index: string[] = [];
  const scores: number[] = [];
  const lengths: number[] = [];
  const visualEntropy: number[] = [];
  const logprob: number[] = [];
  for (let p = 0; p < 12; p++) {
    for (let i = 0; i < 4; i++) {
      index.push(`p-${p}`);
      scores.push((p * 7 + i * 3) % 5 < 2 ? 1 : 0);
      lengths.push(4);
      visualEntropy.push(1 + (p % 4) * 0.5);
      logprob.push(-0.1 * (p + 1) - 0.01 * i);
    }
  }
  return { index, scores, lengths, visualEntropy, logprob };
}

const LIVE = liveConfig({ reasoningBins: 2, groupSize: 4, batchSize: 12 });

describe('maxPromptsPerBin: an estimator option added through the settings table', () => {
  it('raises the reasoning bins so none holds more prompts than the cap; minPromptsPerBin still wins', () => {
    assert.equal(effectiveReasoningBins(64, 4, 2), 4, 'no cap: b as asked');
    assert.equal(effectiveReasoningBins(64, 4, 2, 0), 4, '0: no cap');
    assert.equal(effectiveReasoningBins(64, 4, 2, 8), 8, '64 prompts, at most 8 per bin: 8 bins');
    assert.equal(effectiveReasoningBins(64, 12, 2, 8), 12, 'b already fine enough');
    assert.equal(effectiveReasoningBins(10, 2, 4, 1), 2, 'the floor of 4 per bin caps the 10 bins the cap wants');
  });

  it('changes Durian\'s reasoning bins and advantages, reached from a config by the table\'s routing', () => {
    const fixed = fixedEstimatorOptionsOf({ maxPromptsPerBin: 3, band: [0, 1] });
    assert.deepEqual(fixed, { maxPromptsPerBin: 3, band: [0, 1] });
    const withCap = estimatorOptionsOf('durian', LIVE, fixed);
    assert.equal(withCap.maxPromptsPerBin, 3);
    assert.equal(estimatorOptionsOf('grpo', LIVE, fixed).maxPromptsPerBin, undefined, 'only the estimators the table names take it');
    const capped = computeAdvantages('durian', batch(), withCap);
    const plain = computeAdvantages('durian', batch(), estimatorOptionsOf('durian', LIVE, {}));
    assert.equal(plain.explanation.reasoningBins, 2);
    assert.equal(capped.explanation.reasoningBins, 4, '12 prompts, at most 3 per bin');
    const perBin = new Map<number, number>();
    for (const prompt of capped.explanation.prompts as DurianPrompt[]) perBin.set(prompt.reasoningBin, (perBin.get(prompt.reasoningBin) ?? 0) + 1);
    assert.ok([...perBin.values()].every((n) => n <= 3), `prompts per bin: ${[...perBin.values()].join(', ')}`);
    assert.ok(Array.from(capped.advantages).some((a, s) => Math.abs(a - plain.advantages[s]) > 1e-9), 'finer bins change the reasoning term');
  });

  it('is checked with the table\'s range in a training config, and named there', () => {
    assert.equal(parseSessionSettings({ estimatorOptions: { maxPromptsPerBin: 4 } }).estimatorOptions.maxPromptsPerBin, 4);
    assert.equal(parseSessionSettings({}).estimatorOptions.maxPromptsPerBin, 0, 'default: no cap');
    assert.throws(() => parseSessionSettings({ estimatorOptions: { maxPromptsPerBin: 2.5 } }), /estimatorOptions\.maxPromptsPerBin/);
    assert.throws(() => parseSessionSettings({ estimatorOptions: { maxPromptsPerBin: 5000 } }), /estimatorOptions\.maxPromptsPerBin/);
    assert.deepEqual(fixedEstimatorOptionsOf({ maxPromptsPerBin: -1 }), {}, 'a bad value in a run folder\'s config is left out (the default holds)');
  });

  it('appears in package.json and schemas/config.schema.json exactly as the table defines it (generated)', () => {
    const setting = settingNamed('maxPromptsPerBin');
    assert.ok(setting?.vscode);
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: unknown; maximum: number }> } } };
    const contributed = manifest.contributes.configuration.properties[setting.vscode.key];
    assert.equal(contributed.default, 0);
    assert.equal(contributed.maximum, 1024);
    const schema = JSON.parse(readFileSync(path.join(root, 'schemas', 'config.schema.json'), 'utf8')) as { properties: { estimatorOptions: { properties: Record<string, { minimum: number; maximum: number; type: string }> } } };
    assert.deepEqual(schema.properties.estimatorOptions.properties.maxPromptsPerBin, { type: 'integer', minimum: 0, maximum: 1024, description: setting.option.description });
  });
});
