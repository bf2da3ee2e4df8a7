/** The maths of Durian RL: pure TypeScript, float64, no I/O. */
export * from './errors.js';
export * from './printable.js';
export * from './stats.js';
export * from './batch.js';
export * from './options.js';
export * from './difficulty/binning.js';
export * from './difficulty/confidence.js';
export * from './difficulty/eigen.js';
export * from './difficulty/spectralEntropy.js';
export * from './estimators/types.js';
export * from './estimators/registry.js';
export { grpoAdvantages } from './estimators/grpo.js';
export { DURIAN_DEFAULT_WEIGHTS, type DurianOptions, type DurianPrompt, type BucketSummary } from './estimators/durian.js';
export { bandKeeps } from './estimators/band.js';
export * from './jsonl.js';
