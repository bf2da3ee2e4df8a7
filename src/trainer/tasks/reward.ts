/**
 * The response template, its parser and the verifiable reward (paper: 0.1 * format + 0.9 * accuracy).
 *
 * Template (at most 8 tokens, EOS included) — the gold response shows the counts it used, then the answer:
 *   count           "4 <eos>"
 *   comparison      "3 > 2 yes <eos>"         (relation between the two counts: <, = or >)
 *   two-term sum    "3 + 2 = 5 <eos>"
 *   three terms     "3 + 2 - 4 = 1 <eos>"
 *
 * format = 1 iff the tokens up to the first EOS (which must come within 8 tokens) form one of:
 *   a bare answer; NUMBER (OP NUMBER){1,2} = NUMBER; NUMBER REL NUMBER yes|no
 * and the answer has the question's kind (a number for "how many", yes/no for "are there").
 * A bare answer is well-formed for every level; the steps are shown in the gold response only.
 * accuracy = 1 iff the token just before EOS equals the true answer. The steps are NOT checked: a
 * response with wrong counts but the right final answer is accurate (as in the paper, which verifies
 * only the final answer). With no EOS within 8 tokens there is no final answer: format 0, accuracy 0.
 * Tokens after the first EOS are ignored (a sampler stops there).
 */
import { evaluateProgram } from './questions.js';
import type { Task } from './types.js';
import {
  RESPONSE_EOS_ID, RESPONSE_MAX_TOKENS, RESPONSE_VOCAB, numberTokenId, responseTokenId, tokenNumber,
} from './vocab.js';

export const FORMAT_WEIGHT = 0.1;
export const ACCURACY_WEIGHT = 0.9;

export type ResponseForm = 'bare' | 'arithmetic' | 'comparison';

export interface ParsedResponse {
  /** Which template form the response has, or null if it is malformed. */
  form: ResponseForm | null;
  /** The token before EOS if it is an answer ('0'..'15', 'yes', 'no'), else null. */
  finalAnswer: string | null;
  /** Numbers stated before the answer (the response's claimed counts). */
  statedCounts: number[];
  /** Tokens up to and including EOS, or the tokens scanned when there is no EOS. */
  length: number;
  /** Why the response is malformed, or null. */
  problem: string | null;
}

export interface ResponseScore {
  format: 0 | 1;
  accuracy: 0 | 1;
  reward: number;
}

const PLUS_ID = responseTokenId('+');
const MINUS_ID = responseTokenId('-');
const EQUALS_ID = responseTokenId('=');
const LESS_ID = responseTokenId('<');
const GREATER_ID = responseTokenId('>');
const YES_ID = responseTokenId('yes');
const NO_ID = responseTokenId('no');

function answerWord(id: number): string | null {
  if (tokenNumber(id) !== null || id === YES_ID || id === NO_ID) return RESPONSE_VOCAB[id];
  return null;
}

function isNumber(id: number): boolean {
  return tokenNumber(id) !== null;
}

/** Matches the body (tokens before EOS) against the template forms. */
function classifyBody(body: readonly number[]): ResponseForm | null {
  const n = body.length;
  if (n === 1) return answerWord(body[0]) !== null ? 'bare' : null;
  if (n === 4 && isNumber(body[0]) && [LESS_ID, EQUALS_ID, GREATER_ID].includes(body[1]) && isNumber(body[2]) &&
    (body[3] === YES_ID || body[3] === NO_ID)) {
    return 'comparison';
  }
  if ((n === 5 || n === 7) && body[n - 2] === EQUALS_ID && isNumber(body[n - 1])) {
    for (let i = 0; i < n - 2; i++) {
      const ok = i % 2 === 0 ? isNumber(body[i]) : body[i] === PLUS_ID || body[i] === MINUS_ID;
      if (!ok) return null;
    }
    return 'arithmetic';
  }
  return null;
}

export function parseResponse(tokens: ArrayLike<number>): ParsedResponse {
  const scanned = Math.min(tokens.length, RESPONSE_MAX_TOKENS);
  let eosAt = -1;
  for (let i = 0; i < scanned; i++) {
    if (tokens[i] === RESPONSE_EOS_ID) {
      eosAt = i;
      break;
    }
  }
  if (eosAt < 0) {
    const problem = tokens.length > RESPONSE_MAX_TOKENS ? `no <eos> within ${RESPONSE_MAX_TOKENS} tokens (too long)` : 'missing <eos>';
    return { form: null, finalAnswer: null, statedCounts: [], length: scanned, problem };
  }
  const body = Array.from({ length: eosAt }, (_, i) => tokens[i]);
  const finalAnswer = eosAt > 0 ? answerWord(body[eosAt - 1]) : null;
  const statedCounts = body.slice(0, -1).map(tokenNumber).filter((n): n is number => n !== null);
  const form = classifyBody(body);
  let problem: string | null = null;
  if (eosAt === 0) problem = 'empty response';
  else if (form === null) problem = 'does not match the template';
  return { form, finalAnswer, statedCounts, length: eosAt + 1, problem };
}

function isYesNo(answer: string): boolean {
  return answer === 'yes' || answer === 'no';
}

/** Format, accuracy and reward = 0.1 * format + 0.9 * accuracy for a response to a task. */
export function scoreResponse(tokens: ArrayLike<number>, task: Pick<Task, 'answer'>): ResponseScore {
  const parsed = parseResponse(tokens);
  const format: 0 | 1 = parsed.form !== null && parsed.finalAnswer !== null &&
    isYesNo(parsed.finalAnswer) === isYesNo(task.answer) ? 1 : 0;
  const accuracy: 0 | 1 = parsed.finalAnswer === task.answer ? 1 : 0;
  return { format, accuracy, reward: FORMAT_WEIGHT * format + ACCURACY_WEIGHT * accuracy };
}

/** The gold response (for the supervised warm-up): the counts used, the operation, the answer, EOS. */
export function targetResponse(task: Pick<Task, 'program' | 'objects'>): number[] {
  const { program } = task;
  const { termCounts, answer } = evaluateProgram(program, task.objects);
  switch (program.kind) {
    case 'count':
      return [numberTokenId(termCounts[0]), RESPONSE_EOS_ID];
    case 'compare': {
      const [left, right] = termCounts;
      const relation = left > right ? GREATER_ID : left < right ? LESS_ID : EQUALS_ID;
      return [numberTokenId(left), relation, numberTokenId(right), responseTokenId(answer), RESPONSE_EOS_ID];
    }
    case 'arithmetic': {
      const tokens = [numberTokenId(termCounts[0])];
      program.operators.forEach((operator, i) => tokens.push(operator === '+' ? PLUS_ID : MINUS_ID, numberTokenId(termCounts[i + 1])));
      tokens.push(EQUALS_ID, numberTokenId(Number(answer)), RESPONSE_EOS_ID);
      return tokens;
    }
  }
}
