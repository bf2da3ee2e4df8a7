// onnxruntime execution providers: the default choice (CUDA only when its libraries are beside the binding),
// DURIAN_ORT_PROVIDERS, and the fall-back to the CPU when a CUDA session cannot be created. Real onnxruntime
// throughout: on this machine the CUDA provider's libraries are absent, so a CUDA session fails for real.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DurianInputError } from '../../../src/core/errors.js';
import { selectBackend } from '../../../src/trainer/backend/index.js';
import { OnnxGraphBuilder } from '../../../src/trainer/onnx/builder.js';
import {
  ORT_PROVIDERS_ENV,
  chooseOrtProviders,
  createOrtSession,
  cudaProviderMissing,
  ortProvidersSummary,
  ortSessionOutcomes,
} from '../../../src/trainer/onnx/providers.js';
import { GENERAL_POLICY } from '../../../src/trainer/policy/general/index.js';
import { PolicyModel, PolicySampler, repeatPrompts } from '../../../src/trainer/policy/index.js';
import type { PolicyShape, SampleResult } from '../../../src/trainer/policy/policy.js';
import { SYNTHETIC_EOS, SYNTHETIC_POLICY_CONFIG, syntheticPrompts } from '../../../src/trainer/policy/synthetic.js';
import { Rng } from '../../../src/trainer/rng.js';
import { startTrainer, trainerSource, workFolder } from '../../reliability/runProcesses.js';

const root = path.resolve(__dirname, '..', '..', '..');
const bindingFolder = path.join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
const cudaLibraryHere = existsSync(path.join(bindingFolder, 'libonnxruntime_providers_cuda.so'));
/** The fall-back tests need a CUDA provider that fails; where it is installed (a GPU machine) they do not apply. */
const cudaInstalled = cudaProviderMissing() === undefined;

/** y = x W + b: a small real model. */
function tinyModel(): Uint8Array {
  const g = new OnnxGraphBuilder({ name: 'tiny' });
  const x = g.input('x', 'float32', ['batch', 4]);
  const w = g.initializer('w', Float32Array.from({ length: 12 }, (_, i) => (i - 5) / 7), [4, 3]);
  const b = g.initializer('b', Float32Array.from([0.5, -0.25, 1]), [3]);
  const [xw] = g.node('MatMul', [x, w]);
  const [y] = g.node('Add', [xw, b], { outputs: ['y'] });
  g.output(y, 'float32', ['batch', 3]);
  return g.toBytes();
}

async function run(session: ort.InferenceSession): Promise<Float32Array> {
  const x = new ort.Tensor('float32', Float32Array.from({ length: 8 }, (_, i) => i / 3 - 1), [2, 4]);
  return (await session.run({ x })).y.data as Float32Array;
}

/** Runs `body` with DURIAN_ORT_PROVIDERS set to `value`, restoring the variable afterwards. */
async function withProviders<T>(value: string, body: () => Promise<T>): Promise<T> {
  const before = process.env[ORT_PROVIDERS_ENV];
  process.env[ORT_PROVIDERS_ENV] = value;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[ORT_PROVIDERS_ENV];
    else process.env[ORT_PROVIDERS_ENV] = before;
  }
}

