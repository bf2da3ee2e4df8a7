/**
 * `durian advantages`: JSON Lines in (one batch per line), JSON Lines out (one result per line).
 * A bad line yields `{"error": "line N: ..."}` and the other lines still run.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { advantagesForLine } from '../core/index.js';

export async function runAdvantages(input: string | undefined, output: NodeJS.WritableStream): Promise<{ lines: number; failed: number }> {
  const stream = input === undefined || input === '-' ? process.stdin : createReadStream(input);
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    if (stream === process.stdin) resolve();
    else stream.once('open', () => resolve());
  });
  await opened;
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  let lines = 0;
  let failed = 0;
  let buffer = '';
  for await (const line of reader) {
    lineNumber++;
    if (line.trim() === '') continue;
    lines++;
    const result = advantagesForLine(line, lineNumber);
    if ('error' in result) failed++;
    buffer += `${JSON.stringify(result)}\n`;
    if (buffer.length > 1 << 16) {
      if (!output.write(buffer)) await new Promise((resolve) => output.once('drain', resolve));
      buffer = '';
    }
  }
  if (buffer) output.write(buffer);
  return { lines, failed };
}
