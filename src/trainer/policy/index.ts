/**
 * The policy: a small vision-language model over frozen patch features (question encoder, question-conditioned
 * attention pooling with counting slots, GRU decoder), trained in tfjs and sampled with onnxruntime-node.
 */
export { contextSize, outputSize, pointerSlots, questionCodeSize, questionFeatureSize, resolvePolicyConfig } from './config.js';
export type { PolicyConfig, PolicyConfigInput } from './config.js';
export { checkBatch } from './batch.js';
export type { PolicyBatch } from './batch.js';
export { checkWeights, initialWeights, parameterCount } from './parameters.js';
export type { ParameterName, Weights } from './parameters.js';
export { PolicyModel } from './model.js';
export type { LogProbsResult } from './model.js';
export { aggregationWeights } from './losses.js';
export type { LossAggregation } from './losses.js';
export { Adam, DEFAULT_ADAM } from './adam.js';
export type { AdamOptions, AdamState } from './adam.js';
export { DAPO_TRAIN_DEFAULTS, GRPO_TRAIN_DEFAULTS, PolicyTrainer } from './update.js';
export type { PolicyLossType, SupervisedMetrics, TrainStepConfig, TrainStepMetrics } from './update.js';
export { PolicySampler, repeatPrompts } from './sampler.js';
export type { SampleOptions, SamplePrompts, SampleResult, SamplerOptions } from './sampler.js';
export { benchPolicy } from './bench.js';
export type { PolicyBenchOptions, PolicyBenchResult } from './bench.js';
