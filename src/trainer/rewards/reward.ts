/**
 * Verifiable rewards for free-text responses (the paper's set-up: EasyR1, reward 0.1 * format + 0.9 * accuracy).
 * accuracy: the final answer (./extract.ts) matches the ground truth as a choice letter, a number (within a
 * tolerance, units and percent signs handled), or normalised text. format: the response follows the
 * expected template, by default EasyR1's `<think>...</think>` then `\boxed{...}`.
 * The built-in tasks score token responses with ../tasks/reward.ts; both use the same weights.
 */
import { ACCURACY_WEIGHT, FORMAT_WEIGHT } from '../tasks/reward.js';
import { choiceIn, choiceLetter, extractBoxed, extractChoice, extractFinalAnswer, type AnswerSource, type ExtractOptions } from './extract.js';
import { cleanLatex, numbersMatch, parseNumber, type NumericTolerance } from './numeric.js';

/** Text comparison form: lower case, LaTeX wrappers and spacing gone, trailing punctuation and quotes dropped. */
export function normaliseText(text: string): string {
  return cleanLatex(text)
    .toLowerCase()
    .replace(/^(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)\s*/, '')
    .replace(/\*\*/g, '')
    .replace(/^["'`(\s]+|["'`)\s.,;:!?]+$/g, '')
    .replace(/\s+/g, '')
    .replace(/[{}]/g, '');
}

export type MatchKind = 'choice' | 'numeric' | 'text' | 'none';

export interface AccuracyResult {
  accuracy: 0 | 1;
  /** The answer found in the response (null: none found). */
  extracted: string | null;
  source: AnswerSource | 'choice-phrase' | null;
  /** How it was compared with the truth. */
  kind: MatchKind;
}

export interface AccuracyOptions extends ExtractOptions {
  tolerance?: NumericTolerance;
  /**
   * Treat a single-letter truth (A-J, "(B)") as a multiple-choice option (default 'auto': yes).
   * false compares it as text.
   */
  choices?: 'auto' | false;
}

/** Is the response's final answer the ground truth? */
export function accuracyReward(response: string, truth: string, options: AccuracyOptions = {}): AccuracyResult {
  const letter = options.choices === false ? null : choiceLetter(truth);
  if (letter !== null) {
    const final = extractFinalAnswer(response, options);
    const fromFinal = final ? choiceIn(final.text) : null;
    const given = fromFinal ?? extractChoice(response);
    const source = fromFinal ? final!.source : given ? 'choice-phrase' : null;
    return { accuracy: given === letter ? 1 : 0, extracted: given ?? final?.text ?? null, source, kind: 'choice' };
  }
  const final = extractFinalAnswer(response, options);
  if (final === null) return { accuracy: 0, extracted: null, source: null, kind: 'none' };
  return { ...answersMatch(final.text, truth, options.tolerance), extracted: final.text, source: final.source };
}

/** Compares two answer strings: as numbers when both parse as numbers, else as normalised text. */
export function answersMatch(given: string, truth: string, tolerance?: NumericTolerance): { accuracy: 0 | 1; kind: MatchKind } {
  const truthNumber = parseNumber(truth);
  const givenNumber = parseNumber(given);
  if (truthNumber && givenNumber) return { accuracy: numbersMatch(givenNumber, truthNumber, tolerance) ? 1 : 0, kind: 'numeric' };
  const same = normaliseText(given) === normaliseText(truth) && normaliseText(truth) !== '';
  return { accuracy: same ? 1 : 0, kind: 'text' };
}

/**
 * Answer templates the format reward checks:
 * - 'think-boxed' (default; EasyR1's math format): `<think>...</think>` first, then a `\boxed{...}` after it;
 * - 'think-answer': `<think>...</think>` then `<answer>...</answer>` and nothing else (R1-V style);
 * - 'think-answer-line': `<think>...</think>` then a line `Answer: ...`;
 * - 'boxed': a `\boxed{...}` anywhere;
 * - 'answer-line': a line `Answer: ...`;
 * - a RegExp: the whole trimmed response must match it.
 */
export type FormatTemplate = 'think-boxed' | 'think-answer' | 'think-answer-line' | 'boxed' | 'answer-line' | RegExp;

const ANSWER_LINE = /^[ \t]*(?:\*\*)?(?:final[ \t]+)?answer(?:\*\*)?[ \t]*(?:\*\*)?[:：](?:\*\*)?[ \t]*\S/im;

/** The reasoning block and what follows it, when the response is `<think>...</think>rest` with exactly one of each tag. */
function thinkSplit(response: string): { thought: string; rest: string } | null {
  const trimmed = response.trim();
  if (!trimmed.startsWith('<think>')) return null;
  if (trimmed.split('<think>').length !== 2 || trimmed.split('</think>').length !== 2) return null;
  const end = trimmed.indexOf('</think>');
  const thought = trimmed.slice('<think>'.length, end);
  if (thought.trim() === '') return null;
  return { thought, rest: trimmed.slice(end + '</think>'.length) };
}

/** 1 when the response follows the template, else 0. */
export function formatReward(response: string, template: FormatTemplate = 'think-boxed'): 0 | 1 {
  if (template instanceof RegExp) {
    const anchored = new RegExp(`^(?:${template.source})$`, template.flags.replace('g', ''));
    return anchored.test(response.trim()) ? 1 : 0;
  }
  switch (template) {
    case 'boxed':
      return extractBoxed(response).some((b) => b.trim() !== '') ? 1 : 0;
    case 'answer-line':
      return ANSWER_LINE.test(response) ? 1 : 0;
    case 'think-boxed': {
      const split = thinkSplit(response);
      return split && extractBoxed(split.rest).some((b) => b.trim() !== '') ? 1 : 0;
    }
    case 'think-answer': {
      const split = thinkSplit(response);
      return split && /^\s*<answer>[\s\S]*\S[\s\S]*<\/answer>\s*$/.test(split.rest) && split.rest.split('<answer>').length === 2 ? 1 : 0;
    }
    case 'think-answer-line': {
      const split = thinkSplit(response);
      return split && ANSWER_LINE.test(split.rest) ? 1 : 0;
    }
  }
}

export interface RewardOptions extends AccuracyOptions {
  template?: FormatTemplate;
  /** Weight of the format term (default 0.1, the paper's). */
  formatWeight?: number;
  /** Weight of the accuracy term (default 0.9). */
  accuracyWeight?: number;
}

export interface RewardResult extends AccuracyResult {
  format: 0 | 1;
  /** formatWeight * format + accuracyWeight * accuracy. */
  reward: number;
}

/** The paper's reward: 0.1 * format + 0.9 * accuracy (weights are options). */
export function combinedReward(response: string, truth: string, options: RewardOptions = {}): RewardResult {
  const accuracy = accuracyReward(response, truth, options);
  const format = formatReward(response, options.template);
  const reward = (options.formatWeight ?? FORMAT_WEIGHT) * format + (options.accuracyWeight ?? ACCURACY_WEIGHT) * accuracy.accuracy;
  return { ...accuracy, format, reward };
}
