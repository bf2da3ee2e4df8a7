import { QUESTION_VOCAB, numberTokenId } from '../tasks/vocab.js';
import type { PolicyShape } from './policy.js';

/**
 * Sizes of the counting policy's model (one typed config with defaults): the task source's PolicyShape
 * (vocabularies, lengths, patch features) and the capacity. Token id 0 is padding in both vocabularies;
 * the decoder's input id 0 doubles as BOS (it never appears as a real previous token), and its output
 * never produces 0.
 */
export interface PolicyConfig extends PolicyShape {
  /** Width of the question code and the GRU state. */
  hiddenSize: number;
  /**
   * Term slots: the question is cut into clauses at its separator words (term k = the words after the k-th
   * separator), and each term slot counts the patches whose gate sigmoid(gain (F u_k + F v + b_k) + o_k)
   * is open, with u_k, b_k the sums of the clause's word vectors / biases and v a shared objectness vector.
   * A result slot adds the term counts with signed weights read from the clauses' words (plus / minus / than).
   */
  sumSlots: number;
  /**
   * Number tokens the count pointer can write: the tokens numberToken .. numberToken + countLevels - 1
   * stand for 0 .. countLevels - 1 (clipped to the vocabulary).
   */
  countLevels: number;
  /** Response token of the number 0 (default: the built-in task suite's). */
  numberToken: number;
  /** Question tokens that start a new term clause (default: the built-in suite's 'plus', 'minus', 'than'). */
  separatorTokens: readonly number[];
  /** Seed of the weight initialiser. */
  seed: number;
}

const DEFAULT_POLICY_CONFIG: Readonly<Omit<PolicyConfig, 'questionVocabSize' | 'responseVocabSize' | 'eosToken'>> = Object.freeze({
  maxQuestionLength: 12,
  maxResponseLength: 8,
  patchCount: 64,
  patchDim: 32,
  hiddenSize: 64,
  sumSlots: 3,
  countLevels: 16,
  numberToken: numberTokenId(0),
  separatorTokens: Object.freeze(['plus', 'minus', 'than'].map((word) => QUESTION_VOCAB.indexOf(word))),
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
  for (const key of ['maxQuestionLength', 'maxResponseLength', 'patchCount', 'patchDim', 'hiddenSize', 'countLevels'] as const) {
    positiveInteger(config, key);
  }
  positiveInteger(config, 'sumSlots', 2);
  positiveInteger(config, 'numberToken');
  if (!Array.isArray(config.separatorTokens) || !config.separatorTokens.every((id) => Number.isInteger(id))) {
    throw new RangeError('policy config: separatorTokens must be an array of token ids');
  }
  if (!Number.isInteger(config.eosToken) || config.eosToken < 1 || config.eosToken >= config.responseVocabSize) {
    throw new RangeError(`policy config: eosToken must be in 1..${config.responseVocabSize - 1}, got ${config.eosToken}`);
  }
  if (!Number.isSafeInteger(config.seed)) throw new RangeError(`policy config: seed must be a safe integer, got ${config.seed}`);
  return config;
}

/** Width of the question code's multi-hot: token-only slots plus one slot per (token, position). */
export function questionCodeSize(config: PolicyConfig): number {
  return config.questionVocabSize * (config.maxQuestionLength + 1);
}

/** Width of the question features: the question code's multi-hot, then one bag of words per term clause. */
export function questionFeatureSize(config: PolicyConfig): number {
  return questionCodeSize(config) + config.sumSlots * config.questionVocabSize;
}

/** Count slots the decoder's pointer reads: one per term, then the result. */
export function pointerSlots(config: PolicyConfig): number {
  return config.sumSlots + 1;
}

/** Width of the prompt context: question code and the two comparison units (term 1 > term 2, term 1 < term 2). */
export function contextSize(config: PolicyConfig): number {
  return config.hiddenSize + 2;
}

/** Output classes: response ids 1..V-1 (class c is token c + 1). */
export function outputSize(config: PolicyConfig): number {
  return config.responseVocabSize - 1;
}
