/**
 * Finding the final answer in a free-text response: `\boxed{...}` (nested braces; the last one wins, as
 * EasyR1 / mathruler take it), `<answer>...</answer>`, or an "answer is X" / "Answer: X" phrase; and
 * multiple-choice letters in the forms models write them ("(B)", "B.", "Answer: B", "the answer is b").
 */

/** Contents of every `\boxed{...}` / `\fbox{...}` in order; braces nest (`\boxed{\frac{1}{2}}`). Unclosed ones are ignored. */
export function extractBoxed(text: string): string[] {
  const found: string[] = [];
  const pattern = /\\(?:boxed|fbox)\s*\{/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const open = match.index + match[0].length;
    let depth = 1;
    let at = open;
    for (; at < text.length && depth > 0; at++) {
      const c = text[at];
      if (c === '\\' && (text[at + 1] === '{' || text[at + 1] === '}')) {
        at++; // an escaped brace \{ \} is text, not nesting
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    if (depth === 0) {
      found.push(text.slice(open, at - 1));
      pattern.lastIndex = at;
    }
  }
  // `\boxed 5` (no braces) is valid LaTeX for a single token.
  if (found.length === 0) {
    const bare = [...text.matchAll(/\\boxed\s+([^\s${}]+)/g)];
    if (bare.length > 0) found.push(bare[bare.length - 1][1]);
  }
  return found;
}

/** The last `\boxed{...}` content, or null. */
export function lastBoxed(text: string): string | null {
  const all = extractBoxed(text);
  return all.length > 0 ? all[all.length - 1] : null;
}

/** The last `<answer>...</answer>` content, or null. */
export function answerTag(text: string): string | null {
  const all = [...text.matchAll(/<answer>([\s\S]*?)<\/answer>/gi)];
  return all.length > 0 ? all[all.length - 1][1].trim() : null;
}

/** The rest of the line after the last "answer is" / "Answer:" / "final answer:" phrase, or null. */
export function answerPhrase(text: string): string | null {
  const pattern = /(?:final\s+answer|answer)\s*(?:\*\*)?\s*(?:is|:|：|=)\s*(?:\*\*)?\s*:?\s*([^\n]*)/gi;
  let last: string | null = null;
  for (const match of text.matchAll(pattern)) {
    const rest = match[1].trim();
    if (rest !== '') last = rest;
  }
  if (last === null) return null;
  // "... is 12 cm. So we are done" -> "12 cm": cut at the first sentence end that is not a decimal point.
  const sentenceEnd = last.search(/\.(?:\s|$)|;|,\s+(?:so|which|because|since)\b/i);
  const cut = sentenceEnd >= 0 ? last.slice(0, sentenceEnd) : last;
  return cut.replace(/\*\*/g, '').trim();
}

export type AnswerSource = 'boxed' | 'answer-tag' | 'answer-phrase' | 'last-number';

export interface ExtractedAnswer {
  text: string;
  source: AnswerSource;
}

export interface ExtractOptions {
  /** When nothing else is found, take the response's last number (default false: EasyR1 / mathruler grade only boxed answers). */
  lastNumberFallback?: boolean;
}

/** The response's final answer: last boxed, else last <answer> tag, else last "answer is" phrase (else the last number, if asked). */
export function extractFinalAnswer(response: string, options: ExtractOptions = {}): ExtractedAnswer | null {
  const boxed = lastBoxed(response);
  if (boxed !== null) return { text: boxed, source: 'boxed' };
  const tag = answerTag(response);
  if (tag !== null) {
    const inner = lastBoxed(tag);
    return { text: inner ?? tag, source: 'answer-tag' };
  }
  const phrase = answerPhrase(stripThink(response));
  if (phrase !== null) return { text: phrase, source: 'answer-phrase' };
  if (options.lastNumberFallback) {
    const numbers = [...stripThink(response).matchAll(/-?\d+(?:\.\d+)?%?/g)];
    if (numbers.length > 0) return { text: numbers[numbers.length - 1][0], source: 'last-number' };
  }
  return null;
}

/** The text after the last `</think>` (the reasoning is not the answer), or all of it without one. */
export function stripThink(response: string): string {
  const end = response.lastIndexOf('</think>');
  return end >= 0 ? response.slice(end + '</think>'.length) : response;
}

/** Letters accepted as multiple-choice options. */
export const CHOICE_LETTERS = 'ABCDEFGHIJ';

/** The truth as a choice letter ('B' for "B", "(b)", "B."), or null when it is not a single option letter. */
export function choiceLetter(truth: string): string | null {
  const match = /^\s*\(?\s*([A-Ja-j])\s*\)?\s*[.:]?\s*$/.exec(truth);
  return match ? match[1].toUpperCase() : null;
}

function unwrap(text: string): string {
  return text
    .replace(/\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}/g, '$1')
    .replace(/\*\*|__|`|\$/g, '')
    .trim();
}

/**
 * The option letter a candidate answer names: "(B)", "B", "B.", "B) 12 cm", "B: 12", "Option B".
 * Upper-case letters may be followed by text; a lower-case letter must stand alone ("b", "(b)", "b."),
 * so the article in "a triangle" is not read as option A.
 */
export function choiceIn(candidate: string): string | null {
  const text = unwrap(candidate);
  const alone = /^(?:(?:option|choice)\s+)?\(?([A-Ja-j])\)?\s*[.:]?$/i.exec(text);
  if (alone) return alone[1].toUpperCase();
  const lead = /^(?:(?:option|choice)\s+)?\(?([A-J])(?:\)|\.(?!\d)|:|\s+-|\s+(?=[A-Za-z0-9\\$(]))/.exec(text);
  if (lead) return lead[1];
  return null;
}

/** The option letter a whole response gives: its final answer (boxed / tag / phrase), else the last "answer is X", else a last line that is an option. */
export function extractChoice(response: string): string | null {
  const final = extractFinalAnswer(response);
  if (final) {
    const letter = choiceIn(final.text);
    if (letter) return letter;
  }
  const pattern = /(?:answer|option|choice)\s*(?:is|:|：)?\s*(?:option|choice)?\s*:?\s*\(?([A-Ja-j])\)?(?=\s*$|\s*[.,;:!)\n]|\s+(?:because|since|as)\b)/gi;
  const matches = [...stripThink(response).matchAll(pattern)];
  // Lower-case letters count only when they stand alone (the look-ahead excludes "is a" + noun).
  if (matches.length > 0) return matches[matches.length - 1][1].toUpperCase();
  // A short reply that is just the option: "B", "(B)", "B. 12 cm" on the last line.
  const lines = stripThink(response).split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.length > 0 ? choiceIn(lines[lines.length - 1]) : null;
}
