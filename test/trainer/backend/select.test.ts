import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as esbuild from 'esbuild';
import { BackendError, backendDetails, backendSummary, selectBackend } from '../../../src/trainer/backend/index.js';

const root = path.resolve(__dirname, '../../..');

describe('selectBackend', () => {
  it('auto picks wasm here and says why the native backends failed', async () => {
    const info = await selectBackend();
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(info.device, /^CPU \(wasm/);
    assert.deepEqual(info.tried.map((t) => [t.name, t.ok]), [['tfjs-node-gpu', false], ['tfjs-node', false], ['wasm', true]]);
    for (const failed of info.tried.slice(0, 2)) assert.match(failed.reason, /not installed/);
  });

  it('says "not installed" in one quiet line and keeps the module errors for the debug log', async () => {
    const info = await selectBackend();
    const summary = backendSummary(info);
    assert.match(summary, /^backend wasm \(CPU \(wasm[^)]*\)\); tried tfjs-node-gpu: not installed, tfjs-node: not installed, wasm: ok$/);
    assert.doesNotMatch(summary, /Cannot find module/);
    assert.equal(
      backendDetails(info),
      "backend attempts: tfjs-node-gpu: Cannot find module '@tensorflow/tfjs-node-gpu'; tfjs-node: Cannot find module '@tensorflow/tfjs-node'",
    );
    assert.equal(backendDetails(await selectBackend({ backend: 'wasm' })), undefined, 'nothing more to say when nothing failed');
  });

  it('the wasm matmul override gives the same numbers with transpose flags', async () => {
    await selectBackend({ backend: 'wasm' });
    const [plain, flagged] = tf.tidy(() => {
      const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
      const b = tf.tensor2d([0.5, -1, 2, 0.25, 3, -2], [3, 2]);
      return [tf.matMul(a, b).arraySync(), tf.matMul(tf.transpose(a), tf.transpose(b), true, true).arraySync()];
    });
    assert.deepEqual(flagged, plain);
    assert.deepEqual(plain, [[13.5, -6.5], [30, -14.75]]);
  });

  it('the wasm Identity and same-dtype Cast overrides share memory: no copy, a clone outlives its source, other casts convert', async () => {
    await selectBackend({ backend: 'wasm' });
    const source = tf.tensor1d([1.5, -2, 3]);
    const before = tf.engine().backend.numDataIds();
    const clone = tf.clone(source);
    const same = tf.cast(source, 'float32');
    assert.equal(tf.engine().backend.numDataIds(), before, 'no new buffer for a clone or a float32 -> float32 cast');
    source.dispose();
    assert.deepEqual(Array.from(clone.dataSync()), [1.5, -2, 3]);
    assert.deepEqual(Array.from(same.dataSync()), [1.5, -2, 3]);
    const ints = tf.cast(clone, 'int32');
    assert.equal(ints.dtype, 'int32');
    assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3]);
    tf.dispose([clone, same, ints]);
    assert.equal(tf.engine().backend.numDataIds(), before - 1, 'the shared buffer is freed with its last tensor');
  });

  it('forcing cpu works, and forcing a name that cannot load fails with the reason', async () => {
    const info = await selectBackend({ backend: 'cpu' });
    assert.equal(info.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    await assert.rejects(selectBackend({ backend: 'tfjs-node' }), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.match(error.message, /backend 'tfjs-node' cannot be used: .*not installed/);
      assert.equal(error.tried.length, 1);
      return true;
    });
    await selectBackend({ backend: 'wasm' });
  });

  it('a bogus name errors clearly', async () => {
    await assert.rejects(selectBackend({ backend: 'bogus' }), /unknown backend 'bogus': expected 'auto' or one of 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'/);
  });

  it('works from an esbuild bundle (wasm binaries resolved from node_modules at run time)', async () => {
    const dir = path.join(root, '.cache', 'test-backend-bundle');
    mkdirSync(dir, { recursive: true });
    const entry = path.join(dir, 'entry.ts');
    writeFileSync(entry, `import { selectBackend } from '../../src/trainer/backend/index.js';\nselectBackend().then((info) => console.log(JSON.stringify(info)));\n`);
    await esbuild.build({
      entryPoints: [entry],
      outfile: path.join(dir, 'bundle.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'onnxruntime-node'],
      logLevel: 'error',
    });
    const out = execFileSync(process.execPath, [path.join(dir, 'bundle.js')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const info = JSON.parse(out.trim().split('\n').pop() as string) as { name: string; tried: { name: string; ok: boolean }[] };
    assert.equal(info.name, 'wasm');
    assert.equal(info.tried.length, 3);
  });
});
