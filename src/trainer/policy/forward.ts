/**
 * The policy's forward pass in tfjs (teacher-forced), as pure functions of the parameter tensors:
 *
 * 1. question code q = tanh(M E + b) from the question multi-hot M (bag of words + word-at-position);
 * 2. question-conditioned patch features G = relu(F Wp + q Wc + bp), [P, 64, H];
 * 3. attention scores S = G Wa + F Wd + ba over patches (the direct term lets a slot pick a raw feature
 *    quickly, before the question-conditioned path has learnt): the first `sumSlots` columns are sigmoid gates summed
 *    over patches (soft counts n), the rest softmax weights pooling G;
 * 4. counts mixed m = n Wm + bm (sums and differences of slots) and coded as thermometers
 *    sigmoid(2 (m - k - 1/2)), k = 0..countLevels-1;
 * 5. prompt context c = [q, sum_p G / 8, thermometers, pooled], expanded to sequences by a selector matmul
 *    (the plain sum of G gives every hidden unit a question-conditioned count from the first step on);
 * 6. a GRU decoder (gates r, z, n; h0 = tanh(c Wi + bi), input x_t = onehot(prev) Emb + c Wc + b) and logits
 *    h_t Wo + bo over the non-pad response tokens.
 *
 * Only matmuls without transpose flags, element-wise ops, slices and concats are used: every gradient here
 * has a fast wasm kernel. The ONNX sampler graphs (onnxGraphs.ts) mirror steps 1-6 op for op.
 */
import * as tf from '@tensorflow/tfjs';
import { type PolicyConfig, contextSize, questionFeatureSize } from './config.js';
import { gruRecurrence } from './gru.js';
import type { ParameterTensors } from './parameters.js';

/** Scale of the summed gated patch features (a handful of matching patches gives an O(1) feature). */
export const PATCH_SUM_SCALE = 1 / 8;

/** Slope of the count thermometer units. */
export const COUNT_GAIN = 2;

/** Thresholds k + 1/2 (k = 0..levels-1) of the count thermometer, as [1, 1, levels]. */
export function countThresholds(levels: number): Float32Array {
  return Float32Array.from({ length: levels }, (_, k) => k + 0.5);
}

/** Prompt context [P, C] from patch features [P, patchCount, patchDim] and question multi-hot [P, Wq]. */
export function promptContext(params: ParameterTensors, config: PolicyConfig, patches: tf.Tensor, questions: tf.Tensor): tf.Tensor2D {
  const prompts = questions.shape[0];
  const h = config.hiddenSize;
  const n = config.patchCount;
  const slots = config.sumSlots + config.softmaxSlots;
  const question = tf.tanh(tf.add(tf.matMul(questions.reshape([prompts, questionFeatureSize(config)]), params['question.embedding']), params['question.bias']));
  const condition = tf.add(tf.matMul(question, params['patch.condition']), params['patch.bias']).reshape([prompts, 1, h]);
  const flatPatches = patches.reshape([prompts * n, config.patchDim]);
  const projected = tf.matMul(flatPatches, params['patch.kernel']).reshape([prompts, n, h]);
  const gated = tf.relu(tf.add(projected, condition));
  const direct = tf.add(tf.matMul(flatPatches, params['attention.direct']), params['attention.bias']);
  const scores = tf.add(tf.matMul(gated.reshape([prompts * n, h]), params['attention.kernel']), direct).reshape([prompts, n, slots]);
  const parts: tf.Tensor[] = [question, tf.mul(tf.sum(gated, 1), PATCH_SUM_SCALE)];
  if (config.sumSlots > 0) {
    const gates = tf.sigmoid(tf.slice(scores, [0, 0, 0], [prompts, n, config.sumSlots]));
    const counts = tf.add(tf.matMul(tf.sum(gates, 1), params['count.mix']), params['count.bias']);
    const thresholds = tf.tensor3d(countThresholds(config.countLevels), [1, 1, config.countLevels]);
    const thermometer = tf.sigmoid(tf.mul(tf.sub(counts.reshape([prompts, config.sumSlots, 1]), thresholds), COUNT_GAIN));
    parts.push(thermometer.reshape([prompts, config.sumSlots * config.countLevels]));
  }
  if (config.softmaxSlots > 0) {
    const logits = tf.transpose(tf.slice(scores, [0, 0, config.sumSlots], [prompts, n, config.softmaxSlots]), [0, 2, 1]);
    const weights = tf.softmax(logits); // over patches, [P, A, n]
    parts.push(tf.matMul(weights, gated).reshape([prompts, config.softmaxSlots * h]));
  }
  return tf.concat(parts, 1) as tf.Tensor2D;
}

/** Per-sequence context [B, C]: rows of the prompt context picked by a [B, P] selector (a matmul, not a gather). */
export function expandContext(context: tf.Tensor2D, selector: tf.Tensor2D | null): tf.Tensor2D {
  return selector ? tf.matMul(selector, context) : context;
}

