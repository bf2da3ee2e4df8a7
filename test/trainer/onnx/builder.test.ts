// Builds tiny graphs with the ONNX builder and runs them in onnxruntime-node against JS references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OnnxBuilderError, OnnxGraphBuilder } from '../../../src/trainer/onnx/builder.js';

/** Deterministic pseudo-random floats in [-1, 1). */
function randomFloats(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let k = 0; k < count; k++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[k] = state / 2 ** 31 - 1;
  }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let k = 0; k < expected.length; k++) {
    assert.ok(Math.abs(actual[k] - expected[k]) <= tolerance * (1 + Math.abs(expected[k])), `index ${k}: ${actual[k]} vs ${expected[k]}`);
  }
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

test('MatMul + Add + Relu with a symbolic batch matches a JS reference', async () => {
  const g = new OnnxGraphBuilder({ name: 'mlp' });
  const x = g.input('x', 'float32', ['batch', 4]);
  const weights = randomFloats(12, 1);
  const bias = randomFloats(3, 2);
  const w = g.initializer('w', weights, [4, 3]);
  const b = g.constant(bias, [3], 'bias');
  const h = g.op('MatMul', [x, w]);
  const s = g.op('Add', [h, b]);
  g.output(g.op('Relu', [s], undefined, 'y'), 'float32', ['batch', 3]);

  for (const batch of [1, 5]) {
    const input = randomFloats(batch * 4, 3 + batch);
    const { y } = await run(g.toBytes(), { x: new ort.Tensor('float32', input, [batch, 4]) });
    const expected = new Float32Array(batch * 3);
    for (let r = 0; r < batch; r++) {
      for (let c = 0; c < 3; c++) {
        let sum = bias[c];
        for (let k = 0; k < 4; k++) sum += input[r * 4 + k] * weights[k * 3 + c];
        expected[r * 3 + c] = Math.max(0, sum);
      }
    }
    assert.deepEqual(y.dims, [batch, 3]);
    assertClose(y.data as Float32Array, expected);
  }
});

test('Conv with stride, padding and bias matches a JS reference', async () => {
  const [n, cin, h, w, cout, k] = [2, 2, 5, 6, 3, 3];
  const stride = 2;
  const pad = 1;
  const kernel = randomFloats(cout * cin * k * k, 7);
  const bias = randomFloats(cout, 8);
  const g = new OnnxGraphBuilder();
  const x = g.input('x', 'float32', ['n', cin, h, w]);
  const y = g.op('Conv', [x, g.constant(kernel, [cout, cin, k, k]), g.constant(bias, [cout])], {
    kernel_shape: [k, k],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
  });
  const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
  const wo = Math.floor((w + 2 * pad - k) / stride) + 1;
  g.output(y, 'float32', ['n', cout, ho, wo]);

  const input = randomFloats(n * cin * h * w, 9);
  const result = (await run(g.toBytes(), { x: new ort.Tensor('float32', input, [n, cin, h, w]) }))[y];
  const expected = new Float32Array(n * cout * ho * wo);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < cout; o++) {
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          let sum = bias[o];
          for (let c = 0; c < cin; c++) {
            for (let dy = 0; dy < k; dy++) {
              for (let dx = 0; dx < k; dx++) {
                const yy = i * stride - pad + dy;
                const xx = j * stride - pad + dx;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                sum += input[((b * cin + c) * h + yy) * w + xx] * kernel[((o * cin + c) * k + dy) * k + dx];
              }
            }
          }
          expected[((b * cout + o) * ho + i) * wo + j] = sum;
        }
      }
    }
  }
  assert.deepEqual(result.dims, [n, cout, ho, wo]);
  assertClose(result.data as Float32Array, expected);
});

