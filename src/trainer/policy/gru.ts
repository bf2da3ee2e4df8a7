/**
 * The teacher-forced GRU recurrence of the decoder as ONE tfjs op with a hand-written gradient
 * (tf.customGrad). tfjs autodiff of the step-by-step formulation (forward.ts, `decoderLogits`) records
 * ~20 small ops per step plus unstack/concat of the activations, and on the wasm backend each costs
 * 10-500 us (unstack and the wasm tanh are the worst); here the gate arithmetic runs in plain JS over
 * Float32Arrays, only the sigmoids (2 calls per step; tanh(a) = 2 sigmoid(2a) - 1) run on the backend's SIMD
 * kernel, and each step costs one fused [B, H] x [H, 3H] matmul forward and one [B, 3H] x [3H, H] matmul
 * backward (both on XNNPACK's fast path), plus one [H, Lr B] x [Lr B, 3H] matmul for the recurrent kernel's
 * gradient. The per-prompt initial state and context gates are expanded to sequences here (JS copies) and
 * their gradients summed back per prompt, so the caller runs the decoder's start on P rows, not B.
 * Checked against tfjs autodiff of the reference formulation in test/trainer/policy/gradients.test.ts.
 *
 * Same equations as forward.ts (and the ONNX step graph), with x_t = onehot(prev_t) E + c (c = context
 * gates incl. the input bias, per prompt, expanded to sequences by `promptIndex`):
 *   r = sigmoid(x_r + h W_r + b_r),  z = sigmoid(x_z + h W_z + b_z),
 *   n = tanh(x_n + r (h W_n + b_n)),  h' = n + z (h - n).
 * Output: every step's state, TIME-MAJOR [Lr * B, H].
 */
import * as tf from '@tensorflow/tfjs';

export interface GruRecurrenceInputs {
  /** decoder.embedding [Vr, 3H]. */
  embedding: tf.Tensor;
  /** Context gates (context W_c + input bias) per prompt [P, 3H]. */
  contextGates: tf.Tensor;
  /** Initial state per prompt [P, H]. */
  initialState: tf.Tensor;
  /** decoder.recurrent.kernel [H, 3H]. */
  recurrentKernel: tf.Tensor;
  /** decoder.recurrent.bias [3H]. */
  recurrentBias: tf.Tensor;
}

export interface GruRecurrenceShape {
  /** Previous-token ids, TIME-MAJOR [Lr * B] (0 = BOS at step 0). */
  previousIds: Int32Array;
  /** Prompt row of each sequence [B], or null when sequence s uses prompt s. */
  promptIndex: Int32Array | null;
  sequences: number;
  responseLength: number;
}