/** Initial GRU state [B, H] and the context's contribution to every step's input gates [B, 3H]. */
export function decoderStart(params: ParameterTensors, context: tf.Tensor2D): { state: tf.Tensor2D; contextGates: tf.Tensor2D } {
  const state = tf.tanh(tf.add(tf.matMul(context, params['decoder.init.kernel']), params['decoder.init.bias'])) as tf.Tensor2D;
  const contextGates = tf.add(tf.matMul(context, params['decoder.context.kernel']), params['decoder.input.bias']) as tf.Tensor2D;
  return { state, contextGates };
}

/** The three column blocks (r, z, n) of a [rows, 3H] weight or a [3H] bias. */
function gateBlocks(weight: tf.Tensor, h: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const [a, b, c] = tf.split(weight, [h, h, h], weight.rank - 1);
  return [a, b, c];
}

/**
 * Teacher-forced logits, TIME-MAJOR [Lr * B, Vr - 1] (row t * B + s scores step t of sequence s), for the
 * time-major previous-token one-hot [Lr * B, Vr]; temperature not applied. The GRU runs with each gate's
 * weights as a separate matmul (the weights are split once, not the activations at every step): the wasm
 * backend's split/unstack of activations is slow, and these matmuls are on its fast path.
 */
export function decoderLogits(params: ParameterTensors, config: PolicyConfig, context: tf.Tensor2D, previous: tf.Tensor2D, responseLength: number): tf.Tensor2D {
  const h = config.hiddenSize;
  const sequences = context.shape[0];
  const { state: initial, contextGates } = decoderStart(params, context);
  const [embR, embZ, embN] = gateBlocks(params['decoder.embedding'], h);
  const [ctxR, ctxZ, ctxN] = gateBlocks(contextGates, h);
  const [recR, recZ, recN] = gateBlocks(params['decoder.recurrent.kernel'], h);
  const [biasR, biasZ, biasN] = gateBlocks(params['decoder.recurrent.bias'], h);
  // Input gates of every step at once: [Lr, B, H] per gate, plus the context term (same at every step).
  const inputs = (embedding: tf.Tensor, contextTerm: tf.Tensor) =>
    tf.add(tf.matMul(previous, embedding).reshape([responseLength, sequences, h]), contextTerm.reshape([1, sequences, h]));
  const stepsR = tf.unstack(inputs(embR, tf.add(ctxR, biasR)), 0);
  const stepsZ = tf.unstack(inputs(embZ, tf.add(ctxZ, biasZ)), 0);
  const stepsN = tf.unstack(inputs(embN, ctxN), 0);
  let state: tf.Tensor = initial;
  const states: tf.Tensor[] = [];
  for (let t = 0; t < responseLength; t++) {
    const reset = tf.sigmoid(tf.add(stepsR[t], tf.matMul(state, recR)));
    const update = tf.sigmoid(tf.add(stepsZ[t], tf.matMul(state, recZ)));
    const candidate = tf.tanh(tf.add(stepsN[t], tf.mul(reset, tf.add(tf.matMul(state, recN), biasN))));
    // h' = (1 - z) n + z h = n + z (h - n)
    state = tf.add(candidate, tf.mul(update, tf.sub(state, candidate)));
    states.push(state);
  }
  const hidden = tf.concat(states, 0); // [Lr * B, H], time-major
  return tf.add(tf.matMul(hidden, params['output.kernel']), params['output.bias']) as tf.Tensor2D;
}

/**
 * The same logits as `decoderLogits`, TIME-MAJOR [Lr * B, Vr - 1], computed from the PER-PROMPT context
 * [P, C]: the initial state and context gates are computed once per prompt (not once per sequence), and the
 * recurrence is one op with a hand-written gradient (gru.ts). `previousIds` are the time-major previous
 * tokens [Lr * B]; `promptIndex` maps sequences to prompt rows (null: sequence s uses prompt s).
 */
export function decoderLogitsFused(
  params: ParameterTensors,
  promptContext: tf.Tensor2D,
  previousIds: Int32Array,
  promptIndex: Int32Array | null,
  responseLength: number,
): tf.Tensor2D {
  const sequences = previousIds.length / responseLength;
  const { state, contextGates } = decoderStart(params, promptContext);
  const hidden = gruRecurrence(
    {
      embedding: params['decoder.embedding'],
      contextGates,
      initialState: state,
      recurrentKernel: params['decoder.recurrent.kernel'],
      recurrentBias: params['decoder.recurrent.bias'],
    },
    { previousIds, promptIndex, sequences, responseLength },
  );
  return tf.add(tf.matMul(hidden, params['output.kernel']), params['output.bias']) as tf.Tensor2D;
}

/** Context width, re-exported for callers that size buffers. */
export { contextSize };
