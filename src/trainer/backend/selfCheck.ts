/**
 * A tiny correctness check run on a freshly selected tfjs backend before training trusts it: a matmul and
 * the gradient of sum(tanh(A W)) with respect to W (which exercises the transposed matmul of backprop),
 * both compared with a plain JavaScript reference. Returns null when the backend agrees, else why not.
 */
import * as tf from '@tensorflow/tfjs';

const ROWS = 5;
const INNER = 4;
const COLS = 3;
const TOLERANCE = 1e-4;

function fill(count: number, offset: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sin(0.7 * i + offset) * 0.8;
  return out;
}

/** JS reference: Y = A W and dL/dW for L = sum(tanh(Y)). */
function reference(a: Float32Array, w: Float32Array): { product: Float64Array; gradient: Float64Array } {
  const product = new Float64Array(ROWS * COLS);
  for (let i = 0; i < ROWS; i++) {
    for (let j = 0; j < COLS; j++) {
      let sum = 0;
      for (let k = 0; k < INNER; k++) sum += a[i * INNER + k] * w[k * COLS + j];
      product[i * COLS + j] = sum;
    }
  }
  const gradient = new Float64Array(INNER * COLS);
  for (let k = 0; k < INNER; k++) {
    for (let j = 0; j < COLS; j++) {
      let sum = 0;
      for (let i = 0; i < ROWS; i++) sum += a[i * INNER + k] * (1 - Math.tanh(product[i * COLS + j]) ** 2);
      gradient[k * COLS + j] = sum;
    }
  }
  return { product, gradient };
}

function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

/** Runs the check on the current backend; null means it passed. */
export function backendSelfCheck(): string | null {
  const a = fill(ROWS * INNER, 0.1);
  const w = fill(INNER * COLS, 1.3);
  const expected = reference(a, w);
  const [product, gradient] = tf.tidy(() => {
    const aT = tf.tensor2d(a, [ROWS, INNER]);
    const wT = tf.tensor2d(w, [INNER, COLS]);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(aT, x))))(wT);
    return [tf.matMul(aT, wT).dataSync(), grad.dataSync()];
  });
  const productError = maxDifference(product, expected.product);
  if (!(productError <= TOLERANCE)) return `self-check matmul differs from the JS reference by ${productError}`;
  const gradientError = maxDifference(gradient, expected.gradient);
  if (!(gradientError <= TOLERANCE)) return `self-check gradient differs from the JS reference by ${gradientError}`;
  return null;
}
