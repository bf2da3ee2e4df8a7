/**
 * The two small vocabularies a policy reads and writes. Questions use word tokens (id 0 = padding,
 * id 1 = unknown word); responses use a closed set of answer and step tokens (id 0 = padding,
 * 1 = begin-of-sequence for the decoder's first input, 2 = end-of-sequence, then the numbers 0..15,
 * yes, no and the operators). Closed vocabularies keep the policy tiny and every response checkable.
 */
import { MAX_ANSWER } from './questions.js';

export const QUESTION_MAX_TOKENS = 12;
/** A response is at most this many tokens, EOS included. */
export const RESPONSE_MAX_TOKENS = 8;

const QUESTION_PAD_ID = 0;
export const QUESTION_UNKNOWN_ID = 1;

/** Question words by id. */
export const QUESTION_VOCAB: readonly string[] = [
  '<pad>', '<unk>',
  'how', 'many', 'are', 'there', 'more', 'fewer', 'than', 'plus', 'minus', 'objects',
  'red', 'green', 'blue', 'yellow', 'purple', 'circles', 'squares', 'triangles', '?',
];

const QUESTION_IDS: ReadonlyMap<string, number> = new Map(QUESTION_VOCAB.map((word, id) => [word, id]));

/** Splits a question into lower-case words, with '?' as its own word. */
export function questionWords(text: string): string[] {
  return text.toLowerCase().replace(/\?/g, ' ? ').split(/\s+/).filter((word) => word.length > 0);
}

/** Question token ids, unpadded. Unknown words map to <unk>; more than 12 words is an error. */
export function tokenizeQuestion(text: string): number[] {
  const words = questionWords(text);
  if (words.length > QUESTION_MAX_TOKENS) {
    throw new RangeError(`question has ${words.length} words, the limit is ${QUESTION_MAX_TOKENS}: "${text}"`);
  }
  return words.map((word) => QUESTION_IDS.get(word) ?? QUESTION_UNKNOWN_ID);
}

/** Pads (with QUESTION_PAD_ID) to exactly `length` ids, e.g. to batch questions as [B, 12]. */
export function padTokens(tokens: readonly number[], length: number): number[] {
  if (tokens.length > length) throw new RangeError(`${tokens.length} tokens do not fit in ${length}`);
  return [...tokens, ...new Array<number>(length - tokens.length).fill(QUESTION_PAD_ID)];
}

export const RESPONSE_PAD_ID = 0;
export const RESPONSE_BOS_ID = 1;
export const RESPONSE_EOS_ID = 2;
const FIRST_NUMBER_ID = 3;

/** Response tokens by id: '<pad>', '<bos>', '<eos>', '0'..'15', 'yes', 'no', '+', '-', '=', '<', '>'. */
export const RESPONSE_VOCAB: readonly string[] = [
  '<pad>', '<bos>', '<eos>',
  ...Array.from({ length: MAX_ANSWER + 1 }, (_, n) => String(n)),
  'yes', 'no', '+', '-', '=', '<', '>',
];

const RESPONSE_IDS: ReadonlyMap<string, number> = new Map(RESPONSE_VOCAB.map((word, id) => [word, id]));

/** The id of a response word ('7', 'yes', '+', '<eos>' ...); throws for a word outside the vocabulary. */
export function responseTokenId(word: string): number {
  const id = RESPONSE_IDS.get(word);
  if (id === undefined) throw new RangeError(`"${word}" is not a response token`);
  return id;
}

/** The id of the number token n (0..15). */
export function numberTokenId(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_ANSWER) throw new RangeError(`no token for the number ${n}`);
  return FIRST_NUMBER_ID + n;
}

/** The number a token stands for, or null if it is not a number token. */
export function tokenNumber(id: number): number | null {
  return Number.isInteger(id) && id >= FIRST_NUMBER_ID && id <= FIRST_NUMBER_ID + MAX_ANSWER ? id - FIRST_NUMBER_ID : null;
}

/** Token ids of a space-separated response such as "3 + 2 = 5 <eos>". */
export function encodeResponseText(text: string): number[] {
  return text.split(/\s+/).filter((word) => word.length > 0).map(responseTokenId);
}

/** Readable text of response tokens (trailing padding dropped; unknown ids shown as <id:N>). */
export function decodeResponse(tokens: readonly number[]): string {
  let end = tokens.length;
  while (end > 0 && tokens[end - 1] === RESPONSE_PAD_ID) end--;
  return tokens.slice(0, end).map((id) => RESPONSE_VOCAB[id] ?? `<id:${id}>`).join(' ');
}
