/**
 * A character tokenizer for a user's dataset: the general policy learns from any vocabulary, so a dataset's
 * questions and answers are read one Unicode character (code point) a token, with the characters of the
 * training split as the vocabulary. Built once per run from the training split and saved in the run folder
 * (tokenizer.json), so a resumed run and its validation read the same ids.
 *
 * Questions: 0 = padding, 1 = unknown character, then the training questions' characters in code-point order.
 * Responses: 0 = padding (the general policy's decoder also reads it as begin-of-sequence), 1 = end of sequence,
 * 2 = unknown character, then the gold responses' characters in code-point order.
 */
import { createHash } from 'node:crypto';
import { DurianInputError } from '../core/errors.js';

export const TOKENIZER_FORMAT = 'durian-characters/1';

export const QUESTION_PAD = 0;
export const QUESTION_UNKNOWN = 1;
export const RESPONSE_PAD = 0;
export const RESPONSE_EOS = 1;
export const RESPONSE_UNKNOWN = 2;

const QUESTION_SPECIALS = ['<pad>', '<unk>'] as const;
const RESPONSE_SPECIALS = ['<pad>', '<eos>', '<unk>'] as const;

/** Longest question read, in characters, unless a run says otherwise (longer rows are skipped and counted). */
export const DEFAULT_MAX_QUESTION_CHARACTERS = 256;
/** Longest gold response, in tokens with its end-of-sequence token, unless a run says otherwise. */
export const DEFAULT_MAX_RESPONSE_TOKENS = 32;

/** What a tokenizer file holds (tokenizer.json in a run folder). */
export interface TokenizerJson {
  format: typeof TOKENIZER_FORMAT;
  /** Question characters by id, from id 2 (0 and 1 are padding and unknown). */
  questionCharacters: string[];
  /** Response characters by id, from id 3 (0, 1, 2 are padding, end of sequence and unknown). */
  responseCharacters: string[];
  maxQuestionLength: number;
  maxResponseLength: number;
}

/** The question text a policy reads: EasyR1's `<image>` placeholders dropped, white space folded, NFC. */
export function questionText(problem: string): string {
  return problem.normalize('NFC').replace(/<image>/g, ' ').replace(/\s+/g, ' ').trim();
}

/** A gold response as text (NFC, white space folded: a response is one line). */
export function responseText(answer: string): string {
  return answer.normalize('NFC').replace(/\s+/g, ' ').trim();
}

function characters(text: string): string[] {
  return Array.from(text);
}

function vocabulary(texts: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const text of texts) for (const c of characters(text)) seen.add(c);
  return [...seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}

function wholeNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DurianInputError(name, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function characterList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((c) => typeof c === 'string' && characters(c).length === 1)) {
    throw new DurianInputError(name, 'must be a list of single characters');
  }
  if (new Set(value).size !== value.length) throw new DurianInputError(name, 'lists a character twice');
  return value as string[];
}

export class CharacterTokenizer {
  private readonly questionIds: ReadonlyMap<string, number>;
  private readonly responseIds: ReadonlyMap<string, number>;

  private constructor(
    readonly questionCharacters: readonly string[],
    readonly responseCharacters: readonly string[],
    /** Longest question, in characters (= tokens). */
    readonly maxQuestionLength: number,
    /** Longest response, in tokens with its end-of-sequence token. */
    readonly maxResponseLength: number,
  ) {
    this.questionIds = new Map(questionCharacters.map((c, k) => [c, QUESTION_SPECIALS.length + k]));
    this.responseIds = new Map(responseCharacters.map((c, k) => [c, RESPONSE_SPECIALS.length + k]));
  }

  /**
   * The vocabularies of the training split's questions and gold responses (texts as questionText /
   * responseText give them); lengths are given by the caller (the longest rows kept, within its caps).
   */
  static build(questions: Iterable<string>, responses: Iterable<string>, lengths: { maxQuestionLength: number; maxResponseLength: number }): CharacterTokenizer {
    const maxQuestionLength = wholeNumber(lengths.maxQuestionLength, 'maxQuestionLength', 1, 100_000);
    const maxResponseLength = wholeNumber(lengths.maxResponseLength, 'maxResponseLength', 2, 100_000);
    return new CharacterTokenizer(vocabulary(questions), vocabulary(responses), maxQuestionLength, maxResponseLength);
  }

  /** A tokenizer from its saved form; `where` (the file) names it in errors. */
  static fromJson(json: unknown, where: string): CharacterTokenizer {
    if (typeof json !== 'object' || json === null) throw new DurianInputError(where, 'is not a tokenizer (expected a JSON object)');
    const value = json as Partial<TokenizerJson>;
    if (value.format !== TOKENIZER_FORMAT) throw new DurianInputError(where, `is not a ${TOKENIZER_FORMAT} tokenizer (format ${JSON.stringify(value.format)})`);
    return new CharacterTokenizer(
      characterList(value.questionCharacters, `${where}: questionCharacters`),
      characterList(value.responseCharacters, `${where}: responseCharacters`),
      wholeNumber(value.maxQuestionLength, `${where}: maxQuestionLength`, 1, 100_000),
      wholeNumber(value.maxResponseLength, `${where}: maxResponseLength`, 2, 100_000),
    );
  }

  toJson(): TokenizerJson {
    return {
      format: TOKENIZER_FORMAT,
      questionCharacters: [...this.questionCharacters],
      responseCharacters: [...this.responseCharacters],
      maxQuestionLength: this.maxQuestionLength,
      maxResponseLength: this.maxResponseLength,
    };
  }

  /** sha256 of the saved form: names the tokenizer in a task source's description (and the base-policy cache key). */
  sha256(): string {
    return createHash('sha256').update(JSON.stringify(this.toJson())).digest('hex');
  }

  get questionVocabSize(): number {
    return QUESTION_SPECIALS.length + this.questionCharacters.length;
  }

  get responseVocabSize(): number {
    return RESPONSE_SPECIALS.length + this.responseCharacters.length;
  }

  /** Question ids, unpadded (characters outside the vocabulary read as unknown). */
  encodeQuestion(text: string): number[] {
    return characters(text).map((c) => this.questionIds.get(c) ?? QUESTION_UNKNOWN);
  }

  /** Response ids with the end-of-sequence token (characters outside the vocabulary read as unknown). */
  encodeResponse(text: string): number[] {
    return [...characters(text).map((c) => this.responseIds.get(c) ?? RESPONSE_UNKNOWN), RESPONSE_EOS];
  }

  /** Tokens a text takes as a question / as a gold response (EOS included). */
  questionTokens(text: string): number {
    return characters(text).length;
  }

  responseTokens(text: string): number {
    return characters(text).length + 1;
  }

  /** A response's text up to its first end-of-sequence token (padding skipped, unknown as U+FFFD). */
  decodeResponse(tokens: ArrayLike<number>): string {
    let text = '';
    for (let t = 0; t < tokens.length; t++) {
      const id = tokens[t];
      if (id === RESPONSE_EOS) break;
      if (id === RESPONSE_PAD) continue;
      text += id === RESPONSE_UNKNOWN ? '\ufffd' : (this.responseCharacters[id - RESPONSE_SPECIALS.length] ?? '\ufffd');
    }
    return text;
  }

  /** Whether the response holds an end-of-sequence token within the length limit. */
  ended(tokens: ArrayLike<number>): boolean {
    for (let t = 0; t < Math.min(tokens.length, this.maxResponseLength); t++) if (tokens[t] === RESPONSE_EOS) return true;
    return false;
  }
}
