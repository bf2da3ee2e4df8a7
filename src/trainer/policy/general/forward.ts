/**
 * The general policy's teacher-forced forward pass in tfjs, on the grouped layout (layout.ts): one stream of
 * R = Lq + G Lr positions per prompt row. Pure functions of the weight tensors; the ONNX graphs (onnxGraphs.ts)
 * compute the same thing position by position with a KV cache.
 *
 * - patch memory M = LN_patch(patches) W_p + b_p + patch.position;
 * - stream x: question.embedding of the (padded) question, then per block response.embedding of the
 *   previous response token (0 = BOS at t = 0); text.position by position in the per-sequence stream;
 * - per layer (pre-LN): x += SelfAttn(LN x) (causal within each sequence's stream, question pads masked as
 *   keys; computed block by block, see selfAttention), x += CrossAttn(LN x, M), x += W_down GELU_tanh(W_up LN x);
 * - logits at the decoder positions: LN_final(x) W_out + b_out (temperature not applied).
 * Embeddings are one-hot matmuls: the wasm backend has no gradient for gather.
 *
 * Speed note (wasm backend): plain [rows, d] x [d, n] matmuls run on XNNPACK, but batched matmuls (the
 * attention's per-prompt, per-head products) run on a plain loop several times slower; with G = 1 (the
 * warm-up) the cross-attention is most of a step's time.
 */
import * as tf from '@tensorflow/tfjs';
import { type GeneralConfig, LAYER_NORM_EPSILON, headWidth, outputClasses } from './config.js';
import { MASKED } from './layout.js';

export type GeneralTensors = Record<string, tf.Tensor>;

export interface StreamInputs {
  prompts: number;
  group: number;
  responseLength: number;
  /** [P, patchCount, patchDim]. */
  patches: tf.Tensor;
  /** [P * Lq, Vq] one-hot of the padded questions. */
  questionOneHot: tf.Tensor;
  /** [B * Lr, Vr] one-hot of each decoder position's input token, batch-major (s = p G + g). */
  decoderOneHot: tf.Tensor;
  /** [P, 1, 1, Lq]: MASKED at pad question keys, 0 elsewhere. */
  keyBias: tf.Tensor;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function layerNorm(x: tf.Tensor, scale: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const axis = x.rank - 1;
  const mean = tf.mean(x, axis, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), axis, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON))), scale), bias);
}

/** GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function geluTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

function dense(w: GeneralTensors, prefix: string, x: tf.Tensor): tf.Tensor {
  return tf.add(tf.matMul(x as tf.Tensor2D, w[`${prefix}.kernel`] as tf.Tensor2D), w[`${prefix}.bias`]);
}

/** softmax(scores) of [.., keys] (already scaled and biased) times values: plain tfjs ops. */
function mix(scores: tf.Tensor, values: tf.Tensor): tf.Tensor {
  return tf.matMul(tf.softmax(scores) as tf.Tensor4D, values as tf.Tensor4D);
}

/** Additive causal mask [n, n]: 0 at j <= i, MASKED above the diagonal. */
function causalMask(n: number): tf.Tensor {
  const values = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) values[i * n + j] = MASKED;
  return tf.tensor2d(values, [n, n]);
}

/**
 * Self-attention of the grouped stream, block by block (the pairs the layout of layout.ts allows, without
 * computing the masked pairs): the question positions attend causally among themselves (pad keys masked);
 * each decoder block attends to the question's keys and causally to its own keys, one softmax over both.
 * `q`, `k`, `v`: [P, R, d] projections. Returns the attention output [P, R, d] before the o projection.
 */
function selfAttention(config: GeneralConfig, inputs: StreamInputs, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const { prompts: p, group: g, responseLength: lr } = inputs;
  const lq = config.maxQuestionLength;
  const h = config.heads;
  const dh = headWidth(config);
  const d = config.d;
  const scale = 1 / Math.sqrt(dh);
  const question = (x: tf.Tensor) => tf.slice(x, [0, 0, 0], [p, lq, d]);
  const decoder = (x: tf.Tensor) => tf.slice(x, [0, lq, 0], [p, g * lr, d]);
  const heads = (x: tf.Tensor, rows: number, length: number, perm: number[]) => tf.transpose(tf.reshape(x, [rows, length, h, dh]), perm);
  const [plain, keysT] = [[0, 2, 1, 3], [0, 2, 3, 1]];
  const questionKeys = heads(question(k), p, lq, keysT); // [P, h, dh, Lq]
  const questionValues = heads(question(v), p, lq, plain); // [P, h, Lq, dh]
  // Question positions.
  const questionScores = tf.add(tf.add(tf.mul(tf.matMul(heads(question(q), p, lq, plain) as tf.Tensor4D, questionKeys as tf.Tensor4D), scale), causalMask(lq)), inputs.keyBias);
  const questionOut = tf.reshape(tf.transpose(mix(questionScores, questionValues), plain), [p, lq, d]);
  // Decoder positions: scores against the question keys [P, h, G Lr, Lq] -> per block [P G, h, Lr, Lq].
  const decoderQueries = decoder(q);
  const toBlocks = (x: tf.Tensor, width: number) => tf.reshape(tf.transpose(tf.reshape(x, [p, h, g, lr, width]), [0, 2, 1, 3, 4]), [p * g, h, lr, width]);
  const fromBlocks = (x: tf.Tensor, width: number) => tf.reshape(tf.transpose(tf.reshape(x, [p, g, h, lr, width]), [0, 2, 1, 3, 4]), [p, h, g * lr, width]);
  const onQuestion = tf.add(tf.mul(tf.matMul(heads(decoderQueries, p, g * lr, plain) as tf.Tensor4D, questionKeys as tf.Tensor4D), scale), inputs.keyBias);
  const blockQueries = heads(decoderQueries, p * g, lr, plain); // [P G, h, Lr, dh]
  const onOwn = tf.add(tf.mul(tf.matMul(blockQueries as tf.Tensor4D, heads(decoder(k), p * g, lr, keysT) as tf.Tensor4D), scale), causalMask(lr));
  const weights = tf.softmax(tf.concat([toBlocks(onQuestion, lq), onOwn], 3));
  const [questionWeights, ownWeights] = tf.split(weights, [lq, lr], 3);
  const fromQuestion = tf.matMul(fromBlocks(questionWeights, lq) as tf.Tensor4D, questionValues as tf.Tensor4D); // [P, h, G Lr, dh]
  const fromOwn = fromBlocks(tf.matMul(ownWeights as tf.Tensor4D, heads(decoder(v), p * g, lr, plain) as tf.Tensor4D), dh);
  const decoderOut = tf.reshape(tf.transpose(tf.add(fromQuestion, fromOwn), plain), [p, g * lr, d]);
  return tf.concat([questionOut, decoderOut], 1);
}