test('Gemm with transB and float alpha/beta, weights fed as graph inputs', async () => {
  const g = new OnnxGraphBuilder();
  const a = g.input('a', 'float32', ['m', 3]);
  const bT = g.input('bT', 'float32', [2, 3]);
  const c = g.input('c', 'float32', [2]);
  const [y] = g.node('Gemm', [a, bT, c], { outputs: ['y'], attributes: { transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } } });
  g.output(y, 'float32', ['m', 2]);
  const av = randomFloats(12, 11);
  const bv = randomFloats(6, 12);
  const cv = randomFloats(2, 13);
  const out = await run(g.toBytes(), {
    a: new ort.Tensor('float32', av, [4, 3]),
    bT: new ort.Tensor('float32', bv, [2, 3]),
    c: new ort.Tensor('float32', cv, [2]),
  });
  const expected = new Float32Array(8);
  for (let r = 0; r < 4; r++) {
    for (let o = 0; o < 2; o++) {
      let dot = 0;
      for (let k = 0; k < 3; k++) dot += av[r * 3 + k] * bv[o * 3 + k];
      expected[r * 2 + o] = 0.5 * dot + 2 * cv[o];
    }
  }
  assertClose(out.y.data as Float32Array, expected);
});

test('int64 initializers, int64 inputs and tensor attributes round-trip', async () => {
  const g = new OnnxGraphBuilder();
  const ids = g.input('ids', 'int64', ['b', 'l']);
  const x = g.input('x', 'float32', [2, 6]);
  const reshaped = g.op('Reshape', [x, g.int64Constant([3, 4])]);
  const filled = g.op('ConstantOfShape', [g.int64Constant([2])], { value: { tensor: { data: new Float32Array([1.5]), dims: [1] } } });
  const shifted = g.op('Add', [ids, g.initializer('big', new BigInt64Array([2n ** 40n]), [])]);
  g.output(reshaped, 'float32', [3, 4]);
  g.output(filled, 'float32', [2]);
  g.output(shifted, 'int64', ['b', 'l']);
  const xs = randomFloats(12, 5);
  const out = await run(g.toBytes(), {
    ids: new ort.Tensor('int64', new BigInt64Array([1n, -2n, 3n]), [1, 3]),
    x: new ort.Tensor('float32', xs, [2, 6]),
  });
  assert.deepEqual(out[reshaped].dims, [3, 4]);
  assertClose(out[reshaped].data as Float32Array, xs, 0);
  assert.deepEqual([...(out[filled].data as Float32Array)], [1.5, 1.5]);
  assert.deepEqual([...(out[shifted].data as BigInt64Array)], [2n ** 40n + 1n, 2n ** 40n - 2n, 2n ** 40n + 3n]);
});

test('the same calls serialise to the same bytes', () => {
  const build = () => {
    const g = new OnnxGraphBuilder();
    g.output(g.op('Relu', [g.input('x', 'float32', [2])]), 'float32', [2]);
    return g.toBytes();
  };
  assert.deepEqual(build(), build());
});

test('unique names never collide with explicit ones', () => {
  const g = new OnnxGraphBuilder();
  g.input('relu', 'float32', [1]);
  const a = g.op('Relu', ['relu']);
  const b = g.op('Relu', [a]);
  assert.notEqual(a, 'relu');
  assert.notEqual(a, b);
  assert.equal(g.has(b), true);
});

test('malformed graphs fail with clear errors', () => {
  const g = new OnnxGraphBuilder();
  const x = g.input('x', 'float32', ['n', 2]);
  assert.throws(() => g.input('x', 'float32', [1]), /'x' is defined twice/);
  assert.throws(() => g.op('Add', [x, 'missing']), /input 'missing' is not defined/);
  assert.throws(() => g.op('LeakyRelu', [x], { alpha: 0.1 }), /use \{ float \}/);
  assert.throws(() => g.initializer('w', new Float32Array(3), [2, 2]), /3 values do not fill dims \[2, 2\]/);
  assert.throws(() => g.output('nope', 'float32', [1]), OnnxBuilderError);
  assert.throws(() => g.input('y', 'float32', [1.5]), /dim 0 must be a whole number/);
  assert.throws(() => new OnnxGraphBuilder().toBytes(), /no outputs/);
});
