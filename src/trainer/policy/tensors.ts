/**
 * Turns a PolicyBatch into the tfjs tensors the forward pass and the losses use, and computes teacher-forced
 * per-token log-probs and entropies of the temperature-scaled distribution (masked to 0 on padding).
 */
import * as tf from '@tensorflow/tfjs';
import { type PolicyBatch, checkBatch, previousTokenIds, promptSelector, questionFeatures, responseMask, targetOneHot } from './batch.js';
import { type PolicyConfig, outputSize, questionFeatureSize } from './config.js';
import { decoderLogits, decoderLogitsFused, expandContext, promptContext } from './forward.js';
import type { ParameterTensors } from './parameters.js';

export interface BatchTensors {
  prompts: number;
  sequences: number;
  responseLength: number;
  patches: tf.Tensor3D;
  questions: tf.Tensor2D;
  /** Prompt row of each sequence [B], or null when sequence s uses prompt s. */
  promptIndex: Int32Array | null;
  /** Time-major [Lr * B] previous-token ids (0 = BOS at step 0). */
  previousIds: Int32Array;
  /** Time-major [Lr * B, Vr - 1] target one-hot. */
  targets: tf.Tensor2D;
  /** [B, Lr] 1 on valid response tokens. */
  mask: tf.Tensor2D;
}

function isIdentity(index: Int32Array | undefined, prompts: number): boolean {
  if (!index) return true;
  if (index.length !== prompts) return false;
  return index.every((p, s) => p === s);
}

/** Validates the batch and uploads its encodings. Dispose with `disposeBatchTensors`. */
export function batchTensors(batch: PolicyBatch, config: PolicyConfig): BatchTensors {
  const { prompts, sequences } = checkBatch(batch, config);
  const lr = batch.responseLength;
  return {
    prompts,
    sequences,
    responseLength: lr,
    patches: tf.tensor3d(batch.patches, [prompts, config.patchCount, config.patchDim]),
    questions: tf.tensor2d(questionFeatures(batch.questions, batch.questionLength, config), [prompts, questionFeatureSize(config)]),
    promptIndex: isIdentity(batch.promptIndex, prompts) ? null : Int32Array.from(batch.promptIndex as Int32Array),
    previousIds: previousTokenIds(batch.responses, lr),
    targets: tf.tensor2d(targetOneHot(batch.responses, lr, config.responseVocabSize), [sequences * lr, outputSize(config)]),
    mask: tf.tensor2d(responseMask(batch.responses, lr), [sequences, lr]),
  };
}

export function disposeBatchTensors(tensors: BatchTensors): void {
  tf.dispose([tensors.patches, tensors.questions, tensors.targets, tensors.mask]);
}

export interface TokenStatistics {
  /** log pi(token) under logits / temperature, [B, Lr], 0 on padding. */
  tokenLogprobs: tf.Tensor2D;
  /** Entropy of softmax(logits / temperature), [B, Lr], 0 on padding. */
  entropies: tf.Tensor2D;
}

/**
 * Time-major logits [Lr * B, Vr - 1]. 'fused' (the default) runs the recurrence as one op with a hand-written
 * gradient; 'reference' is the plain tfjs formulation (per-sequence context, autodiff through every GRU op),
 * kept to check the fused path against.
 */
function teacherForcedLogits(params: ParameterTensors, config: PolicyConfig, tensors: BatchTensors, decoder: 'fused' | 'reference' = 'fused'): tf.Tensor2D {
  const prompt = promptContext(params, config, tensors.patches, tensors.questions);
  if (decoder === 'fused') return decoderLogitsFused(params, config, prompt, tensors.previousIds, tensors.promptIndex, tensors.responseLength);
  const { sequences, prompts, responseLength } = tensors;
  const selector = tensors.promptIndex ? tf.tensor2d(promptSelector(tensors.promptIndex, prompts), [sequences, prompts]) : null;
  const previousIds = tensors.previousIds;
  // Rebuild the batch-major responses' one-hot from the time-major ids (row t * B + s).
  const vocab = config.responseVocabSize;
  const previous = new Float32Array(previousIds.length * vocab);
  previousIds.forEach((id, row) => (previous[row * vocab + id] = 1));
  return decoderLogits(params, config, expandContext(prompt.context, selector), expandContext(prompt.slots, selector), tf.tensor2d(previous, [sequences * responseLength, vocab]), responseLength);
}

/** Teacher-forced token log-probs and entropies (differentiable). */
export function tokenStatistics(params: ParameterTensors, config: PolicyConfig, tensors: BatchTensors, temperature: number, decoder: 'fused' | 'reference' = 'fused'): TokenStatistics {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const logits = teacherForcedLogits(params, config, tensors, decoder);
  const logProbabilities = tf.logSoftmax(temperature === 1 ? logits : tf.div(logits, temperature));
  // Rows are time-major (t * B + s): reshape to [Lr, B] and transpose to the batch-major [B, Lr].
  const batchMajor = (values: tf.Tensor) => tf.transpose(values.reshape([tensors.responseLength, tensors.sequences]));
  const tokenLogprobs = tf.mul(batchMajor(tf.sum(tf.mul(logProbabilities, tensors.targets), 1)), tensors.mask) as tf.Tensor2D;
  const entropy = batchMajor(tf.neg(tf.sum(tf.mul(tf.exp(logProbabilities), logProbabilities), 1)));
  const entropies = tf.mul(entropy, tensors.mask) as tf.Tensor2D;
  return { tokenLogprobs, entropies };
}
