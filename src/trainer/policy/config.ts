/**
 * Sizes of the policy model (one typed config with defaults). The vocabularies come from the task suite;
 * the rest sets the capacity. Token id 0 is padding in both vocabularies; the decoder's input id 0 doubles
 * as BOS (it never appears as a real previous token), and its output never produces 0.
 */
export interface PolicyConfig {
  /** Question token ids are 0..questionVocabSize-1 (0 = pad). */
  questionVocabSize: number;
  /** Response token ids are 0..responseVocabSize-1 (0 = pad, never sampled). */
  responseVocabSize: number;
  /** The response token that ends a response (it is part of the response and has a log-prob). */
  eosToken: number;
  /** Longest question in tokens (position-aware embedding size depends on it). */
  maxQuestionLength: number;
  /** Longest response in tokens, EOS included. */
  maxResponseLength: number;
  /** Patches per image and features per patch, from the frozen encoder. */
  patchCount: number;
  patchDim: number;
  /** Width of the question code, patch projection and GRU state. */
  hiddenSize: number;
  /** Attention slots whose weights are sigmoid gates summed over patches (soft counts). */
  sumSlots: number;
  /** Attention slots whose weights are a softmax over patches (pooled features). */
  softmaxSlots: number;
  /**
   * Counts are mixed linearly (so slots can be added or subtracted) and each mixed count is coded as a
   * thermometer: sigmoid(2 (m - k - 1/2)) for k = 0..countLevels-1, so "count = k" is a difference of two
   * adjacent units and digits become linearly readable.
   */
  countLevels: number;
  /** Seed of the weight initialiser. */
  seed: number;
}

export const DEFAULT_POLICY_CONFIG: Readonly<Omit<PolicyConfig, 'questionVocabSize' | 'responseVocabSize' | 'eosToken'>> = Object.freeze({
  maxQuestionLength: 12,
  maxResponseLength: 8,
  patchCount: 64,
  patchDim: 32,
  hiddenSize: 64,
  sumSlots: 4,
  softmaxSlots: 4,
  countLevels: 16,
  seed: 0,
});

export type PolicyConfigInput = Pick<PolicyConfig, 'questionVocabSize' | 'responseVocabSize' | 'eosToken'> & Partial<PolicyConfig>;

function positiveInteger(config: PolicyConfig, key: keyof PolicyConfig, min = 1): void {
  const value = config[key];
  if (!Number.isInteger(value) || (value as number) < min) {
    throw new RangeError(`policy config: ${key} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Fills defaults and checks every size. */
export function resolvePolicyConfig(input: PolicyConfigInput): PolicyConfig {
  const config: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, ...input };
  positiveInteger(config, 'questionVocabSize', 2);
  positiveInteger(config, 'responseVocabSize', 3);
  for (const key of ['maxQuestionLength', 'maxResponseLength', 'patchCount', 'patchDim', 'hiddenSize', 'sumSlots', 'softmaxSlots', 'countLevels'] as const) {
    positiveInteger(config, key);
  }
  if (!Number.isInteger(config.eosToken) || config.eosToken < 1 || config.eosToken >= config.responseVocabSize) {
    throw new RangeError(`policy config: eosToken must be in 1..${config.responseVocabSize - 1}, got ${config.eosToken}`);
  }
  if (!Number.isSafeInteger(config.seed)) throw new RangeError(`policy config: seed must be a safe integer, got ${config.seed}`);
  return config;
}

/** Width of the question multi-hot: token-only slots plus one slot per (token, position). */
export function questionFeatureSize(config: PolicyConfig): number {
  return config.questionVocabSize * (config.maxQuestionLength + 1);
}

/** Width of the prompt context: question code, summed patch features, count thermometers, softmax-pooled features. */
export function contextSize(config: PolicyConfig): number {
  return 2 * config.hiddenSize + config.sumSlots * config.countLevels + config.softmaxSlots * config.hiddenSize;
}

/** Output classes: response ids 1..V-1 (class c is token c + 1). */
export function outputSize(config: PolicyConfig): number {
  return config.responseVocabSize - 1;
}
