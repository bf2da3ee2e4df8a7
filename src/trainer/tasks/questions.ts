/**
 * Questions about a scene, at a reasoning level (0..3 = reasoning steps): what can be asked, how it is
 * phrased, and how its answer follows from the ground-truth objects.
 *
 *   0: count one attribute            "how many red objects ?"                -> 4
 *   1: count a colour+shape pair      "how many red circles ?"                -> 2
 *      or compare two counts          "are there more red objects than circles ?" -> yes
 *   2: sum or difference of two counts "how many red objects plus circles ?"  -> 7
 *   3: three-term expression          "how many red objects plus blue objects minus circles ?" -> 3
 *
 * Every answer is an integer 0..15 or yes/no; differences are asked only when no step goes negative.
 */
import type { Rng } from '../rng.js';
import { COLOUR_NAMES, SHAPE_NAMES } from './palette.js';
import type { ArithmeticOperator, Descriptor, Level, QuestionProgram, SceneObject } from './types.js';

/** What a question can ask about an object: its colour and shape (not where it is drawn). */
export type ObjectAttributes = Pick<SceneObject, 'colour' | 'shape'>;

/** Largest number an answer (or a count shown in a response) may be. */
export const MAX_ANSWER = 15;

/** The eight one-attribute descriptors: five colours, then three shapes. */
export const SINGLE_ATTRIBUTE_DESCRIPTORS: readonly Descriptor[] = [
  ...COLOUR_NAMES.map((colour) => ({ colour })),
  ...SHAPE_NAMES.map((shape) => ({ shape })),
];

/** The fifteen colour+shape descriptors. */
export const CONJUNCTION_DESCRIPTORS: readonly Descriptor[] = COLOUR_NAMES.flatMap((colour) =>
  SHAPE_NAMES.map((shape) => ({ colour, shape })),
);

function matchesDescriptor(object: ObjectAttributes, descriptor: Descriptor): boolean {
  return (descriptor.colour === undefined || object.colour === descriptor.colour) &&
    (descriptor.shape === undefined || object.shape === descriptor.shape);
}

export function countMatching(objects: readonly ObjectAttributes[], descriptor: Descriptor): number {
  let count = 0;
  for (const object of objects) if (matchesDescriptor(object, descriptor)) count++;
  return count;
}

/** "red objects", "circles" or "red circles". */
export function describe(descriptor: Descriptor): string {
  const shapeWord = descriptor.shape === undefined ? 'objects' : `${descriptor.shape}s`;
  return descriptor.colour === undefined ? shapeWord : `${descriptor.colour} ${shapeWord}`;
}

export function questionText(program: QuestionProgram): string {
  switch (program.kind) {
    case 'count':
      return `how many ${describe(program.target)} ?`;
    case 'compare':
      return `are there ${program.relation} ${describe(program.left)} than ${describe(program.right)} ?`;
    case 'arithmetic': {
      const [first, ...rest] = program.terms;
      if (program.grouped === true) {
        // + - : (X plus Y) than Z; - - : X than (Y plus Z).
        const split = program.operators[0] === '+' ? 2 : 1;
        const group = (terms: readonly Descriptor[]) => terms.map(describe).join(' plus ');
        return `how many more ${group(program.terms.slice(0, split))} than ${group(program.terms.slice(split))} ?`;
      }
      if (program.terms.length === 2 && program.operators[0] === '-') {
        return `how many more ${describe(first)} than ${describe(rest[0])} ?`;
      }
      const tail = rest.map((term, i) => `${program.operators[i] === '+' ? 'plus' : 'minus'} ${describe(term)}`);
      return `how many ${[describe(first), ...tail].join(' ')} ?`;
    }
  }
}

/** The counts a program reads (in the order a response states them) and its answer. */
export interface ProgramEvaluation {
  termCounts: number[];
  answer: string;
}

/** Running values of `counts` combined left to right by `operators`. */
export function applyOperators(counts: readonly number[], operators: readonly ArithmeticOperator[]): number[] {
  const partials = [counts[0]];
  operators.forEach((operator, i) => {
    const previous = partials[partials.length - 1];
    partials.push(operator === '+' ? previous + counts[i + 1] : previous - counts[i + 1]);
  });
  return partials;
}

