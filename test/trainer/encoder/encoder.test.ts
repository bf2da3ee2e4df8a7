// The JS side of the encoder: batching, resizing and channel conversion, the feature cache, clear errors,
// and user encoders with other layouts (NHWC, mean/std, CLS token, feature-map output, fixed batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OnnxGraphBuilder } from '../../../src/trainer/onnx/builder.js';
import {
  benchEncoder,
  encodeImages,
  EncoderError,
  imageKey,
  loadEncoder,
  PatchFeatureCache,
  visualEntropy,
  type EncoderMetadata,
} from '../../../src/trainer/encoder/index.js';
import { DESIGNED_FEATURE_NAMES } from '../../../src/trainer/encoder/designedEncoder.js';
import { drawImage } from './drawShapes.js';

const P = 64;
const D = 32;

function scene(seed: number) {
  return drawImage([
    { kind: 'circle', cx: 18 + (seed % 5) * 12, cy: 30, size: 9, rgb: [220, 40, 40] },
    { kind: 'triangle', cx: 66, cy: 54 + (seed % 3) * 12, size: 10, rgb: [45, 85, 225] },
  ], { kind: seed % 2 === 0 ? 'noise' : 'texture', seed });
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'durian-encoder-'));
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let k = 0; k < expected.length; k++) {
    assert.ok(Math.abs(actual[k] - expected[k]) <= tolerance, `${what}[${k}]: ${actual[k]} vs ${expected[k]}`);
  }
}

test('loadEncoder returns one shared instance; a batch of N equals N single calls', async () => {
  const encoder = await loadEncoder();
  assert.equal(await loadEncoder(), encoder);
  assert.equal(encoder.patches, P);
  assert.equal(encoder.dims, D);
  const images = Array.from({ length: 20 }, (_, k) => scene(k)); // more than one ORT batch of 16
  const batch = await encodeImages(images);
  assert.equal(batch.length, 20 * P * D);
  for (let k = 0; k < images.length; k++) {
    const single = await encodeImages([images[k]]);
    assertClose(batch.subarray(k * P * D, (k + 1) * P * D), single, 1e-5, `image ${k}`);
  }
  assert.equal((await encodeImages([])).length, 0);
});

test('a 224 x 224 image is resized: a red square lands on the matching patch; flat colours survive exactly', async () => {
  const size = 224;
  const rgb = new Uint8Array(size * size * 3).fill(240);
  // Patch (row 5, col 2) covers x 24-36, y 60-72 of 96, i.e. 56-84 x 140-168 of 224.
  for (let y = 144; y < 164; y++) {
    for (let x = 60; x < 80; x++) rgb.set([220, 40, 40], (y * size + x) * 3);
  }
  const features = await encodeImages([{ width: size, height: size, rgb }]);
  const red = DESIGNED_FEATURE_NAMES.indexOf('colour/red/fraction');
  let best = 0;
  for (let p = 1; p < P; p++) if (features[p * D + red] > features[best * D + red]) best = p;
  assert.equal(best, 5 * 8 + 2);

  const flat = (width: number, height: number) => ({ width, height, rgb: new Uint8Array(width * height * 3).fill(200) });
  const [big, small, odd] = [await encodeImages([flat(224, 224)]), await encodeImages([flat(96, 96)]), await encodeImages([flat(37, 301)])];
  assertClose(big, small, 1e-5, '224 vs 96');
  assertClose(odd, small, 1e-5, '37x301 (enlarged one way, shrunk the other) vs 96');
});

test('RGBA composites over white and grey replicates to RGB', async () => {
  const n = 50 * 40;
  const transparent = { width: 50, height: 40, data: new Uint8Array(n * 4).fill(0), channels: 4 as const };
  const white = { width: 50, height: 40, rgb: new Uint8Array(n * 3).fill(255) };
  assertClose(await encodeImages([transparent]), await encodeImages([white]), 1e-6, 'transparent vs white');

  const base = scene(3);
  const opaque = new Uint8Array(96 * 96 * 4);
  const grey = new Uint8Array(96 * 96);
  const greyAsRgb = new Uint8Array(96 * 96 * 3);
  for (let k = 0; k < 96 * 96; k++) {
    opaque.set([base.data[k * 3], base.data[k * 3 + 1], base.data[k * 3 + 2], 255], k * 4);
    grey[k] = base.data[k * 3 + 1];
    greyAsRgb.fill(grey[k], k * 3, k * 3 + 3);
  }
  assertClose(await encodeImages([{ width: 96, height: 96, data: opaque, channels: 4 }]), await encodeImages([base]), 1e-6, 'opaque RGBA vs RGB');
  assertClose(await encodeImages([{ width: 96, height: 96, data: grey, channels: 1 }]), await encodeImages([{ width: 96, height: 96, rgb: greyAsRgb }]), 1e-6, 'grey vs RGB');
});