describe('choosing the onnxruntime providers', () => {
  it('defaults to CUDA then the CPU only when the CUDA provider library is beside the binding (here: the CPU)', () => {
    const choice = chooseOrtProviders({});
    assert.deepEqual(choice.providers, cudaLibraryHere ? ['cuda', 'cpu'] : ['cpu']);
    if (!cudaLibraryHere) assert.match(choice.reason, /^CUDA provider not installed: no libonnxruntime_providers_cuda\.so beside the binding in .*napi-v6/);
    // This onnxruntime-node is built with CUDA support on Linux x64; only the libraries are missing.
    if (process.platform === 'linux' && process.arch === 'x64') assert.ok(ort.listSupportedBackends().some((b) => b.name === 'cuda'));
  });

  it('DURIAN_ORT_PROVIDERS overrides, in any case and spacing; empty means unset', () => {
    assert.deepEqual(chooseOrtProviders({ [ORT_PROVIDERS_ENV]: 'cpu' }), { providers: ['cpu'], reason: 'DURIAN_ORT_PROVIDERS=cpu' });
    assert.deepEqual(chooseOrtProviders({ [ORT_PROVIDERS_ENV]: ' CUDA , cpu ' }), { providers: ['cuda', 'cpu'], reason: 'DURIAN_ORT_PROVIDERS=cuda,cpu' });
    assert.deepEqual(chooseOrtProviders({ [ORT_PROVIDERS_ENV]: 'cuda' }).providers, ['cuda']);
    assert.deepEqual(chooseOrtProviders({ [ORT_PROVIDERS_ENV]: '  ' }), chooseOrtProviders({}));
  });

  it('a bad value is one clear error naming the variable, the value and the allowed values', () => {
    for (const bad of ['gpu', 'cpu,cuda', 'cuda,,cpu', 'cuda,cpu,cpu', 'tensorrt']) {
      assert.throws(
        () => chooseOrtProviders({ [ORT_PROVIDERS_ENV]: bad }),
        (error: Error) =>
          error instanceof DurianInputError &&
          error.where === ORT_PROVIDERS_ENV &&
          error.message === `DURIAN_ORT_PROVIDERS: '${bad}' is not a provider list; use one of 'cpu', 'cuda', 'cuda,cpu' (or unset it for CUDA when installed, else the CPU)`,
      );
    }
  });
});

describe('opening sessions on the chosen providers', { skip: cudaInstalled && 'the CUDA provider is installed here, so CUDA does not fail' }, () => {
  it('cuda,cpu without a working CUDA provider opens the sessions on the CPU, logs one line why, and computes the same numbers', async () => {
    const model = tinyModel();
    const onCpu = await createOrtSession('test-cpu', model, { intraOpNumThreads: 1 }, chooseOrtProviders({ [ORT_PROVIDERS_ENV]: 'cpu' }));
    const warnings: string[] = [];
    const fellBack = await createOrtSession('test-fallback', model, { intraOpNumThreads: 1 }, chooseOrtProviders({ [ORT_PROVIDERS_ENV]: 'cuda,cpu' }), (line) => warnings.push(line));
    assert.deepEqual(await run(fellBack), await run(onCpu));
    // A second session of the same kind (a sampler opens two) falls back too, without a second line.
    const again = await createOrtSession('test-fallback', model, {}, chooseOrtProviders({ [ORT_PROVIDERS_ENV]: 'cuda,cpu' }), (line) => warnings.push(line));
    assert.deepEqual(await run(again), await run(onCpu));
    await again.release();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^onnxruntime: the test-fallback session could not use the CUDA provider \(.*Cuda: Failed to load shared library\); it runs on the CPU$/);
    assert.deepEqual(ortSessionOutcomes().get('test-cpu'), { provider: 'cpu' });
    assert.equal(ortSessionOutcomes().get('test-fallback')?.provider, 'cpu');
    assert.match(ortSessionOutcomes().get('test-fallback')?.fallbackReason ?? '', /Failed to load shared library/);
    await onCpu.release();
    await fellBack.release();
  });

  it('cuda alone fails with the reason and the setting instead of falling back', async () => {
    await assert.rejects(
      createOrtSession('test-forced', tinyModel(), {}, chooseOrtProviders({ [ORT_PROVIDERS_ENV]: 'cuda' }), () => assert.fail('no fall-back warning')),
      /^Error: the test-forced session could not use the CUDA provider \(DURIAN_ORT_PROVIDERS=cuda\): .*Failed to load shared library/,
    );
  });
});

