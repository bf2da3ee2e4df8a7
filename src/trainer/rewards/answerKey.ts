/**
 * Training rewards for a dataset's short free-text responses (`durian train --dataset --reward KIND`): how a
 * row's answer is read under the chosen reward (its answer key, or why it cannot be read), the gold response
 * the supervised warm-up teaches, and a sampled response's reward (0.1 * format + 0.9 * accuracy, the
 * paper's weights). Built on the free-text matching of ./extract.ts, ./numeric.ts and ./reward.ts.
 *
 *   exact    the response's final answer equals the answer as normalised text (case, LaTeX wrappers, spacing)
 *   numeric  both parse as numbers and agree within tolerance (units and percent signs as ./numeric.ts reads them)
 *   boxed    the answer is taught and expected in `\boxed{...}`; the boxed content is compared as numbers or text
 *   choice   the answer is an option letter (A-J); the response must name that option
 *   auto     choice for an option letter, numeric for a number, exact otherwise (decided per row)
 *
 * A response's final answer is what ./extract.ts finds (boxed, <answer> tag, "answer is") or else the whole
 * response: a small policy answers bare ("12.5"). A response without an end-of-sequence token scores 0.
 */
import { ACCURACY_WEIGHT, FORMAT_WEIGHT } from '../tasks/reward.js';
import { choiceIn, choiceLetter, extractChoice, extractFinalAnswer, lastBoxed } from './extract.js';
import { parseNumber } from './numeric.js';
import { answersMatch, formatReward, normaliseText } from './reward.js';

export const REWARD_KINDS = ['exact', 'numeric', 'boxed', 'choice', 'auto'] as const;
export type RewardKind = (typeof REWARD_KINDS)[number];

/** How one row's answer is compared: the resolved kind (never 'auto') and the truth as that kind reads it. */
export interface AnswerKey {
  kind: Exclude<RewardKind, 'auto'>;
  truth: string;
}

export interface ResponseReward {
  reward: number;
  accuracy: 0 | 1;
  format: 0 | 1;
}

export function isRewardKind(value: string): value is RewardKind {
  return (REWARD_KINDS as readonly string[]).includes(value);
}

/** The answer key of a row's answer under `reward`, or why that reward cannot read it. */
export function answerKey(answer: string, reward: RewardKind): { key: AnswerKey } | { problem: string } {
  const trimmed = answer.trim();
  switch (reward) {
    case 'exact':
      return normaliseText(trimmed) === '' ? { problem: 'the answer is empty once normalised (exact reward)' } : { key: { kind: 'exact', truth: trimmed } };
    case 'numeric':
      return parseNumber(trimmed) ? { key: { kind: 'numeric', truth: trimmed } } : { problem: `the answer ${quote(trimmed)} is not a number (numeric reward)` };
    case 'boxed': {
      const truth = (lastBoxed(trimmed) ?? trimmed).trim();
      return normaliseText(truth) === '' ? { problem: 'the answer is empty once normalised (boxed reward)' } : { key: { kind: 'boxed', truth } };
    }
    case 'choice': {
      const letter = choiceLetter(trimmed);
      return letter ? { key: { kind: 'choice', truth: letter } } : { problem: `the answer ${quote(trimmed)} is not an option letter A-J (choice reward)` };
    }
    case 'auto': {
      const letter = choiceLetter(trimmed);
      if (letter) return { key: { kind: 'choice', truth: letter } };
      if (parseNumber(trimmed)) return { key: { kind: 'numeric', truth: trimmed } };
      return answerKey(trimmed, 'exact');
    }
  }
}

/** The response the warm-up teaches for a key: the answer itself, in `\boxed{}` for the boxed reward. */
export function goldResponse(key: AnswerKey): string {
  return key.kind === 'boxed' ? `\\boxed{${key.truth}}` : key.truth;
}

/** The final answer a response gives: a boxed / tagged / "answer is" one, else the whole response. */
function finalAnswer(response: string): string {
  return (extractFinalAnswer(response)?.text ?? response).trim();
}

function accuracyOf(response: string, key: AnswerKey): 0 | 1 {
  switch (key.kind) {
    case 'exact':
      return normaliseText(finalAnswer(response)) === normaliseText(key.truth) ? 1 : 0;
    case 'numeric': {
      const given = finalAnswer(response);
      return parseNumber(given) ? answersMatch(given, key.truth).accuracy : 0;
    }
    case 'boxed': {
      const boxed = lastBoxed(response);
      return boxed !== null ? answersMatch(boxed, key.truth).accuracy : 0;
    }
    case 'choice':
      return (choiceIn(finalAnswer(response)) ?? extractChoice(response)) === key.truth ? 1 : 0;
  }
}

function formatOf(response: string, key: AnswerKey): 0 | 1 {
  const given = finalAnswer(response);
  switch (key.kind) {
    case 'exact':
      return normaliseText(given) !== '' ? 1 : 0;
    case 'numeric':
      return parseNumber(given) ? 1 : 0;
    case 'boxed':
      return formatReward(response, 'boxed');
    case 'choice':
      return choiceIn(given) ? 1 : 0;
  }
}

/**
 * The reward of a response (its text up to the end-of-sequence token; `ended` false when it never ended):
 * format = the response has the answer's form (text / a number / a boxed answer / an option letter),
 * accuracy = its final answer matches the key.
 */
export function responseReward(response: string, key: AnswerKey, ended: boolean): ResponseReward {
  if (!ended) return { reward: 0, accuracy: 0, format: 0 };
  const accuracy = accuracyOf(response, key);
  const format = formatOf(response, key);
  return { reward: FORMAT_WEIGHT * format + ACCURACY_WEIGHT * accuracy, accuracy, format };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}