test('the feature cache: memory hits return the same values, the disk cache survives a new instance', async () => {
  const encoder = await loadEncoder();
  const directory = tempDir();
  try {
    const images = [scene(1), scene(2), scene(1)];
    const cache = new PatchFeatureCache(encoder, { directory });
    const first = await cache.get(images);
    assert.equal(first[0], first[2], 'duplicate images share one entry');
    assert.deepEqual(cache.stats(), { memoryHits: 0, diskHits: 0, misses: 2, entries: 2 });
    const again = await cache.get([scene(2)]);
    assert.equal(again[0].features, first[1].features);
    assert.equal(cache.stats().memoryHits, 1);

    const direct = await encodeImages([scene(2)]);
    assert.deepEqual(first[1].features, direct);
    assert.equal(first[1].entropy, visualEntropy(direct, 0));
    assert.equal(first[1].key, imageKey(scene(2)));

    const fresh = new PatchFeatureCache(encoder, { directory });
    const fromDisk = await fresh.get([scene(1), scene(2)]);
    assert.deepEqual(fresh.stats(), { memoryHits: 0, diskHits: 2, misses: 0, entries: 2 });
    assert.deepEqual(fromDisk[0].features, first[0].features);
    assert.equal(fromDisk[1].entropy, first[1].entropy);
    assert.deepEqual(await fresh.entropies([scene(2)]), [first[1].entropy]);
    assert.deepEqual(await fresh.features([scene(1)]), first[0].features);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('errors name the model path and the mismatch', async () => {
  const directory = tempDir();
  try {
    const missing = path.join(directory, 'nope.onnx');
    await assert.rejects(loadEncoder(missing), (e: Error) => e instanceof EncoderError && e.message.includes(missing) && /not found/.test(e.message));

    // A model whose output is [N, 16, 32] where the sidecar promises 64 patches.
    const g = new OnnxGraphBuilder();
    const x = g.input('pixels', 'float32', ['N', 3, 96, 96]);
    const pooled = g.op('AveragePool', [x], { kernel_shape: [24, 24], strides: [24, 24] }); // [N, 3, 4, 4]
    const flat = g.op('Reshape', [pooled, g.int64Constant([0, 3, 16])]);
    const widened = g.op('Tile', [g.op('Transpose', [flat], { perm: [0, 2, 1] }), g.int64Constant([1, 1, 11])]); // [N, 16, 33]
    const patches = g.op('Slice', [widened, g.int64Constant([0]), g.int64Constant([32]), g.int64Constant([2])], undefined, 'patches');
    g.output(patches, 'float32', ['N', 16, 32]);
    const wrong = path.join(directory, 'wrong.onnx');
    writeFileSync(wrong, g.toBytes());
    const metadata: EncoderMetadata = {
      format: 'durian-encoder/1',
      name: 'wrong',
      description: 'test',
      input: { name: 'pixels', height: 96, width: 96, layout: 'NCHW', mean: [0, 0, 0], std: [1, 1, 1] },
      output: { name: 'patches', layout: 'tokens', patches: 64, dims: 32 },
    };
    await assert.rejects(loadEncoder(wrong), (e: Error) => e instanceof EncoderError && e.message.includes('wrong.json') && /metadata not found/.test(e.message));
    writeFileSync(path.join(directory, 'wrong.json'), JSON.stringify({ ...metadata, output: { ...metadata.output, layout: 'grid' } }));
    await assert.rejects(loadEncoder(wrong), /output.layout must be "tokens", "channels_first" or "channels_last", got "grid"/);
    writeFileSync(path.join(directory, 'wrong.json'), JSON.stringify({ ...metadata, sha256: 'abc' }));
    await assert.rejects(loadEncoder(wrong), /does not match the metadata's abc/);
    writeFileSync(path.join(directory, 'wrong.json'), JSON.stringify({ ...metadata, input: { ...metadata.input, name: 'image' } }));
    await assert.rejects(loadEncoder(wrong), /no input named 'image' \(the model's inputs: pixels\)/);
    writeFileSync(path.join(directory, 'wrong.json'), JSON.stringify({ ...metadata, input: { ...metadata.input, height: 224, width: 224 } }));
    await assert.rejects(loadEncoder(wrong), /input 'pixels' has shape \[N, 3, 96, 96\], metadata expects \[N, 3, 224, 224\]/);
    writeFileSync(path.join(directory, 'wrong.json'), JSON.stringify(metadata));
    const encoder = await loadEncoder(wrong);
    await assert.rejects(encoder.encode([scene(1)]), (e: Error) => e.message.includes(wrong) && /output 'patches' has shape \[1, 16, 32\], expected \[1, 64, 32\]/.test(e.message));
    await encoder.release();

    const designed = await loadEncoder();
    await assert.rejects(designed.encode([scene(1), { width: 96, height: 96, rgb: new Uint8Array(10) }]), /images\[1\] is not an image: 10 bytes, expected 96 x 96 x 3 = 27648/);
    await assert.rejects(designed.encode([{ width: 0, height: 5, rgb: new Uint8Array(0) }]), /images\[0\] is not an image: width and height/);
    await assert.rejects(designed.encode(['cat.png' as never]), /images\[0\] is not an image/);
    await assert.rejects(designed.encode([{ width: 2, height: 2, data: new Uint8Array(8), channels: 2 as never }]), /channels must be 1 \(grey\), 3 \(RGB\) or 4 \(RGBA\), got 2/);
    assert.throws(() => visualEntropy(new Float32Array(P * D), 1), /image 1 is out of range/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('user encoders: NHWC + mean/std with a CLS token, a feature-map output, and a fixed batch size', async () => {
  const directory = tempDir();
  try {
    // Tokens: NHWC [2 (fixed), 4, 4, 3] -> [2, 1 + 16, 3] with a CLS token first.
    const tokens = new OnnxGraphBuilder();
    const image = tokens.input('image', 'float32', [2, 4, 4, 3]);
    const flat = tokens.op('Reshape', [image, tokens.int64Constant([2, 16, 3])]);
    const cls = tokens.op('Expand', [tokens.constant([9, 9, 9], [1, 1, 3]), tokens.int64Constant([2, 1, 3])]);
    tokens.output(tokens.op('Concat', [cls, flat], { axis: 1 }, 'last_hidden_state'), 'float32', [2, 17, 3]);
    const tokensPath = path.join(directory, 'tokens.onnx');
    writeFileSync(tokensPath, tokens.toBytes());
    const mean: [number, number, number] = [0.5, 0.4, 0.3];
    const std: [number, number, number] = [0.2, 0.25, 0.5];
    writeFileSync(path.join(directory, 'tokens.json'), JSON.stringify({
      format: 'durian-encoder/1', name: 'tokens', description: 'test',
      input: { name: 'image', height: 4, width: 4, layout: 'NHWC', mean, std },
      output: { name: 'last_hidden_state', layout: 'tokens', patches: 16, dims: 3, skipTokens: 1 },
    }));
    const encoder = await loadEncoder(tokensPath);
    assert.equal(encoder.batchSize, 2, 'a fixed batch dimension wins');
    const images = [1, 2, 3].map((seed) => ({ width: 4, height: 4, rgb: Uint8Array.from({ length: 48 }, (_, k) => (k * 37 + seed * 11) % 256) }));
    const out = await encoder.encode(images); // 3 images: one full batch, one padded
    const expected = images.flatMap((img) => [...img.rgb].map((v, k) => (v / 255 - mean[k % 3]) / std[k % 3]));
    assertClose(out, expected, 1e-5, 'tokens');

    // Feature map: NCHW [N, 3, 4, 4] -> 2 x 2 average pool -> [N, 3, 2, 2] = 4 patches of 3 features.
    const grid = new OnnxGraphBuilder();
    const x = grid.input('x', 'float32', ['N', 3, 4, 4]);
    grid.output(grid.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, 'map'), 'float32', ['N', 3, 2, 2]);
    const gridPath = path.join(directory, 'grid.onnx');
    writeFileSync(gridPath, grid.toBytes());
    const gridEncoder = await loadEncoder(gridPath, {
      metadata: {
        format: 'durian-encoder/1', name: 'grid', description: 'test',
        input: { name: 'x', height: 4, width: 4, layout: 'NCHW', mean: [0, 0, 0], std: [1, 1, 1] },
        output: { name: 'map', layout: 'channels_first', patches: 4, dims: 3 },
      },
    });
    const gridOut = await gridEncoder.encode(images.slice(0, 2));
    const gridExpected: number[] = [];
    for (const img of images.slice(0, 2)) {
      for (let py = 0; py < 2; py++) {
        for (let px = 0; px < 2; px++) {
          for (let c = 0; c < 3; c++) {
            let sum = 0;
            for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) sum += img.rgb[((py * 2 + dy) * 4 + px * 2 + dx) * 3 + c] / 255;
            gridExpected.push(sum / 4);
          }
        }
      }
    }
    assertClose(gridOut, gridExpected, 1e-5, 'feature map');
    await encoder.release();
    await gridEncoder.release();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('benchEncoder reports positive, finite throughput', async () => {
  const result = await benchEncoder({ images: 32 });
  assert.ok(result.imagesPerSecond > 0 && Number.isFinite(result.imagesPerSecond));
  assert.ok(result.entropyPerSecond > 0 && result.resizePerSecond > 0);
  assert.equal(result.images, 32);
});
