/**
 * Questions of suite version 2: each reasoning level adds steps, every question is numeric (no yes/no floor of
 * 50%), every counted term is present in the scene, and answers are spread evenly (a count question's answer is
 * drawn uniformly from those the scene offers; an arithmetic answer uniformly from 0..9, scenes redrawn until
 * one offers it), so guessing the most common answer pays little.
 *
 *   0: count one attribute                   "how many red objects ?"                              -> 4
 *   1: sum or difference of two counts        "how many red objects plus circles ?"                 -> 3 + 2 = 5
 *   2: three counts, two operations           "how many red objects plus blue objects minus circles ?" -> 3 + 2 - 4 = 1
 *   3: a difference of groups: which operation applies to which count follows from the grouping ("plus" after
 *      "than" means subtract), and every count is at least 2 (more to count, larger sums):
 *                                             "how many more red objects plus circles than squares ?" -> 3 + 4 - 2 = 5
 *                                             "how many more circles than red objects plus squares ?" -> 7 - 3 - 2 = 2
 *
 * Same answer range (0..15, no step negative), phrasing, gold responses and reward as version 1.
 */
import type { Rng } from '../rng.js';
import {
  MAX_ANSWER, OPERATOR_PAIRS, SINGLE_ATTRIBUTE_DESCRIPTORS, applyOperators, copyDescriptor, countMatching,
  orderedIndexTuples, type ObjectAttributes,
} from './questions.js';
import type { ArithmeticOperator, Level, QuestionProgram } from './types.js';

const SINGLE_PAIRS = orderedIndexTuples(2);
const SINGLE_TRIPLES = orderedIndexTuples(3);
/** The operators a difference of groups can have: (X + Y) - Z and X - (Y + Z). */
const GROUPED_OPERATORS: ArithmeticOperator[][] = [['+', '-'], ['-', '-']];
/** Smallest count of each term at level 3. */
const GROUPED_MIN_COUNT = 2;
/** Arithmetic answers are drawn uniformly from 0 .. ARITHMETIC_ANSWERS - 1. */
export const ARITHMETIC_ANSWERS = 10;

interface Candidate {
  terms: readonly number[];
  operators: readonly ArithmeticOperator[];
  answer: number;
}

/** Every arithmetic question over `tuples` whose terms all count at least `minCount` and whose steps stay in 0..15. */
function arithmeticCandidates(
  counts: readonly number[], tuples: readonly (readonly number[])[], operatorChoices: readonly ArithmeticOperator[][], minCount: number,
): Candidate[] {
  const candidates: Candidate[] = [];
  for (const terms of tuples) {
    const termCounts = terms.map((term) => counts[term]);
    if (termCounts.some((count) => count < minCount || count > MAX_ANSWER)) continue;
    for (const operators of operatorChoices) {
      const partials = applyOperators(termCounts, operators);
      if (partials.every((partial) => partial >= 0 && partial <= MAX_ANSWER)) {
        candidates.push({ terms, operators, answer: partials[partials.length - 1] });
      }
    }
  }
  return candidates;
}

/** Draws an achievable answer uniformly, then a candidate with that answer (null if there is none). */
function pickBalanced<T extends { answer: number }>(candidates: readonly T[], rng: Rng): T | null {
  if (candidates.length === 0) return null;
  const answers = [...new Set(candidates.map((candidate) => candidate.answer))].sort((a, b) => a - b);
  const wanted = rng.pick(answers);
  return rng.pick(candidates.filter((candidate) => candidate.answer === wanted));
}

function chooseCount(counts: readonly number[], rng: Rng): QuestionProgram | null {
  const candidates = SINGLE_ATTRIBUTE_DESCRIPTORS.map((_, term) => ({ term, answer: counts[term] }))
    .filter((candidate) => candidate.answer <= MAX_ANSWER);
  const chosen = pickBalanced(candidates, rng);
  return chosen === null ? null : { kind: 'count', target: copyDescriptor(SINGLE_ATTRIBUTE_DESCRIPTORS[chosen.term]) };
}

/** How a version-2 arithmetic answer is chosen: the task's answer draw, kept across the scenes tried. */
export interface AnswerChoice {
  /** Uniform in [0, 1), drawn once per task: the wanted answer is floor(draw * ARITHMETIC_ANSWERS). */
  draw: number;
  /** true: only the wanted answer will do (null if this scene has none); false: any, balanced over the scene. */
  strict: boolean;
}

/**
 * An arithmetic question. Strict: the answer wanted for the task (uniform over 0..ARITHMETIC_ANSWERS-1, so every
 * level's answers are evenly spread), or null when this scene offers none (the generator then draws another
 * scene); not strict (the generator's last tries): an answer drawn uniformly from those the scene offers.
 */
function chooseArithmetic(
  counts: readonly number[], tuples: readonly (readonly number[])[], operatorChoices: readonly ArithmeticOperator[][], rng: Rng,
  choice: AnswerChoice, grouped = false,
): QuestionProgram | null {
  const all = arithmeticCandidates(counts, tuples, operatorChoices, grouped ? GROUPED_MIN_COUNT : 1);
  const wanted = Math.floor(choice.draw * ARITHMETIC_ANSWERS);
  const matching = choice.strict ? all.filter((candidate) => candidate.answer === wanted) : [];
  const chosen = !choice.strict ? pickBalanced(all, rng) : matching.length > 0 ? rng.pick(matching) : null;
  if (chosen === null) return null;
  return {
    kind: 'arithmetic',
    terms: chosen.terms.map((term) => copyDescriptor(SINGLE_ATTRIBUTE_DESCRIPTORS[term])),
    operators: [...chosen.operators],
    ...(grouped ? { grouped: true as const } : {}),
  };
}

/** Picks a version-2 question of the given reasoning level about the scene, or null if none is answerable. */
export function chooseProgramV2(level: Level, objects: readonly ObjectAttributes[], rng: Rng, choice: AnswerChoice): QuestionProgram | null {
  const counts = SINGLE_ATTRIBUTE_DESCRIPTORS.map((descriptor) => countMatching(objects, descriptor));
  switch (level) {
    case 0:
      return chooseCount(counts, rng);
    case 1:
      return chooseArithmetic(counts, SINGLE_PAIRS, [['+'], ['-']], rng, choice);
    case 2:
      return chooseArithmetic(counts, SINGLE_TRIPLES, OPERATOR_PAIRS, rng, choice);
    case 3:
      return chooseArithmetic(counts, SINGLE_TRIPLES, GROUPED_OPERATORS, rng, choice, true);
  }
}