/** Cross-attention of the stream rows [P * R, d] to the patch memory rows [P * N, d], before the o projection: [P * R, d]. */
function crossAttention(w: GeneralTensors, prefix: string, config: GeneralConfig, prompts: number, length: number, queries: tf.Tensor, memory: tf.Tensor): tf.Tensor {
  const n = config.patchCount;
  const split = (x: tf.Tensor, rows: number, perm: number[]) => tf.transpose(tf.reshape(x, [prompts, rows, config.heads, headWidth(config)]), perm);
  const q = split(dense(w, `${prefix}.q`, queries), length, [0, 2, 1, 3]);
  const k = split(dense(w, `${prefix}.k`, memory), n, [0, 2, 3, 1]);
  const v = split(dense(w, `${prefix}.v`, memory), n, [0, 2, 1, 3]);
  const mixed = mix(tf.mul(tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D), 1 / Math.sqrt(headWidth(config))), v);
  return tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [prompts * length, config.d]);
}

/** Patch memory rows [P * N, d]. */
function patchMemory(w: GeneralTensors, config: GeneralConfig, patches: tf.Tensor, prompts: number): tf.Tensor {
  const normed = layerNorm(tf.reshape(patches, [prompts * config.patchCount, config.patchDim]), w['patch.norm.scale'], w['patch.norm.bias']);
  const projected = tf.reshape(dense(w, 'patch.proj', normed), [prompts, config.patchCount, config.d]);
  return tf.reshape(tf.add(projected, w['patch.position']), [prompts * config.patchCount, config.d]);
}

/** Position embeddings of the grouped stream [R, d]: the question's, then Lr decoder positions repeated G times. */
function streamPositions(w: GeneralTensors, config: GeneralConfig, group: number, responseLength: number): tf.Tensor {
  const lq = config.maxQuestionLength;
  const question = tf.slice(w['text.position'], [0, 0], [lq, config.d]);
  const decoder = tf.slice(w['text.position'], [lq, 0], [responseLength, config.d]);
  return tf.concat([question, tf.tile(decoder, [group, 1])], 0);
}

/** Teacher-forced logits [B * Lr, Vr - 1], batch-major (row s Lr + t), temperature not applied. */
export function streamLogits(w: GeneralTensors, config: GeneralConfig, inputs: StreamInputs): tf.Tensor2D {
  const { prompts, group, responseLength } = inputs;
  const d = config.d;
  const lq = config.maxQuestionLength;
  const length = lq + group * responseLength;
  const memory = patchMemory(w, config, inputs.patches, prompts);
  const question = tf.reshape(tf.matMul(inputs.questionOneHot as tf.Tensor2D, w['question.embedding'] as tf.Tensor2D), [prompts, lq, d]);
  const decoder = tf.reshape(tf.matMul(inputs.decoderOneHot as tf.Tensor2D, w['response.embedding'] as tf.Tensor2D), [prompts, group * responseLength, d]);
  const stream = tf.add(tf.concat([question, decoder], 1), streamPositions(w, config, group, responseLength));
  let x = tf.reshape(stream, [prompts * length, d]);
  for (let i = 0; i < config.layers; i++) {
    const selfIn = layerNorm(x, w[`layer${i}.self.norm.scale`], w[`layer${i}.self.norm.bias`]);
    const rows = (projection: string) => tf.reshape(dense(w, `layer${i}.self.${projection}`, selfIn), [prompts, length, d]);
    const attended = selfAttention(config, inputs, rows('q'), rows('k'), rows('v'));
    x = tf.add(x, dense(w, `layer${i}.self.o`, tf.reshape(attended, [prompts * length, d])));
    const crossIn = layerNorm(x, w[`layer${i}.cross.norm.scale`], w[`layer${i}.cross.norm.bias`]);
    x = tf.add(x, dense(w, `layer${i}.cross.o`, crossAttention(w, `layer${i}.cross`, config, prompts, length, crossIn, memory)));
    const mlpIn = layerNorm(x, w[`layer${i}.mlp.norm.scale`], w[`layer${i}.mlp.norm.bias`]);
    x = tf.add(x, dense(w, `layer${i}.mlp.down`, geluTanh(dense(w, `layer${i}.mlp.up`, mlpIn))));
  }
  const decoderRows = tf.slice(tf.reshape(x, [prompts, length, d]), [0, lq, 0], [prompts, group * responseLength, d]);
  const normed = layerNorm(tf.reshape(decoderRows, [prompts * group * responseLength, d]), w['final.norm.scale'], w['final.norm.bias']);
  const logits = dense(w, 'output', normed);
  return tf.reshape(logits, [prompts * group * responseLength, outputClasses(config)]) as tf.Tensor2D;
}
