// Hostile encoder inputs (issue 18): a FIFO as the model or its sidecar, sidecars asking for 100000 threads
// or a 20000-pixel input, a model whose output is NaN, and a feature cache that cannot be written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { OnnxGraphBuilder } from '../../../src/trainer/onnx/builder.js';
import { EncoderError, PatchFeatureCache, loadEncoder, metadataProblems, type EncoderMetadata } from '../../../src/trainer/encoder/index.js';

const root = path.resolve(__dirname, '../../..');

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'durian-encoder-hostile-'));
}

/** NHWC [N, 4, 4, 3] -> sqrt(x - 0.5) as 16 tokens of 3: NaN wherever a pixel is darker than mid-grey. */
function nanModel(directory: string, sidecar: Partial<EncoderMetadata> = {}): string {
  const g = new OnnxGraphBuilder();
  const x = g.input('image', 'float32', ['N', 4, 4, 3]);
  const root2 = g.op('Sqrt', [g.op('Sub', [x, g.constant([0.5], [], 'half')])]);
  g.output(g.op('Reshape', [root2, g.int64Constant([0, 16, 3])], undefined, 'tokens'), 'float32', ['N', 16, 3]);
  const model = path.join(directory, 'nan.onnx');
  writeFileSync(model, g.toBytes());
  const metadata: EncoderMetadata = {
    format: 'durian-encoder/1', name: 'nan', description: 'test',
    input: { name: 'image', height: 4, width: 4, layout: 'NHWC', mean: [0, 0, 0], std: [1, 1, 1] },
    output: { name: 'tokens', layout: 'tokens', patches: 16, dims: 3 },
    ...sidecar,
  };
  writeFileSync(path.join(directory, 'nan.json'), JSON.stringify(metadata));
  return model;
}

const flat = (level: number) => ({ width: 4, height: 4, rgb: new Uint8Array(48).fill(level) });

test('a model whose output is NaN: the error names the model, the output and the image', async () => {
  const directory = tempDir();
  try {
    const model = nanModel(directory);
    const encoder = await loadEncoder(model);
    assert.equal((await encoder.encode([flat(250)])).length, 48, 'bright images give finite features');
    await assert.rejects(encoder.encode([flat(250), flat(10)]), (e: Error) => {
      assert.ok(e instanceof EncoderError);
      assert.equal(e.image, 1);
      assert.match(e.message, new RegExp(`^encoder ${model.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: output 'tokens' is NaN for images\\[1\\] \\(patch 0, feature 0\\)`));
      return true;
    });
    await encoder.release();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a sidecar asking for 100000 threads is refused before onnxruntime starts them', async () => {
  const directory = tempDir();
  try {
    const model = nanModel(directory, { threads: 100000 });
    await assert.rejects(loadEncoder(model), (e: Error) => e instanceof EncoderError && /threads must be a whole number from 1 to \d+ \(4 per core\), got 100000/.test(e.message) && e.message.includes('nan.json'));
    const fine = nanModel(directory); // the same model with a valid sidecar, asked for the threads in code
    await assert.rejects(loadEncoder(fine, { threads: 100000 }), /threads must be a whole number from 1 to \d+ \(4 per core\), got 100000/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a 20000-pixel input size, a batch of 10^6 and 10^9 features per image are refused by the sidecar check', () => {
  const base = {
    format: 'durian-encoder/1', name: 'x', description: 'x',
    input: { name: 'image', height: 224, width: 224, layout: 'NCHW', mean: [0, 0, 0], std: [1, 1, 1] },
    output: { name: 'tokens', layout: 'tokens', patches: 196, dims: 768 },
  };
  assert.deepEqual(metadataProblems(base), []);
  assert.deepEqual(metadataProblems({ ...base, input: { ...base.input, height: 20000, width: 20000 } }), ['input.height and input.width must be at most 4096 pixels, got 20000 x 20000']);
  assert.deepEqual(metadataProblems({ ...base, input: { ...base.input, batchSize: 1e6 } }), ['input.batchSize must be a whole number from 1 to 4096, got 1000000']);
  assert.deepEqual(metadataProblems({ ...base, output: { ...base.output, patches: 1e6, dims: 1000 } }), ['output.patches x output.dims must be at most 16777216, got 1000000 x 1000']);
});

test('a FIFO as the encoder model or as its sidecar is refused at once, naming it', () => {
  const directory = tempDir();
  try {
    const child = (model: string) => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'loadInChild.ts'), model], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      assert.notEqual(result.signal, 'SIGTERM', `loading ${model} hung`);
      return JSON.parse(result.stdout.trim().split('\n').pop()!) as { loaded?: boolean; error?: string };
    };
    const fifoModel = path.join(directory, 'pipe.onnx');
    assert.equal(spawnSync('mkfifo', [fifoModel]).status, 0);
    writeFileSync(path.join(directory, 'pipe.json'), JSON.stringify({
      format: 'durian-encoder/1', name: 'p', description: 'p',
      input: { name: 'image', height: 4, width: 4, layout: 'NHWC', mean: [0, 0, 0], std: [1, 1, 1] },
      output: { name: 'tokens', layout: 'tokens', patches: 16, dims: 3 },
    }));
    assert.deepEqual(child(fifoModel), { error: `encoder model ${fifoModel} is a FIFO (named pipe), not a regular file` });

    const model = nanModel(directory);
    rmSync(path.join(directory, 'nan.json'));
    assert.equal(spawnSync('mkfifo', [path.join(directory, 'nan.json')]).status, 0);
    assert.deepEqual(child(model), { error: `encoder metadata ${path.join(directory, 'nan.json')} is a FIFO (named pipe), not a regular file` });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a feature cache that cannot be written: features are still returned, with one warning', async () => {
  const directory = tempDir();
  try {
    const blocker = path.join(directory, 'not-a-folder');
    writeFileSync(blocker, 'x'); // a file where the cache folder should be: mkdir fails even for root
    const warnings: string[] = [];
    const cache = new PatchFeatureCache(await loadEncoder(), { directory: path.join(blocker, 'cache'), onWarning: (m) => warnings.push(m) });
    const image = { width: 8, height: 8, rgb: new Uint8Array(192).fill(120) };
    const entries = await cache.get([image, { ...image, rgb: new Uint8Array(192).fill(30) }]);
    assert.equal(entries.length, 2);
    assert.ok(entries.every((e) => Number.isFinite(e.entropy)));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^cannot write the feature cache .*not-a-folder\/cache\/[0-9a-f]{64}: ENOTDIR.*; going on without writing it$/);
    assert.equal(cache.writesToDisk, false);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
