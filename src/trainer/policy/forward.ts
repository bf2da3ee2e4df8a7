/**
 * The policy's forward pass in tfjs (teacher-forced), as pure functions of the parameter tensors:
 *
 * 1. question code q = tanh(M E + b) from the question multi-hot M (bag of words + word-at-position);
 * 2. term gates: for each term clause k (the question cut at its separators, batch.ts), the sum of its
 *    words' vectors u_k and biases b_k; gate logits per patch s_pk = GATE_GAIN (F_p u_k + F_p v + b_k) + o_k
 *    (v: shared objectness vector, o_k: a per-slot offset, -4 at init so every gate starts nearly closed);
 *    term counts n_k = sum_p sigmoid(s_pk) (one object per patch, so a count is a sum of gates);
 * 3. result r = sum_k w_k n_k with w_k = (words of clause k) . W_r + b_r[k] (learns +1 for 'plus', -1 for
 *    'minus' / 'than'; starts as n_1), and comparison units sigmoid(COMPARE_GAIN (+-(n_1 - n_2) - 1/2));
 * 4. prompt context c = [q, comparison units]; the count slots x = [n_1 .. n_K, r] go to the pointer;
 * 5. a GRU decoder (gates r, z, n; h0 = tanh(c Wi + bi), input x_t = onehot(prev) Emb + c Wc + b);
 * 6. logits h_t Wo + bo plus the count pointer: with slot weights a = softplus(h_t Wa + ba), the number
 *    token for j gets -sum_k a_k (x_k - j)^2, so the decoder writes a count by choosing which slot to read
 *    (term 1 first, then term 2, ..., the result after '='), and the log-likelihood's gradient moves every
 *    count towards its target from any distance (no saturated count code).
 *
 * The ONNX sampler graphs (onnxGraphs.ts) mirror these steps op for op.
 */
import * as tf from '@tensorflow/tfjs';
import { type PolicyConfig, contextSize, outputSize, questionCodeSize } from './config.js';
import { gruRecurrence } from './gru.js';
import type { ParameterTensors } from './parameters.js';

/** Gain of the term gates' learnt part (a larger effective learning rate for the gates). */
export const GATE_GAIN = 4;

/** Slope of the comparison units. */
export const COMPARE_GAIN = 4;

/**
 * The pointer's fixed map [3, classes] from the moments (sum a x^2, sum a x, sum a) of the slot weights a
 * and counts x to logits: -(sum a x^2) + 2 j (sum a x) - j^2 (sum a) = -sum_k a_k (x_k - j)^2 for the
 * number token of j, 0 for every other token.
 */
export function pointerMatrix(config: PolicyConfig): Float32Array {
  const classes = outputSize(config);
  const out = new Float32Array(3 * classes);
  for (let j = 0; j < config.countLevels; j++) {
    const c = config.numberToken + j - 1;
    if (c < 0 || c >= classes) continue;
    out[c] = -1;
    out[classes + c] = 2 * j;
    out[2 * classes + c] = -j * j;
  }
  return out;
}

export interface PromptOutputs {
  /** Decoder context [P, C]. */
  context: tf.Tensor2D;
  /** Count slots [P, K + 1]: the term counts, then the result. */
  slots: tf.Tensor2D;
}

/** Context and count slots from patch features [P, patchCount, patchDim] and question features [P, Wq]. */
export function promptContext(params: ParameterTensors, config: PolicyConfig, patches: tf.Tensor, questions: tf.Tensor): PromptOutputs {
  const prompts = questions.shape[0];
  const n = config.patchCount;
  const d = config.patchDim;
  const terms = config.sumSlots;
  const vocab = config.questionVocabSize;
  const codeWidth = questionCodeSize(config);
  const code = tf.slice(questions, [0, 0], [prompts, codeWidth]);
  const clauses = tf.slice(questions, [0, codeWidth], [prompts, terms * vocab]).reshape([prompts * terms, vocab]);
  const question = tf.tanh(tf.add(tf.matMul(code, params['question.embedding']), params['question.bias']));
  const directions = tf.transpose(tf.matMul(clauses, params['term.embedding']).reshape([prompts, terms, d]), [0, 2, 1]); // [P, D, K]
  const matches = tf.matMul(patches.reshape([prompts, n, d]), directions); // [P, n, K]
  const objectness = tf.matMul(patches.reshape([prompts * n, d]), params['term.objectness']).reshape([prompts, n, 1]);
  const clauseBias = tf.matMul(clauses, params['term.bias']).reshape([prompts, 1, terms]);
  const logits = tf.add(tf.mul(tf.add(tf.add(matches, objectness), clauseBias), GATE_GAIN), params['term.offset']);
  const counts = tf.sum(tf.sigmoid(logits), 1); // [P, K]
  const weights = tf.add(tf.matMul(clauses, params['result.kernel']).reshape([prompts, terms]), params['result.bias']);
  const result = tf.sum(tf.mul(counts, weights), 1, true); // [P, 1]
  const difference = tf.sub(tf.slice(counts, [0, 0], [prompts, 1]), tf.slice(counts, [0, 1], [prompts, 1]));
  const comparison = tf.sigmoid(tf.mul(tf.sub(tf.concat([difference, tf.neg(difference)], 1), 0.5), COMPARE_GAIN));
  return { context: tf.concat([question, comparison], 1) as tf.Tensor2D, slots: tf.concat([counts, result], 1) as tf.Tensor2D };
}

