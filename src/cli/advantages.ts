/**
 * `durian advantages`: JSON Lines in (one batch per line), JSON Lines out (one result per line).
 * A bad line yields `{"error": "line N: ..."}` and the other lines still run.
 */
import { createReadStream, createWriteStream, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DurianInputError, advantagesForLine } from '../core/index.js';

/**
 * Opens `--output FILE` for writing before any input is read, so a path that cannot be written is one
 * clear error line (exit 2) instead of a stream error with a stack.
 */
export function openAdvantagesOutput(file: string): NodeJS.WritableStream {
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new DurianInputError('--output', `cannot write ${file}: ${why}`);
  }
  return createWriteStream('', { fd });
}

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