function read(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** [rows, cols] x W (a tensor) on the backend, returned as a JS array. */
function matMulJs(values: Float32Array, rows: number, cols: number, weight: tf.Tensor): Float32Array {
  const a = tf.tensor2d(values, [rows, cols]);
  const product = tf.matMul(a, weight);
  const out = read(product);
  a.dispose();
  product.dispose();
  return out;
}

/** Saved activations of the forward pass, time-major blocks of B x H per step. */
interface Activations {
  reset: Float32Array;
  update: Float32Array;
  candidate: Float32Array;
  /** u = h W_n + b_n. */
  hiddenN: Float32Array;
  states: Float32Array;
}

/** Logistic sigmoid of a JS array on the backend (its SIMD kernel is far faster than Math.exp in JS). */
function sigmoidJs(values: Float32Array, rows: number, cols: number): Float32Array {
  const x = tf.tensor2d(values, [rows, cols]);
  const y = tf.sigmoid(x);
  const out = read(y);
  x.dispose();
  y.dispose();
  return out;
}

/**
 * One forward step: `hidden` = h_{t-1} W [B, 3H] (no bias); writes step t of `act`. The sigmoids run on
 * the backend (r and z in one call, then n = tanh(a) = 2 sigmoid(2a) - 1); the rest is plain JS.
 */
function forwardStep(
  t: number, b: number, h: number, hidden: Float32Array, previous: Float32Array, embedding: Float32Array, context: Float32Array,
  bias: Float32Array, previousIds: Int32Array, promptIndex: Int32Array, act: Activations,
): void {
  const h2 = 2 * h;
  const h3 = 3 * h;
  const base = t * b * h;
  const { reset, update, candidate, hiddenN, states } = act;
  const gateInputs = new Float32Array(b * h2);
  for (let s = 0; s < b; s++) {
    const emb = previousIds[t * b + s] * h3;
    const ctx = promptIndex[s] * h3;
    const hg = s * h3;
    const o = s * h2;
    for (let j = 0; j < h2; j++) gateInputs[o + j] = embedding[emb + j] + context[ctx + j] + hidden[hg + j] + bias[j];
  }
  const gates = sigmoidJs(gateInputs, b, h2);
  const candidateInputs = new Float32Array(b * h);
  for (let s = 0; s < b; s++) {
    const emb = previousIds[t * b + s] * h3 + h2;
    const ctx = promptIndex[s] * h3 + h2;
    const hg = s * h3 + h2;
    for (let j = 0; j < h; j++) {
      const i = base + s * h + j;
      const r = gates[s * h2 + j];
      const u = hidden[hg + j] + bias[h2 + j];
      reset[i] = r;
      update[i] = gates[s * h2 + h + j];
      hiddenN[i] = u;
      candidateInputs[s * h + j] = 2 * (embedding[emb + j] + context[ctx + j] + r * u);
    }
  }
  const doubled = sigmoidJs(candidateInputs, b, h);
  for (let k = 0; k < b * h; k++) {
    const i = base + k;
    const n = 2 * doubled[k] - 1;
    candidate[i] = n;
    states[i] = n + update[i] * (previous[k] - n);
  }
}

/**
 * One backward step: from dL/dh_t (`upstream` at step t plus `carry`), writes the recurrent-side gate
 * gradients of step t into `dStep` [B, 3H], accumulates the input-side ones into the context, embedding
 * and bias sums, and returns the direct part of dL/dh_{t-1} (the part through W is added by the caller).
 */
function backwardStep(
  t: number, b: number, h: number, upstream: Float32Array, carry: Float32Array, previous: Float32Array, act: Activations,
  previousIds: Int32Array, promptIndex: Int32Array, dStep: Float32Array, dContext: Float64Array, dEmbedding: Float64Array, dBias: Float64Array,
): Float32Array {
  const h3 = 3 * h;
  const base = t * b * h;
  const { reset, update, candidate, hiddenN } = act;
  const direct = new Float32Array(b * h);
  for (let s = 0; s < b; s++) {
    const ctx = promptIndex[s] * h3;
    const emb = previousIds[t * b + s] * h3;
    for (let j = 0; j < h; j++) {
      const k = s * h + j;
      const i = base + k;
      const g = upstream[i] + carry[k];
      const r = reset[i];
      const z = update[i];
      const n = candidate[i];
      const dz = g * (previous[k] - n);
      const dan = g * (1 - z) * (1 - n * n);
      const dar = dan * hiddenN[i] * r * (1 - r);
      const daz = dz * z * (1 - z);
      const dun = dan * r;
      direct[k] = g * z;
      const o = s * h3 + j;
      dStep[o] = dar;
      dStep[o + h] = daz;
      dStep[o + 2 * h] = dun;
      dContext[ctx + j] += dar;
      dContext[ctx + h + j] += daz;
      dContext[ctx + 2 * h + j] += dan;
      dEmbedding[emb + j] += dar;
      dEmbedding[emb + h + j] += daz;
      dEmbedding[emb + 2 * h + j] += dan;
      dBias[j] += dar;
      dBias[h + j] += daz;
      dBias[2 * h + j] += dun;
    }
  }
  return direct;
}

/** States of every step [Lr * B, H] (time-major), differentiable w.r.t. all five inputs. */
export function gruRecurrence(inputs: GruRecurrenceInputs, shape: GruRecurrenceShape): tf.Tensor2D {
  const { previousIds, sequences: b, responseLength: steps } = shape;
  const promptIndex = shape.promptIndex ?? Int32Array.from({ length: b }, (_, s) => s);
  const h = inputs.initialState.shape[1] as number;
  const h3 = 3 * h;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [embeddingT, contextT, initialT, kernelT, biasT] = args as tf.Tensor[];
    const embedding = read(embeddingT);
    const context = read(contextT);
    const initial = read(initialT);
    const bias = read(biasT);
    const size = b * h;
    const act: Activations = {
      reset: new Float32Array(steps * size),
      update: new Float32Array(steps * size),
      candidate: new Float32Array(steps * size),
      hiddenN: new Float32Array(steps * size),
      states: new Float32Array(steps * size),
    };
    const states = act.states;
    // The state entering each step: h0 expanded to sequences, then the previous step's output.
    const h0 = new Float32Array(size);
    for (let s = 0; s < b; s++) h0.set(initial.subarray(promptIndex[s] * h, (promptIndex[s] + 1) * h), s * h);
    let previous: Float32Array = h0;
    for (let t = 0; t < steps; t++) {
      const hidden = matMulJs(previous, b, h, kernelT); // [B, 3H]
      forwardStep(t, b, h, hidden, previous, embedding, context, bias, previousIds, promptIndex, act);
      previous = states.subarray(t * size, (t + 1) * size);
    }
    const value = tf.tensor2d(states, [steps * b, h]);

    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      const upstream = read(dy);
      const kernelTransposed = tf.transpose(kernelT); // [3H, H]
      // dHidden: gradients w.r.t. the recurrent matmul's output (h W_r, h W_z, h W_n) of every step,
      // time-major [Lr * B, 3H]. The input side (x_r, x_z, x_n) differs in the n block (d(hW_n) = r d(x_n))
      // and is only needed summed per prompt (context gates) and per token (embedding rows).
      const dHidden = new Float32Array(steps * b * h3);
      const dContext = new Float64Array(context.length);
      const dEmbedding = new Float64Array(embedding.length);
      const dBias = new Float64Array(h3);
      let carry: Float32Array = new Float32Array(size); // dL/dh flowing back from step t + 1
      for (let t = steps - 1; t >= 0; t--) {
        const previousState = t === 0 ? h0 : states.subarray((t - 1) * size, t * size);
        const dStep = dHidden.subarray(t * b * h3, (t + 1) * b * h3);
        const direct = backwardStep(t, b, h, upstream, carry, previousState, act, previousIds, promptIndex, dStep, dContext, dEmbedding, dBias);
        const throughKernel = matMulJs(dStep, b, h3, kernelTransposed);
        for (let k = 0; k < size; k++) direct[k] += throughKernel[k];
        carry = direct;
      }
      kernelTransposed.dispose();
      const dInitial = new Float32Array(initial.length);
      for (let s = 0; s < b; s++) {
        const p = promptIndex[s];
        for (let j = 0; j < h; j++) dInitial[p * h + j] += carry[s * h + j];
      }
      // d(kernel) = [h_0; h_1; ...; h_{Lr-1}]^T dHidden as one matmul, with the transpose built here: the
      // backend's transpose kernel costs more than this loop, and the matmul then takes its fast path.
      const rows = steps * b;
      const previousTransposed = new Float32Array(h * rows);
      for (let r = 0; r < rows; r++) {
        const source = r < b ? h0 : states;
        const offset = r < b ? r * h : (r - b) * h;
        for (let j = 0; j < h; j++) previousTransposed[j * rows + r] = source[offset + j];
      }
      const dKernel = tf.tidy(() => tf.matMul(tf.tensor2d(previousTransposed, [h, rows]), tf.tensor2d(dHidden, [rows, h3])));
      return [
        tf.tensor(Float32Array.from(dEmbedding), embeddingT.shape),
        tf.tensor(Float32Array.from(dContext), contextT.shape),
        tf.tensor(dInitial, initialT.shape),
        dKernel,
        tf.tensor(Float32Array.from(dBias), biasT.shape),
      ];
    };
    return { value: value as tf.Tensor, gradFunc };
  });
  return op(inputs.embedding, inputs.contextGates, inputs.initialState, inputs.recurrentKernel, inputs.recurrentBias) as tf.Tensor2D;
}
