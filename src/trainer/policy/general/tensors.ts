/**
 * A PolicyBatch as the general policy's tfjs inputs (grouped layout, one-hot tokens, masks), and the
 * teacher-forced per-token log-probs and entropies of the temperature-scaled distribution.
 */
import * as tf from '@tensorflow/tfjs';
import { type PolicyBatch, checkBatch, responseMask } from '../batch.js';
import type { PolicyConfig } from '../config.js';
import { type GeneralConfig, outputClasses } from './config.js';
import { type GeneralTensors, type StreamInputs, streamLogits } from './forward.js';
import { decoderInputs, groupPrompts, oneHot, questionKeyBias, targetClasses } from './layout.js';

export interface GeneralBatchTensors {
  inputs: StreamInputs;
  sequences: number;
  responseLength: number;
  /** [B * Lr, Vr - 1] target one-hot, batch-major. */
  targets: tf.Tensor2D;
  /** [B, Lr] 1 on valid response tokens. */
  mask: tf.Tensor2D;
  /** The mask's values (for loss weights and token counts). */
  maskValues: Float32Array;
}

/** Validates the batch (shapes and ids against the policy's shape) and uploads it. Dispose with `disposeGeneralBatch`. */
export function generalBatchTensors(batch: PolicyBatch, config: GeneralConfig): GeneralBatchTensors {
  // checkBatch reads only the shape fields that GeneralConfig shares with PolicyConfig.
  const { sequences } = checkBatch(batch, config as unknown as PolicyConfig);
  const lr = batch.responseLength;
  const grouped = groupPrompts(config, batch, batch.promptIndex);
  const maskValues = responseMask(batch.responses, lr);
  return {
    inputs: {
      prompts: grouped.prompts,
      group: grouped.group,
      responseLength: lr,
      patches: tf.tensor3d(grouped.patches, [grouped.prompts, config.patchCount, config.patchDim]),
      questionOneHot: tf.tensor2d(oneHot(grouped.questions, config.questionVocabSize), [grouped.questions.length, config.questionVocabSize]),
      decoderOneHot: tf.tensor2d(oneHot(decoderInputs(batch.responses, lr), config.responseVocabSize), [batch.responses.length, config.responseVocabSize]),
      keyBias: tf.tensor4d(questionKeyBias(config, grouped), [grouped.prompts, 1, 1, config.maxQuestionLength]),
    },
    sequences,
    responseLength: lr,
    targets: tf.tensor2d(targetClasses(batch.responses, outputClasses(config)), [batch.responses.length, outputClasses(config)]),
    mask: tf.tensor2d(maskValues, [sequences, lr]),
    maskValues,
  };
}

export function disposeGeneralBatch(tensors: GeneralBatchTensors): void {
  const { inputs } = tensors;
  tf.dispose([inputs.patches, inputs.questionOneHot, inputs.decoderOneHot, inputs.keyBias, tensors.targets, tensors.mask]);
}

/** Teacher-forced token log-probs and entropies [B, Lr] (0 on padding), differentiable. */
export function generalTokenStatistics(w: GeneralTensors, config: GeneralConfig, tensors: GeneralBatchTensors, temperature: number): { tokenLogprobs: tf.Tensor2D; entropies: tf.Tensor2D } {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const logits = streamLogits(w, config, tensors.inputs);
  const logProbabilities = tf.logSoftmax(temperature === 1 ? logits : tf.div(logits, temperature));
  const shape: [number, number] = [tensors.sequences, tensors.responseLength];
  const tokenLogprobs = tf.mul(tf.reshape(tf.sum(tf.mul(logProbabilities, tensors.targets), 1), shape), tensors.mask) as tf.Tensor2D;
  const entropy = tf.reshape(tf.neg(tf.sum(tf.mul(tf.exp(logProbabilities), logProbabilities), 1)), shape);
  return { tokenLogprobs, entropies: tf.mul(entropy, tensors.mask) as tf.Tensor2D };
}
