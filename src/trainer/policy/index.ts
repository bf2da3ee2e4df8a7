/**
 * The counting policy's parts, for its tests and benchmarks: a small vision-language model over frozen patch
 * features (question encoder, question-conditioned attention pooling with counting slots, GRU decoder),
 * trained in tfjs and sampled with onnxruntime-node. The trainer uses policies only through the seam
 * (./policy.ts, ./kinds.ts); ./counting.ts adapts these parts to it.
 */
export { resolvePolicyConfig } from './config.js';
export type { PolicyConfig } from './config.js';
export { initialWeights } from './parameters.js';
export type { Weights } from './parameters.js';
export { PolicyModel } from './model.js';
export { aggregationWeights } from './losses.js';
export { Adam } from './adam.js';
export { DAPO_TRAIN_DEFAULTS, GRPO_TRAIN_DEFAULTS, PolicyTrainer } from './update.js';
export { PolicySampler, repeatPrompts } from './sampler.js';
export { benchPolicy } from './bench.js';
