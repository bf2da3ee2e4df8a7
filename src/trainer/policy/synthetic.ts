/**
 * A synthetic counting task for tests and benchmarks of the policy (no images, no encoder): each prompt has
 * random patch features (features 2.. uniform noise in [0, 0.2)) where a few "marked" patches carry 1 in feature 0
 * (kind A) or feature 1 (kind B), 0 elsewhere,
 * and the question asks "how many A" or "how many B". The gold response is the count's digit token then EOS.
 * Response vocabulary: 0 pad, 1 EOS, 2..11 the digits 0..9. Question vocabulary: 0 pad, 1 'how',
 * 2 'many', 3 'A', 4 'B'.
 */
import { Rng } from '../rng.js';
import type { PolicyBatch } from './batch.js';
import type { PolicyConfigInput } from './config.js';

export const SYNTHETIC_EOS = 1;
const SYNTHETIC_DIGIT_OFFSET = 2;
const SYNTHETIC_MAX_COUNT = 6;
/** Amplitude of the distracting features (the marks are 0 or 1). */
const SYNTHETIC_NOISE = 0.2;

/** Vocabulary sizes of the synthetic task, ready for PolicyModel. */
export const SYNTHETIC_POLICY_CONFIG: Pick<PolicyConfigInput, 'questionVocabSize' | 'responseVocabSize' | 'eosToken' | 'numberToken' | 'separatorTokens'> = {
  questionVocabSize: 5,
  responseVocabSize: 12,
  eosToken: SYNTHETIC_EOS,
  numberToken: SYNTHETIC_DIGIT_OFFSET,
  separatorTokens: [],
};

export interface SyntheticPrompts {
  patches: Float32Array;
  questions: Int32Array;
  questionLength: number;
  /** Correct count per prompt. */
  answers: Int32Array;
}

/** P prompts of the counting task (counts 0..maxCount <= 9, patch grid 64 x 32). */
export function syntheticPrompts(prompts: number, seed: number, maxCount = SYNTHETIC_MAX_COUNT, patchCount = 64, patchDim = 32): SyntheticPrompts {
  const rng = new Rng(seed);
  const patches = new Float32Array(prompts * patchCount * patchDim);
  const questionLength = 3;
  const questions = new Int32Array(prompts * questionLength);
  const answers = new Int32Array(prompts);
  for (let p = 0; p < prompts; p++) {
    const base = p * patchCount * patchDim;
    for (let cell = 0; cell < patchCount; cell++) {
      // Features 0 and 1 are the marks (0 or 1); the rest is distracting noise.
      for (let f = 2; f < patchDim; f++) patches[base + cell * patchDim + f] = SYNTHETIC_NOISE * rng.next();
    }
    const cells = rng.shuffle(Array.from({ length: patchCount }, (_, i) => i));
    const countA = rng.int(maxCount + 1);
    const countB = rng.int(maxCount + 1);
    for (let k = 0; k < countA + countB; k++) patches[base + cells[k] * patchDim + (k < countA ? 0 : 1)] = 1;
    const askB = rng.chance(0.5);
    questions.set([1, 2, askB ? 4 : 3], p * questionLength);
    answers[p] = askB ? countB : countA;
  }
  return { patches, questions, questionLength, answers };
}

/** Gold responses [P, 2] (digit, EOS) for the prompts. */
export function syntheticGoldBatch(prompts: SyntheticPrompts): PolicyBatch {
  const responses = new Int32Array(prompts.answers.length * 2);
  prompts.answers.forEach((answer, p) => responses.set([answer + SYNTHETIC_DIGIT_OFFSET, SYNTHETIC_EOS], p * 2));
  return { patches: prompts.patches, questions: prompts.questions, questionLength: prompts.questionLength, responses, responseLength: 2 };
}

/** Reward of one sampled response: 1 when its first token is the right digit and the second is EOS. */
export function syntheticReward(response: ArrayLike<number>, answer: number): number {
  return response[0] === answer + SYNTHETIC_DIGIT_OFFSET && response[1] === SYNTHETIC_EOS ? 1 : 0;
}
