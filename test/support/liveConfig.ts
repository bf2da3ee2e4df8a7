/**
 * A run's live configuration for tests: Durian with the weights [0.1, 0.2, 0.7], 4 reasoning bins of at least
 * 2 prompts, pooled zero-variance groups, verl's GRPO defaults, 8 prompts x 8 rollouts; `changes` override it.
 */
import type { LiveConfig } from '../../src/protocol/index.js';

export function liveConfig(changes: Partial<LiveConfig> = {}): LiveConfig {
  return {
    estimator: 'durian',
    durianWeights: [0.1, 0.2, 0.7],
    reasoningBins: 4,
    minPromptsPerBin: 2,
    eps: 1e-6,
    poolZeroVariance: true,
    lr: 0.001,
    klBeta: 0.01,
    clipLow: 0.2,
    clipHigh: 0.2,
    temperature: 1,
    groupSize: 8,
    batchSize: 8,
    ...changes,
  };
}