export function evaluateProgram(program: QuestionProgram, objects: readonly ObjectAttributes[]): ProgramEvaluation {
  switch (program.kind) {
    case 'count': {
      const count = countMatching(objects, program.target);
      return { termCounts: [count], answer: String(count) };
    }
    case 'compare': {
      const left = countMatching(objects, program.left);
      const right = countMatching(objects, program.right);
      const holds = program.relation === 'more' ? left > right : left < right;
      return { termCounts: [left, right], answer: holds ? 'yes' : 'no' };
    }
    case 'arithmetic': {
      const counts = program.terms.map((term) => countMatching(objects, term));
      const partials = applyOperators(counts, program.operators);
      return { termCounts: counts, answer: String(partials[partials.length - 1]) };
    }
  }
}

/** All ordered tuples of distinct indices into SINGLE_ATTRIBUTE_DESCRIPTORS. */
export function orderedIndexTuples(size: number): number[][] {
  const out: number[][] = [];
  const extend = (prefix: number[]): void => {
    if (prefix.length === size) {
      out.push(prefix);
      return;
    }
    for (let i = 0; i < SINGLE_ATTRIBUTE_DESCRIPTORS.length; i++) {
      if (!prefix.includes(i)) extend([...prefix, i]);
    }
  };
  extend([]);
  return out;
}

const PAIRS = orderedIndexTuples(2);
const TRIPLES = orderedIndexTuples(3);
export const OPERATOR_PAIRS: ArithmeticOperator[][] = [['+', '+'], ['+', '-'], ['-', '+'], ['-', '-']];

export function copyDescriptor(descriptor: Descriptor): Descriptor {
  return { ...descriptor };
}

function chooseCompare(objects: readonly ObjectAttributes[], rng: Rng): QuestionProgram {
  const relation = rng.chance(0.5) ? 'more' : 'fewer';
  const wanted = rng.chance(0.5) ? 'yes' : 'no'; // balance yes/no instead of letting the scene decide
  const all: QuestionProgram[] = PAIRS.map(([left, right]) => ({
    kind: 'compare', relation,
    left: copyDescriptor(SINGLE_ATTRIBUTE_DESCRIPTORS[left]), right: copyDescriptor(SINGLE_ATTRIBUTE_DESCRIPTORS[right]),
  }));
  const balanced = all.filter((program) => evaluateProgram(program, objects).answer === wanted);
  return rng.pick(balanced.length > 0 ? balanced : all);
}

function chooseArithmetic(objects: readonly ObjectAttributes[], termCount: 2 | 3, rng: Rng): QuestionProgram | null {
  const counts = SINGLE_ATTRIBUTE_DESCRIPTORS.map((descriptor) => countMatching(objects, descriptor));
  const tuples = termCount === 2 ? PAIRS : TRIPLES;
  const operatorChoices: ArithmeticOperator[][] = termCount === 2 ? [['+'], ['-']] : OPERATOR_PAIRS;
  const candidates: { terms: number[]; operators: ArithmeticOperator[] }[] = [];
  for (const terms of tuples) {
    const termCounts = terms.map((term) => counts[term]);
    // At least one term must be present in the scene, or the question is "0 + 0 = 0" in disguise.
    if (termCounts.every((count) => count === 0) || termCounts.some((count) => count > MAX_ANSWER)) continue;
    for (const operators of operatorChoices) {
      const partials = applyOperators(termCounts, operators);
      if (partials.every((partial) => partial >= 0 && partial <= MAX_ANSWER)) candidates.push({ terms, operators });
    }
  }
  if (candidates.length === 0) return null;
  const chosen = rng.pick(candidates);
  return {
    kind: 'arithmetic',
    terms: chosen.terms.map((term) => copyDescriptor(SINGLE_ATTRIBUTE_DESCRIPTORS[term])),
    operators: [...chosen.operators],
  };
}

/** Picks a question of the given reasoning level about the scene, or null if none is answerable. */
export function chooseProgram(level: Level, objects: readonly ObjectAttributes[], rng: Rng): QuestionProgram | null {
  switch (level) {
    case 0:
      return { kind: 'count', target: copyDescriptor(rng.pick(SINGLE_ATTRIBUTE_DESCRIPTORS)) };
    case 1: {
      if (rng.chance(0.5)) return chooseCompare(objects, rng);
      // Half the time ask about a pair that is present, otherwise most answers would be 0.
      if (objects.length > 0 && rng.chance(0.5)) {
        const { colour, shape } = rng.pick(objects);
        return { kind: 'count', target: { colour, shape } };
      }
      return { kind: 'count', target: copyDescriptor(rng.pick(CONJUNCTION_DESCRIPTORS)) };
    }
    case 2:
      return chooseArithmetic(objects, 2, rng);
    case 3:
      return chooseArithmetic(objects, 3, rng);
  }
}
