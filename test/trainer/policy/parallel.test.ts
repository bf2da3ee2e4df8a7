import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import type { PolicyBatch } from '../../../src/trainer/policy/batch.js';
import { GeneralPolicy, resolveGeneralConfig } from '../../../src/trainer/policy/general/index.js';
import { initialGeneralWeights } from '../../../src/trainer/policy/general/parameters.js';
import { disposeGeneralBatch, generalBatchTensors, generalTokenStatistics } from '../../../src/trainer/policy/general/tensors.js';
import type { PolicyArrays, PolicyShape } from '../../../src/trainer/policy/policy.js';
import { ModeChooser, PROBE_EVERY } from '../../../src/trainer/policy/parallel/modeChooser.js';
import { CONTROL } from '../../../src/trainer/policy/parallel/protocol.js';
import { SPLIT_MIN_SEQUENCES, shardRanges, sliceBatch } from '../../../src/trainer/policy/parallel/shards.js';
import { repeatPrompts } from '../../../src/trainer/policy/sampler.js';
import { policyGradientStep, supervisedCrossEntropyStep } from '../../../src/trainer/policy/steps.js';
import { SYNTHETIC_EOS, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { GRPO_TRAIN_DEFAULTS, type TrainStepConfig } from '../../../src/trainer/policy/update.js';
import { Rng } from '../../../src/trainer/rng.js';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SHAPE: PolicyShape = { questionVocabSize: 5, responseVocabSize: 12, eosToken: SYNTHETIC_EOS, maxQuestionLength: 5, maxResponseLength: 4, patchCount: 16, patchDim: 8 };
const TINY = { d: 32, heads: 4, layers: 2 };
const CONFIG = resolveGeneralConfig(SHAPE, { seed: 13, config: TINY });
const TRAIN: TrainStepConfig = { ...GRPO_TRAIN_DEFAULTS, learningRate: 3e-3 };
const PROMPTS = 24;
const GROUP = 4;

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

/** 24 prompts x 4 sequences (96 >= SPLIT_MIN_SEQUENCES: split in two), responses of mixed lengths, advantages. */
function rolloutBatch(): { batch: PolicyBatch; advantages: Float64Array; old: Float32Array } {
  const prompts = syntheticPrompts(PROMPTS, 3, 6, SHAPE.patchCount, SHAPE.patchDim);
  const rng = new Rng(8);
  const sequences = PROMPTS * GROUP;
  const lr = SHAPE.maxResponseLength;
  const responses = new Int32Array(sequences * lr);
  for (let s = 0; s < sequences; s++) {
    const length = 1 + rng.int(lr);
    for (let t = 0; t < length; t++) responses[s * lr + t] = t === length - 1 ? SYNTHETIC_EOS : 2 + rng.int(10);
  }
  const old = Float32Array.from({ length: sequences * lr }, (_, i) => (responses[i] > 0 ? -2 + 0.3 * rng.normal() : 0));
  const batch = { patches: prompts.patches, questions: prompts.questions, questionLength: prompts.questionLength, responses, responseLength: lr, promptIndex: repeatPrompts(PROMPTS, GROUP) };
  return { batch, advantages: Float64Array.from({ length: sequences }, () => rng.normal()), old };
}

function worst(a: PolicyArrays, b: PolicyArrays): number {
  let out = 0;
  for (const name of Object.keys(a)) for (let i = 0; i < a[name].length; i++) out = Math.max(out, Math.abs(a[name][i] - b[name][i]));
  return out;
}

/** Two PG steps (with KL) then one supervised step; the metrics of each and the final weights. */
function train(policy: GeneralPolicy): { metrics: Record<string, number>[]; weights: PolicyArrays } {
  const { batch, advantages, old } = rolloutBatch();
  const ref = old.map((v) => (v === 0 ? 0 : v - 0.1));
  const metrics: Record<string, number>[] = [];
  metrics.push({ ...policy.trainStep(batch, advantages, old, ref, TRAIN) });
  metrics.push({ ...policy.trainStep(batch, advantages, old, ref, { ...TRAIN, lossType: 'dapo', lossAggregation: 'token-mean', temperature: 1.3 }) });
  metrics.push({ ...policy.supervisedStep(batch, { learningRate: 3e-3, maxGradNorm: 1 }) });
  return { metrics, weights: policy.getWeights() };
}

describe('data-parallel gradients: shards', () => {
  it('splits a grouped batch at a prompt-group boundary into self-contained batches; small batches stay whole', () => {
    const { batch } = rolloutBatch();
    const ranges = shardRanges(batch.promptIndex, PROMPTS, PROMPTS * GROUP);
    assert.deepEqual(ranges, [{ from: 0, to: 48 }, { from: 48, to: 96 }]);
    const second = sliceBatch(batch, ranges[1]);
    assert.deepEqual(second.promptIndex, repeatPrompts(12, GROUP));
    assert.deepEqual(second.questions, batch.questions.subarray(12 * batch.questionLength));
    assert.deepEqual(second.responses, batch.responses.subarray(48 * batch.responseLength));
    assert.deepEqual(shardRanges(undefined, SPLIT_MIN_SEQUENCES - 1, SPLIT_MIN_SEQUENCES - 1), [{ from: 0, to: SPLIT_MIN_SEQUENCES - 1 }]);
    // Scattered prompts: split at the middle sequence, each shard keeps the prompts it uses.
    const scattered = Int32Array.from({ length: 70 }, (_, s) => (s * 7) % 5);
    assert.deepEqual(shardRanges(scattered, 5, 70), [{ from: 0, to: 35 }, { from: 35, to: 70 }]);
  });

  it('a shard scores its sequences as the whole batch does (1e-5)', () => {
    const { batch } = rolloutBatch();
    const policy = GeneralPolicy.create(CONFIG);
    try {
      const whole = policy.logProbs(batch).tokenLogprobs;
      const [first, second] = shardRanges(batch.promptIndex, PROMPTS, PROMPTS * GROUP);
      const lr = batch.responseLength;
      for (const range of [first, second]) {
        const part = policy.logProbs(sliceBatch(batch, range)).tokenLogprobs;
        const expected = whole.subarray(range.from * lr, range.to * lr);
        let gap = 0;
        for (let i = 0; i < part.length; i++) gap = Math.max(gap, Math.abs(part[i] - expected[i]));
        assert.ok(gap < 1e-5, `shard [${range.from}, ${range.to}) differs by ${gap}`);
      }
    } finally {
      void policy.dispose();
    }
  });
});

describe('data-parallel gradients: when to use the worker', () => {
  it('tries both modes, then takes the faster one per sequence, trying the other every PROBE_EVERY steps', () => {
    const chooser = new ModeChooser();
    assert.equal(chooser.choose(), 'worker');
    chooser.record('worker', 3000, 1024); // slower than local below (busy cores)
    assert.equal(chooser.choose(), 'local');
    chooser.record('local', 2600, 1024);
    const picks: string[] = [];
    for (let step = 3; step <= 2 * PROBE_EVERY; step++) {
      const mode = chooser.choose();
      picks.push(mode);
      chooser.record(mode, mode === 'local' ? 2600 : 3000, 1024);
    }
    assert.deepEqual(picks.map((mode, i) => (mode === 'worker' ? i + 3 : 0)).filter((step) => step > 0), [PROBE_EVERY, 2 * PROBE_EVERY], 'the slower mode only on probe steps');
    // The cores free up: the worker's probe is faster now, and it becomes the mode.
    chooser.record('worker', 1400, 1024);
    chooser.record('worker', 1400, 1024);
    assert.equal(chooser.choose(), 'worker');
    assert.ok(chooser.measured.worker < chooser.measured.local);
  });
});

describe('data-parallel gradients: the worker', () => {
  it('a step on two threads (worker used) equals the step on one, and the whole-batch step to 1e-5', async () => {
    const two = GeneralPolicy.create(CONFIG, undefined, { parallel: { worker: 'always' } });
    const one = GeneralPolicy.create(CONFIG, undefined, { parallel: { worker: 'never' } });
    try {
      assert.equal(await two.prepareTraining(), true, 'the worker starts');
      assert.equal(two.parallel.workerReady, true);
      const a = train(two);
      const b = train(one);
      assert.equal(two.parallel.threads, 2, 'the last step ran on two threads');
      assert.equal(one.parallel.threads, 1);
      assert.equal(two.parallel.workerShards, 3, 'the worker computed the second shard of each of the 3 steps');
      assert.equal(one.parallel.workerShards, 0);
      assert.deepEqual(a.metrics, b.metrics);
      assert.equal(worst(a.weights, b.weights), 0, 'the same shards, summed in the same order: the same update');

      // The shards' losses are normalised for the whole batch: the sum is the whole batch's gradient.
      const whole = GeneralPolicy.create(CONFIG);
      try {
        const { batch, advantages, old } = rolloutBatch();
        const ref = old.map((v) => (v === 0 ? 0 : v - 0.1));
        const tensors = generalBatchTensors(batch, CONFIG);
        const inputs = {
          sequences: tensors.sequences,
          responseLength: tensors.responseLength,
          mask: tensors.mask,
          maskValues: tensors.maskValues,
          statistics: (temperature: number) => generalTokenStatistics(whole.variables, CONFIG, tensors, temperature),
          optimizer: whole.optimizer,
          variables: Object.values(whole.variables),
        };
        const metrics = [
          { ...policyGradientStep(inputs, advantages, old, ref, TRAIN) },
          { ...policyGradientStep(inputs, advantages, old, ref, { ...TRAIN, lossType: 'dapo', lossAggregation: 'token-mean', temperature: 1.3 }) },
          { ...supervisedCrossEntropyStep(inputs, { learningRate: 3e-3, maxGradNorm: 1 }) },
        ];
        disposeGeneralBatch(tensors);
        for (let step = 0; step < 3; step++) {
          for (const [key, value] of Object.entries(metrics[step])) {
            assert.ok(Math.abs(value - a.metrics[step][key]) <= 1e-5 * Math.max(1, Math.abs(value)), `step ${step} ${key}: whole batch ${value}, shards ${a.metrics[step][key]}`);
          }
        }
        const gap = worst(whole.getWeights(), a.weights);
        assert.ok(gap < 1e-5, `weights differ from the whole-batch update by ${gap}`);
        assert.ok(worst(whole.getWeights(), initialGeneralWeights(CONFIG)) > 1e-4, 'the steps moved the weights');
      } finally {
        await whole.dispose();
      }
    } finally {
      await two.dispose();
      await one.dispose();
    }
  });

  it('falls back to one thread, with the same result, when the worker cannot start, dies at start-up or fails a job', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'durian-worker-'));
    const crashing = path.join(directory, 'crash.js');
    writeFileSync(crashing, 'throw new Error("no tfjs here");\n');
    // Starts, then fails every job as worker.ts does when a job throws.
    const failing = path.join(directory, 'fail.js');
    writeFileSync(failing, `const { parentPort, workerData } = require('node:worker_threads');
const control = new Int32Array(workerData.control);
parentPort.on('message', (job) => {
  parentPort.postMessage({ error: 'gradient worker job ' + job.id + ' failed: on purpose' });
  Atomics.store(control, ${CONTROL.succeeded}, 0);
  Atomics.store(control, ${CONTROL.finished}, job.id);
  Atomics.notify(control, ${CONTROL.finished});
});
Atomics.store(control, ${CONTROL.ready}, 1);
`);
    const reference = train(GeneralPolicy.create(CONFIG, undefined, { parallel: { worker: 'never' } }));
    try {
      for (const script of [path.join(directory, 'missing.js'), crashing, failing]) {
        const lines: string[] = [];
        const policy = GeneralPolicy.create(CONFIG, undefined, { parallel: { worker: 'always', script, log: (line) => lines.push(line) } });
        try {
          assert.equal(await policy.prepareTraining(), script === failing, 'only the failing worker starts');
          const result = train(policy);
          assert.equal(policy.parallel.workerShards, 0);
          assert.equal(policy.parallel.threads, 1);
          assert.deepEqual(result.metrics, reference.metrics);
          assert.equal(worst(result.weights, reference.weights), 0);
          assert.ok(lines.length >= 1 && lines.some((line) => /gradient worker/.test(line) && /one thread/.test(line)), `one clear line: ${lines.join(' | ')}`);
        } finally {
          await policy.dispose();
        }
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('the worker dies with its process (a process that never disposes its policy still exits)', () => {
    const code = `
      const { selectBackend } = require(${JSON.stringify(path.join(ROOT, 'src/trainer/backend/index.ts'))});
      const { GeneralPolicy, resolveGeneralConfig } = require(${JSON.stringify(path.join(ROOT, 'src/trainer/policy/general/index.ts'))});
      (async () => {
        await selectBackend({ backend: 'wasm' });
        const policy = GeneralPolicy.create(resolveGeneralConfig(${JSON.stringify(SHAPE)}, { seed: 1, config: ${JSON.stringify(TINY)} }));
        console.log('ready=' + (await policy.prepareTraining()) + ' worker=' + policy.parallel.workerReady);
      })();`;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, `exit ${child.status} ${child.signal ?? ''}: ${child.stderr}`);
    assert.match(child.stdout, /ready=true worker=true/);
    assert.ok(Date.now() - started < 60_000);
  });
});