describe('rollout samplers and the encoder under DURIAN_ORT_PROVIDERS=cuda,cpu', { skip: cudaInstalled && 'the CUDA provider is installed here, so CUDA does not fail' }, () => {
  before(async () => {
    await selectBackend({ backend: 'wasm' });
  });

  function assertSameRollouts(a: SampleResult, b: SampleResult): void {
    assert.deepEqual(a.responses, b.responses);
    assert.deepEqual(a.lengths, b.lengths);
    assert.deepEqual(a.tokenLogprobs, b.tokenLogprobs);
    assert.deepEqual(a.entropies, b.entropies);
  }

  it('the general policy samples the same rollouts as on the CPU, and the start-up line says where they ran', async () => {
    const shape: PolicyShape = { questionVocabSize: 5, responseVocabSize: 12, eosToken: SYNTHETIC_EOS, maxQuestionLength: 5, maxResponseLength: 4, patchCount: 16, patchDim: 8 };
    const prompts = syntheticPrompts(4, 5, 6, shape.patchCount, shape.patchDim);
    const promptIndex = repeatPrompts(4, 3);
    const rollouts = async (providers: string) => {
      const policy = await GENERAL_POLICY.create(shape, { seed: 21, config: { d: 32, heads: 4, layers: 2 } });
      try {
        const rng = new Rng(9);
        return await withProviders(providers, () => policy.sample(prompts, { random: () => rng.next(), promptIndex, temperature: 1.5 }));
      } finally {
        await policy.dispose();
      }
    };
    const onCpu = await rollouts('cpu');
    assert.deepEqual(ortSessionOutcomes().get('rollouts'), { provider: 'cpu' });
    const fellBack = await rollouts('cuda,cpu');
    assertSameRollouts(fellBack, onCpu);
    assert.match(ortSessionOutcomes().get('rollouts')?.fallbackReason ?? '', /Failed to load shared library/);
    const line = await withProviders('cuda,cpu', async () => ortProvidersSummary());
    assert.match(line, /^onnxruntime providers cuda, cpu \(DURIAN_ORT_PROVIDERS=cuda,cpu\); .*rollouts: cpu \(CUDA failed: .*Failed to load shared library\)/);
  });

  it('the counting policy sampler samples the same rollouts as on the CPU', async () => {
    const model = new PolicyModel({ ...SYNTHETIC_POLICY_CONFIG, seed: 21 });
    const prompts = syntheticPrompts(4, 5);
    const promptIndex = repeatPrompts(4, 3);
    const rollouts = async (providers: string) => {
      const sampler = await withProviders(providers, () => PolicySampler.create(model.config));
      try {
        const rng = new Rng(9);
        return await sampler.sample(model.getWeights(), prompts, { random: () => rng.next(), promptIndex, temperature: 1.5 });
      } finally {
        await sampler.release();
      }
    };
    try {
      const onCpu = await rollouts('cpu');
      assert.deepEqual(ortSessionOutcomes().get('rollouts'), { provider: 'cpu' });
      assertSameRollouts(await rollouts('cuda,cpu'), onCpu);
      assert.match(ortSessionOutcomes().get('rollouts')?.fallbackReason ?? '', /Failed to load shared library/);
    } finally {
      model.dispose();
    }
  });

  describe('the encoder (in child processes, to see their stderr)', () => {
    let folder: string;
    before(() => {
      folder = mkdtempSync(path.join(os.tmpdir(), 'durian-providers-'));
      copyFileSync(path.join(root, 'media', 'encoder.onnx'), path.join(folder, 'encoder.onnx'));
      copyFileSync(path.join(root, 'media', 'encoder.json'), path.join(folder, 'encoder.json'));
    });
    after(() => rmSync(folder, { recursive: true, force: true }));

    const encodeInChild = (providers: string) => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'encodeInChild.ts'), path.join(folder, 'encoder.onnx')], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, [ORT_PROVIDERS_ENV]: providers },
      });
      assert.equal(result.status, 0, result.stderr);
      const warnings = result.stderr.split('\n').filter((line) => line.startsWith('warning: '));
      return { ...(JSON.parse(result.stdout) as { features?: number[]; provider?: string; fallbackReason?: string; error?: string }), warnings };
    };

    it('encodes the same features as on the CPU, with one warning line saying why CUDA was not used', () => {
      const onCpu = encodeInChild('cpu');
      const fellBack = encodeInChild('cuda,cpu');
      assert.equal(onCpu.error, undefined);
      assert.equal(onCpu.provider, 'cpu');
      assert.deepEqual(onCpu.warnings, []);
      assert.ok((onCpu.features?.length ?? 0) > 0);
      assert.deepEqual(fellBack.features, onCpu.features);
      assert.equal(fellBack.provider, 'cpu');
      assert.match(fellBack.fallbackReason ?? '', /Failed to load shared library/);
      assert.equal(fellBack.warnings.length, 1);
      assert.match(fellBack.warnings[0], /^warning: onnxruntime: the encoder session could not use the CUDA provider \(.*\); it runs on the CPU$/);
    });

    it('a bad DURIAN_ORT_PROVIDERS stops the encoder with the one clear error', () => {
      const bad = encodeInChild('gpu');
      assert.match(bad.error ?? '', /^DURIAN_ORT_PROVIDERS: 'gpu' is not a provider list; use one of 'cpu', 'cuda', 'cuda,cpu'/);
    });
  });
});