/**
 * Logits [R, Vr - 1] from decoder states [R, H] and each row's count slots [R, K + 1]: the output layer plus
 * the count pointer (step 6 above).
 */
function outputLogits(params: ParameterTensors, config: PolicyConfig, hidden: tf.Tensor2D, slots: tf.Tensor2D): tf.Tensor2D {
  const base = tf.add(tf.matMul(hidden, params['output.kernel']), params['output.bias']);
  const weights = tf.softplus(tf.add(tf.matMul(hidden, params['pointer.kernel']), params['pointer.bias']));
  const weighted = tf.mul(weights, slots);
  const moments = tf.concat([tf.sum(tf.mul(weighted, slots), 1, true), tf.sum(weighted, 1, true), tf.sum(weights, 1, true)], 1);
  const map = tf.tensor2d(pointerMatrix(config), [3, outputSize(config)]);
  return tf.add(base, tf.matMul(moments, map)) as tf.Tensor2D;
}

/** Rows of per-prompt values [P, X] for every time-major row t * B + s of the decoder: [Lr * B, X]. */
function timeMajorRows(values: tf.Tensor2D, promptIndex: Int32Array | null, sequences: number, responseLength: number): tf.Tensor2D {
  const prompts = values.shape[0];
  const selector = new Float32Array(responseLength * sequences * prompts);
  for (let t = 0; t < responseLength; t++) {
    for (let s = 0; s < sequences; s++) selector[(t * sequences + s) * prompts + (promptIndex ? promptIndex[s] : s)] = 1;
  }
  return tf.matMul(tf.tensor2d(selector, [responseLength * sequences, prompts]), values);
}

/** Per-sequence context [B, C]: rows of the prompt context picked by a [B, P] selector (a matmul, not a gather). */
export function expandContext(context: tf.Tensor2D, selector: tf.Tensor2D | null): tf.Tensor2D {
  return selector ? tf.matMul(selector, context) : context;
}

/** Initial GRU state [B, H] and the context's contribution to every step's input gates [B, 3H]. */
function decoderStart(params: ParameterTensors, context: tf.Tensor2D): { state: tf.Tensor2D; contextGates: tf.Tensor2D } {
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
export function decoderLogits(params: ParameterTensors, config: PolicyConfig, context: tf.Tensor2D, slots: tf.Tensor2D, previous: tf.Tensor2D, responseLength: number): tf.Tensor2D {
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
  const hidden = tf.concat(states, 0) as tf.Tensor2D; // [Lr * B, H], time-major
  return outputLogits(params, config, hidden, tf.concat(Array.from({ length: responseLength }, () => slots), 0) as tf.Tensor2D);
}

/**
 * The same logits as `decoderLogits`, TIME-MAJOR [Lr * B, Vr - 1], computed from the PER-PROMPT context
 * [P, C] and count slots: the initial state and context gates are computed once per prompt (not once per sequence), and the
 * recurrence is one op with a hand-written gradient (gru.ts). `previousIds` are the time-major previous
 * tokens [Lr * B]; `promptIndex` maps sequences to prompt rows (null: sequence s uses prompt s).
 */
export function decoderLogitsFused(
  params: ParameterTensors,
  config: PolicyConfig,
  prompt: PromptOutputs,
  previousIds: Int32Array,
  promptIndex: Int32Array | null,
  responseLength: number,
): tf.Tensor2D {
  const sequences = previousIds.length / responseLength;
  const { state, contextGates } = decoderStart(params, prompt.context);
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
  return outputLogits(params, config, hidden, timeMajorRows(prompt.slots, promptIndex, sequences, responseLength));
}

/** Context width, re-exported for callers that size buffers. */
export { contextSize };
