/**
 * The default session's batch regime (issue 14, item 4): a rollout batch of at least 128 prompts x G = 8,
 * updated in mini-batches, so that Durian's perceptual buckets hold at least 32 prompts and its reasoning
 * bins at least 8 at the default b = 12. The buckets and bins are the estimator's own assignment on a full
 * default batch, through the trainer's difficulty and advantages phases.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrainConfig } from '../../../src/trainer/config.js';
import { ControlState } from '../../../src/trainer/controlState.js';
import { type Rewards, type Rollouts, advantages, difficulty } from '../../../src/trainer/loop/phases.js';
import type { SampleResult } from '../../../src/trainer/policy/policy.js';
import { Rng } from '../../../src/trainer/rng.js';
import type { SourceTask } from '../../../src/trainer/taskSource.js';

interface DurianPromptRow {
  perceptualBucket: string;
  reasoningBin: number;
}

/** A full batch of the default session: B prompts x G rollouts, rewards, visual entropies and confidences drawn at random. */
function defaultBatch(B: number, G: number, seed: number): { rollouts: Rollouts; rewards: Rewards } {
  const rng = new Rng(seed);
  const tasks = Array.from({ length: B }, (_, p) => ({ id: `train-${p}`, question: '', answer: '', features: new Float32Array(0), visualEntropy: 1 + rng.next(), levels: {} }) satisfies SourceTask);
  const n = B * G;
  const promptIndex = Int32Array.from({ length: n }, (_, s) => Math.floor(s / G));
  const sample = { lengths: new Int32Array(n).fill(4), sequenceLogprobs: Float64Array.from({ length: n }, () => -2 * rng.next()) } as Pick<SampleResult, 'lengths' | 'sequenceLogprobs'> as SampleResult;
  const accuracy = Array.from({ length: n }, () => (rng.chance(0.4) ? 1 : 0));
  const rewards: Rewards = { ids: Array.from(promptIndex, (p) => tasks[p].id), texts: [], scores: accuracy.map((a) => 0.1 + 0.9 * a), accuracy, format: new Array(n).fill(1), relabeled: new Array(n).fill(false) };
  return { rollouts: { tasks, G, inputs: { patches: new Float32Array(0), questions: new Int32Array(0), questionLength: 1 }, promptIndex, sample }, rewards };
}

describe('the default batch regime', () => {
  const config = parseTrainConfig({});

  it('is at least 128 prompts x G 8, updated in mini-batches of fewer prompts than the batch', () => {
    assert.ok(config.batchSize >= 128, `batchSize ${config.batchSize}`);
    assert.equal(config.groupSize, 8);
    assert.ok(config.miniBatchSize > 0 && config.miniBatchSize < config.batchSize, `miniBatchSize ${config.miniBatchSize} splits the batch`);
    assert.equal(config.estimator, 'durian');
    assert.equal(config.estimatorOptions.reasoningBins, 12);
  });

  it('fills every perceptual bucket with >= 32 prompts and each of the 12 reasoning bins with >= 8', () => {
    const controls = new ControlState(config);
    for (const seed of [1, 2, 3]) {
      const { rollouts, rewards } = defaultBatch(config.batchSize, config.groupSize, seed);
      const { durian } = advantages(difficulty(rollouts, rewards, controls), controls);
      const explanation = durian.explanation as { reasoningBins: number; prompts: DurianPromptRow[] };
      assert.equal(explanation.reasoningBins, 12, 'b = 12 is used, not capped');
      const count = <K>(key: (row: DurianPromptRow) => K) => explanation.prompts.reduce((counts, row) => counts.set(key(row), (counts.get(key(row)) ?? 0) + 1), new Map<K, number>());
      const buckets = count((row) => row.perceptualBucket);
      assert.deepEqual([...buckets.keys()].sort(), ['high', 'low', 'mid']);
      for (const [bucket, prompts] of buckets) assert.ok(prompts >= 32, `seed ${seed}: perceptual bucket ${bucket} holds ${prompts} prompts`);
      const bins = count((row) => row.reasoningBin);
      assert.equal(bins.size, 12);
      for (const [bin, prompts] of bins) assert.ok(prompts >= 8, `seed ${seed}: reasoning bin ${bin} holds ${prompts} prompts`);
    }
  });
});
