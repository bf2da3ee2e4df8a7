/**
 * The policy's input batch and its JS-side encoding. A batch holds P prompts (image patch features and
 * question ids) and B sequences (response ids), with `promptIndex` mapping each sequence to its prompt, so
 * the G rollouts of a prompt share one image/question encoding. Without `promptIndex`, P = B.
 * The encodings here (question multi-hot, previous-token one-hot, targets, mask) are built in JS so tfjs and
 * the ONNX sampler see identical inputs and need no gather (whose gradient the wasm backend lacks).
 */
import { type PolicyConfig, questionCodeSize, questionFeatureSize } from './config.js';

export interface PolicyBatch {
  /** Patch features, float32 [P, patchCount, patchDim]. */
  patches: Float32Array;
  /** Question ids, [P, questionLength], 0 = pad. */
  questions: Int32Array;
  questionLength: number;
  /** Response ids, [B, responseLength], 0 = pad (a response ends at its first 0). */
  responses: Int32Array;
  responseLength: number;
  /** Prompt row of each sequence, [B]; default: sequence s uses prompt s. */
  promptIndex?: Int32Array;
}

export interface BatchShape {
  prompts: number;
  sequences: number;
}

/** Checks sizes and ids; returns P and B. */
export function checkBatch(batch: PolicyBatch, config: PolicyConfig): BatchShape {
  const { questionLength: lq, responseLength: lr } = batch;
  if (!Number.isInteger(lq) || lq < 1 || lq > config.maxQuestionLength) {
    throw new RangeError(`batch: questionLength must be 1..${config.maxQuestionLength}, got ${lq}`);
  }
  if (!Number.isInteger(lr) || lr < 1 || lr > config.maxResponseLength) {
    throw new RangeError(`batch: responseLength must be 1..${config.maxResponseLength}, got ${lr}`);
  }
  if (batch.questions.length % lq !== 0) throw new RangeError(`batch: questions length ${batch.questions.length} is not a multiple of ${lq}`);
  const prompts = batch.questions.length / lq;
  const perPrompt = config.patchCount * config.patchDim;
  if (batch.patches.length !== prompts * perPrompt) {
    throw new RangeError(`batch: patches hold ${batch.patches.length} floats, expected ${prompts} x ${config.patchCount} x ${config.patchDim}`);
  }
  if (batch.responses.length % lr !== 0) throw new RangeError(`batch: responses length ${batch.responses.length} is not a multiple of ${lr}`);
  const sequences = batch.responses.length / lr;
  if (batch.promptIndex) {
    if (batch.promptIndex.length !== sequences) throw new RangeError(`batch: promptIndex has ${batch.promptIndex.length} entries for ${sequences} sequences`);
    for (let s = 0; s < sequences; s++) {
      const p = batch.promptIndex[s];
      if (!Number.isInteger(p) || p < 0 || p >= prompts) throw new RangeError(`batch: promptIndex[${s}] = ${p} is not a prompt row (0..${prompts - 1})`);
    }
  } else if (sequences !== prompts) {
    throw new RangeError(`batch: ${sequences} responses for ${prompts} prompts needs a promptIndex`);
  }
  for (let i = 0; i < batch.questions.length; i++) {
    const id = batch.questions[i];
    if (!Number.isInteger(id) || id < 0 || id >= config.questionVocabSize) throw new RangeError(`batch: questions[${i}] = ${id} is outside 0..${config.questionVocabSize - 1}`);
  }
  for (let i = 0; i < batch.responses.length; i++) {
    const id = batch.responses[i];
    if (!Number.isInteger(id) || id < 0 || id >= config.responseVocabSize) throw new RangeError(`batch: responses[${i}] = ${id} is outside 0..${config.responseVocabSize - 1}`);
  }
  return { prompts, sequences };
}

/**
 * Question features [P, Vq * (Lmax + 1) + K * Vq]. First the question code's multi-hot: for each non-pad
 * token t at position j, a 1 at t (bag of words) and a 1 at Vq * (1 + j) + t (word at a position, so
 * "red - blue" differs from "blue - red"). Then one bag of words per term clause k = 0..K-1 (K = sumSlots):
 * the question is cut before each separator token (config.separatorTokens, e.g. 'plus', 'minus', 'than'),
 * the separator opening clause k belongs to it, and clauses past the K-th join the last one.
 */
export function questionFeatures(questions: Int32Array, questionLength: number, config: PolicyConfig): Float32Array {
  const width = questionFeatureSize(config);
  const vocab = config.questionVocabSize;
  const clauses = questionCodeSize(config);
  const separators = new Set(config.separatorTokens);
  const prompts = questions.length / questionLength;
  const out = new Float32Array(prompts * width);
  for (let p = 0; p < prompts; p++) {
    let clause = 0;
    for (let j = 0; j < questionLength; j++) {
      const id = questions[p * questionLength + j];
      if (id === 0) continue;
      out[p * width + id] += 1;
      out[p * width + vocab * (1 + j) + id] += 1;
      if (separators.has(id) && j > 0) clause = Math.min(clause + 1, config.sumSlots - 1);
      out[p * width + clauses + clause * vocab + id] += 1;
    }
  }
  return out;
}

/**
 * Each step's previous token id, TIME-MAJOR [Lr * B] (index t * B + s): BOS (id 0) at step 0, else the
 * response's token. Time-major rows make each decoder step a contiguous block.
 */
export function previousTokenIds(responses: Int32Array, responseLength: number): Int32Array {
  const sequences = responses.length / responseLength;
  const out = new Int32Array(responses.length);
  for (let s = 0; s < sequences; s++) {
    for (let t = 1; t < responseLength; t++) out[t * sequences + s] = responses[s * responseLength + t - 1];
  }
  return out;
}

/** One-hot of each step's target class (token - 1), TIME-MAJOR [Lr * B, Vr - 1], zero rows for padding. */
export function targetOneHot(responses: Int32Array, responseLength: number, vocab: number): Float32Array {
  const classes = vocab - 1;
  const sequences = responses.length / responseLength;
  const out = new Float32Array(responses.length * classes);
  for (let s = 0; s < sequences; s++) {
    for (let t = 0; t < responseLength; t++) {
      const token = responses[s * responseLength + t];
      if (token > 0) out[(t * sequences + s) * classes + token - 1] = 1;
    }
  }
  return out;
}

/** 1 for a valid response token, 0 for padding (and everything after the first pad): [B * Lr]. */
export function responseMask(responses: Int32Array, responseLength: number): Float32Array {
  const out = new Float32Array(responses.length);
  for (let s = 0; s < responses.length / responseLength; s++) {
    for (let j = 0; j < responseLength; j++) {
      const i = s * responseLength + j;
      if (responses[i] === 0) break;
      out[i] = 1;
    }
  }
  return out;
}

/** Prompt selection matrix [B, P] (row s has a 1 at its prompt), used to expand per-prompt context by matmul. */
export function promptSelector(promptIndex: Int32Array, prompts: number): Float32Array {
  const out = new Float32Array(promptIndex.length * prompts);
  for (let s = 0; s < promptIndex.length; s++) out[s * prompts + promptIndex[s]] = 1;
  return out;
}
