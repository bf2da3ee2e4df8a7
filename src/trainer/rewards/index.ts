/**
 * Verifiable rewards for free-text responses: final-answer extraction (boxed, answer tags, "answer is"),
 * normalised / numeric / multiple-choice matching, the answer-template format reward, and the paper's
 * 0.1 * format + 0.9 * accuracy.
 */
export {
  answerPhrase, answerTag, choiceIn, choiceLetter, extractBoxed, extractChoice, extractFinalAnswer, lastBoxed, stripThink,
  CHOICE_LETTERS, type AnswerSource, type ExtractedAnswer, type ExtractOptions,
} from './extract.js';
export { cleanLatex, closeTo, normaliseUnit, numbersMatch, parseNumber, type NumericTolerance, type ParsedNumber } from './numeric.js';
export {
  accuracyReward, answersMatch, combinedReward, formatReward, normaliseText,
  type AccuracyOptions, type AccuracyResult, type FormatTemplate, type MatchKind, type RewardOptions, type RewardResult,
} from './reward.js';
export { answerKey, goldResponse, isRewardKind, responseReward, REWARD_KINDS, type AnswerKey, type ResponseReward, type RewardKind } from './answerKey.js';