describe('the trainer under DURIAN_ORT_PROVIDERS=cuda,cpu', { skip: cudaInstalled && 'the CUDA provider is installed here, so CUDA does not fail', timeout: 300_000 }, () => {
  it('trains on the CPU, and its start-up log says which provider the encoder and the rollouts use and why', async () => {
    const work = workFolder('providers');
    const runDir = path.join(work.dir, 'run');
    const session = startTrainer(['--config', work.config({ steps: 1 }), '--out', runDir], { ...work.env, [ORT_PROVIDERS_ENV]: 'cuda,cpu' }, trainerSource);
    assert.equal(await session.exit, 0, session.stderr());
    assert.ok(session.events.some((e) => e.type === 'trainer/step' && e.step === 1), 'step 1 ran');
    const line = readFileSync(path.join(runDir, 'trainer.log'), 'utf8').split('\n').find((l) => l.includes('onnxruntime providers'));
    assert.match(line ?? '', / INFO +onnxruntime providers cuda, cpu \(DURIAN_ORT_PROVIDERS=cuda,cpu\); encoder: cpu \(CUDA failed: .*Failed to load shared library\); rollouts: /);
    assert.ok(session.events.some((e) => e.type === 'trainer/log' && e.level === 'info' && e.message === line?.replace(/^\S+ INFO +/, '')), 'the same line is a log event');
    const warnings = session.stderr().split('\n').filter((l) => l.startsWith('warning: onnxruntime:'));
    assert.ok(warnings.some((l) => /^warning: onnxruntime: the encoder session could not use the CUDA provider \(.*\); it runs on the CPU$/.test(l)), session.stderr());
  });
});

describe('the trainer under a bad DURIAN_ORT_PROVIDERS', { timeout: 120_000 }, () => {
  it('refuses it with the one clear error before it makes the run folder', async () => {
    const work = workFolder('providers-bad');
    const runDir = path.join(work.dir, 'run');
    const session = startTrainer(['--config', work.config({ steps: 1 }), '--out', runDir], { ...work.env, [ORT_PROVIDERS_ENV]: 'gpu' }, trainerSource);
    assert.notEqual(await session.exit, 0);
    const error = session.events.find((e) => e.type === 'trainer/error');
    assert.ok(error?.type === 'trainer/error' && error.fatal, session.stderr());
    assert.match(error.message, /^DURIAN_ORT_PROVIDERS: 'gpu' is not a provider list; use one of 'cpu', 'cuda', 'cuda,cpu'/);
    assert.ok(!existsSync(runDir), 'no run folder is left behind');
  });
});
