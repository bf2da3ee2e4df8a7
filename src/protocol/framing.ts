/**
 * JSON Lines framing: one message per line, for pipes (trainer stdout, a remote trainer's socket) and for
 * the run directory's .jsonl files. `encodeLine` writes a line; `LineDecoder` splits a stream of chunks
 * back into lines, caps their length, and reports a malformed line as an error result without stopping,
 * so one bad line never takes the stream down.
 */
import type { ParseResult } from './parse.js';
import { MAX_EVENT_CHARS } from './limits.js';

/** The message as one line of JSON, newline included. JSON escapes every newline inside strings. */
export function encodeLine(message: unknown): string {
  const line = JSON.stringify(message);
  if (line === undefined) throw new TypeError(`encodeLine: ${typeof message} is not JSON data`);
  return `${line}\n`;
}

/** One decoded line: its 1-based number in the stream, and the parsed message or why it was refused. */
export type DecodedLine<T> = ParseResult<T> & { line: number };

export interface LineDecoderOptions<T> {
  /** Longest line accepted, in characters (newline excluded). Longer lines are skipped and reported. */
  maxLineChars?: number;
  /** Checks the JSON value of each line (e.g. `parseEvent`); the default accepts any JSON. */
  parse?: (value: unknown) => ParseResult<T>;
}

/**
 * Streaming splitter: `push` chunks (strings or UTF-8 bytes, split anywhere, even inside a character),
 * get back the lines completed so far; `end` flushes a last line that lacks its newline. Blank lines are
 * skipped; `\r\n` endings are accepted. Memory stays bounded by `maxLineChars`: an over-long line is
 * dropped as it streams in, not buffered.
 */
export class LineDecoder<T = unknown> {
  private readonly maxLineChars: number;
  private readonly parse: (value: unknown) => ParseResult<T>;
  private readonly utf8 = new TextDecoder('utf-8');
  private pending = '';
  /** Characters of the current over-long line seen so far (0 = not discarding). */
  private discarded = 0;
  private lineNumber = 0;

  constructor(options: LineDecoderOptions<T> = {}) {
    this.maxLineChars = options.maxLineChars ?? MAX_EVENT_CHARS;
    this.parse = options.parse ?? ((value) => ({ ok: true, value: value as T }));
  }

  push(chunk: string | Uint8Array): DecodedLine<T>[] {
    const textChunk = typeof chunk === 'string' ? chunk : this.utf8.decode(chunk, { stream: true });
    const out: DecodedLine<T>[] = [];
    let start = 0;
    for (;;) {
      const newline = textChunk.indexOf('\n', start);
      if (newline === -1) break;
      this.finishLine(textChunk.slice(start, newline), out);
      start = newline + 1;
    }
    this.accumulate(textChunk.slice(start));
    return out;
  }

  /** Flushes the last line if the stream ended without a newline. */
  end(): DecodedLine<T>[] {
    const out: DecodedLine<T>[] = [];
    this.accumulate(this.utf8.decode());
    if (this.pending.length > 0 || this.discarded > 0) this.finishLine('', out);
    return out;
  }

  private accumulate(part: string): void {
    if (this.discarded > 0) {
      this.discarded += part.length;
    } else if (this.pending.length + part.length > this.maxLineChars) {
      this.discarded = this.pending.length + part.length;
      this.pending = '';
    } else {
      this.pending += part;
    }
  }

  private finishLine(tail: string, out: DecodedLine<T>[]): void {
    this.accumulate(tail);
    const line = ++this.lineNumber;
    if (this.discarded > 0) {
      const length = this.discarded;
      this.discarded = 0;
      this.pending = '';
      out.push({ ok: false, error: `line ${line}: longer than ${this.maxLineChars} characters (${length}); skipped`, line });
      return;
    }
    const text = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
    this.pending = '';
    if (text.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      out.push({ ok: false, error: `line ${line}: not valid JSON (${reason.slice(0, 200)})`, line });
      return;
    }
    const parsed = this.parse(value);
    out.push(parsed.ok ? { ok: true, value: parsed.value, line } : { ok: false, error: `line ${line}: ${parsed.error}`, line });
  }
}
