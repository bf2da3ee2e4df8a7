/**
 * The policy seam: everything the trainer, the base-policy warm-up and validation may do with a policy.
 * A kind of policy (the hand-wired counting policy, the general transformer policy, ...) implements `Policy`
 * and is registered by kinds.ts; nothing outside a policy's own folder knows its layers. The types the
 * interface speaks in (batches, samples, metrics) are re-exported here, so users import the seam alone.
 *
 * Token conventions are the task source's: question ids 0..questionVocabSize-1 and response ids
 * 0..responseVocabSize-1, 0 = padding in both; a response ends with `eosToken` (which has a log-prob).
 */
import type { PolicyBatch } from './batch.js';
import type { LogProbsResult } from './model.js';
import type { SampleOptions, SamplePrompts, SampleResult } from './sampler.js';
import type { SupervisedMetrics, TrainStepConfig, TrainStepMetrics } from './update.js';

export type { LogProbsResult, PolicyBatch, SampleOptions, SamplePrompts, SampleResult, SupervisedMetrics, TrainStepConfig, TrainStepMetrics };

/** Named float32 arrays: a policy's weights (or optimiser moments) as checkpoints store them. */
export type PolicyArrays = Record<string, Float32Array>;

/** What a policy is, for logs, the run's meta.json and `durian proxy`. */
export interface PolicyDescription {
  /** The registered kind, e.g. 'counting' or 'general'. */
  kind: string;
  /** Trainable scalars. */
  parameters: number;
  /** The resolved architecture config (JSON-serialisable); enough to rebuild the policy with `create`. */
  config: Record<string, unknown>;
  /** One line for humans, e.g. "transformer decoder, 3 layers, d 64, 4 heads, cross-attention to 64 patches". */
  summary: string;
}

/** The shapes a task source gives every policy kind. */
export interface PolicyShape {
  questionVocabSize: number;
  responseVocabSize: number;
  eosToken: number;
  maxQuestionLength: number;
  maxResponseLength: number;
  /** Patches per image and features per patch, from the frozen encoder. */
  patchCount: number;
  patchDim: number;
}

export interface Policy {
  readonly kind: string;
  describe(): PolicyDescription;
  /** Rollouts with the current weights (ONNX graphs fed with the weights, or any faster path kept equal by tests). */
  sample(prompts: SamplePrompts, options: SampleOptions): Promise<SampleResult>;
  /** Teacher-forced log-probs and entropies of the batch's responses under the current weights (no gradient). */
  logProbs(batch: PolicyBatch, options?: { temperature?: number }): LogProbsResult;
  /** One clipped policy-gradient update (loss, KL to `refLogprobs`, optimiser step) on the batch. */
  trainStep(batch: PolicyBatch, advantages: ArrayLike<number>, oldLogprobs: Float32Array, refLogprobs: Float32Array | null, config: TrainStepConfig): TrainStepMetrics;
  /** One supervised (teacher-forced cross-entropy) step on gold responses: the base-policy warm-up. */
  supervisedStep(batch: PolicyBatch, config: { learningRate: number; maxGradNorm: number }): SupervisedMetrics;
  getWeights(): PolicyArrays;
  setWeights(weights: Partial<PolicyArrays>): void;
  /**
   * Optimiser state as named arrays (e.g. Adam's moments and its step count as a one-element array), for
   * checkpoints and for undoing an update that turned non-finite; a fresh optimiser's state (zero moments,
   * step 0) before the first update. Opaque to the trainer: only `setOptimizerState` reads it.
   */
  getOptimizerState(): PolicyArrays;
  /** Puts back a state from `getOptimizerState` (throws, changing nothing, when it does not fit). */
  setOptimizerState(state: PolicyArrays): void;
  /** Frees tensors and ONNX sessions. */
  dispose(): Promise<void>;
}

export interface PolicyFactory {
  readonly kind: string;
  /** One line for `--help` and the settings table. */
  readonly description: string;
  /**
   * A policy of this kind for the shape; `weights` restores saved weights, otherwise a seeded initialisation.
   * `config` is the kind's own architecture settings (defaults where absent), as `describe().config` gives them.
   */
  create(shape: PolicyShape, options: { seed: number; weights?: PolicyArrays; config?: Record<string, unknown> }): Promise<Policy>;
}
