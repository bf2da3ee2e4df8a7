/**
 * Text that is safe to print to a terminal: a user's path or value inside a message (an error line, a
 * skipped-row report) may hold ANSI escape sequences or other control characters that would move the
 * cursor, recolour or rewrite the screen. They are shown as escapes instead (`\x1b`, `\u202e`).
 */

/** C0 and C1 controls, DEL, and the bidirectional overrides / isolates that reorder displayed text. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character written as an escape (one line, nothing the terminal acts on). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** `text` made printable line by line: its own line breaks stay (a multi-line message), every other control is escaped. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
