/**
 * The policy model: its config, parameters and teacher-forced scoring. `logProbs` gives what the loss and
 * the reference policy need; sampling lives in the ONNX sampler (sampler.ts) fed with `getWeights()`.
 */
import * as tf from '@tensorflow/tfjs';
import type { PolicyBatch } from './batch.js';
import { type PolicyConfig, type PolicyConfigInput, resolvePolicyConfig } from './config.js';
import { PolicyParameters, type ParameterTensors, type Weights, parameterCount } from './parameters.js';
import { batchTensors, disposeBatchTensors, tokenStatistics } from './tensors.js';

export interface LogProbsResult {
  /** [B * Lr] row-major, 0 on padding. */
  tokenLogprobs: Float32Array;
  /** [B * Lr] row-major, 0 on padding. */
  entropies: Float32Array;
}

/** A policy's forward pass (no gradient) read back as per-token log-probs and entropies; its tensors freed. */
export function scoredTokens(statistics: () => { tokenLogprobs: tf.Tensor; entropies: tf.Tensor }): LogProbsResult {
  const [logprobs, entropies] = tf.tidy(() => {
    const stats = statistics();
    return [stats.tokenLogprobs, stats.entropies];
  });
  const result = { tokenLogprobs: new Float32Array(logprobs.dataSync()), entropies: new Float32Array(entropies.dataSync()) };
  tf.dispose([logprobs, entropies]);
  return result;
}

export class PolicyModel {
  readonly config: PolicyConfig;
  readonly parameters: PolicyParameters;

  constructor(config: PolicyConfigInput, weights?: Weights) {
    this.config = resolvePolicyConfig(config);
    this.parameters = new PolicyParameters(this.config, weights);
  }

  /** The variables by name, typed as tensors for the forward functions. */
  get tensors(): ParameterTensors {
    return this.parameters.variables;
  }

  get parameterCount(): number {
    return parameterCount(this.config);
  }

  getWeights(): Weights {
    return this.parameters.getWeights();
  }

  setWeights(weights: Partial<Record<string, Float32Array>>): void {
    this.parameters.setWeights(weights);
  }

  /** Teacher-forced log-probs and entropies of the batch's responses (no gradient). */
  logProbs(batch: PolicyBatch, options: { temperature?: number } = {}): LogProbsResult {
    const tensors = batchTensors(batch, this.config);
    try {
      return scoredTokens(() => tokenStatistics(this.tensors, this.config, tensors, options.temperature ?? 1));
    } finally {
      disposeBatchTensors(tensors);
    }
  }

  dispose(): void {
    this.parameters.dispose();
  }
}
