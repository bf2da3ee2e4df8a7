/**
 * JSON Lines files: append whole lines, read them back, cut a torn tail, and rewrite keeping some lines.
 *
 * fsync policy: `appendJsonl` writes all of its lines with one write() call and then fsyncs (fdatasync)
 * the file, so a record reported to the user as done is on disk; a crash can only leave a torn LAST line,
 * which `repairTornTail` cuts on resume. Readers skip a last line that has no newline yet (it is being
 * written). trainer.log is plain text and is appended without fsync (it is a diagnostic, not a record).
 */
import fs from 'node:fs';
import { type JsonlText, parseJsonlText } from '../../protocol/index.js';
import { toBytes, writeAll, writeBytesAtomic } from './atomic.js';
import { fsFailure, guardFs } from './errors.js';

const NEWLINE = 0x0a;
/** O_NOFOLLOW where the platform has it: a run file that is a symbolic link is refused (ELOOP), never followed. */
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
/** Open flags to append to a file without following a symbolic link. */
export const APPEND_NOFOLLOW = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | NOFOLLOW;
const CHUNK = 64 * 1024;

/** Serialises records as JSON Lines; every record must be JSON data. */
function toJsonLines(file: string, records: readonly unknown[]): string {
  let out = '';
  for (const record of records) {
    const line = guardFs('serialise a record for', file, () => JSON.stringify(record));
    if (line === undefined) throw fsFailure('serialise a record for', file, new TypeError(`${typeof record} is not JSON data`));
    out += `${line}\n`;
  }
  return out;
}

/** Appends records as lines with one write, then fsyncs unless `durable` is false. */
export function appendJsonl(file: string, records: readonly unknown[], durable = true): void {
  const bytes = toBytes(toJsonLines(file, records));
  guardFs('append to', file, () => {
    const fd = fs.openSync(file, APPEND_NOFOLLOW, 0o644);
    try {
      writeAll(fd, bytes);
      if (durable) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** A JSONL file's complete lines, parsed (the protocol's parseJsonlText). */
export type JsonlContent = JsonlText;

/** Reads a JSONL file; a missing file reads as empty. Blank lines are skipped; a torn last line is not read. */
export function readJsonl(file: string): JsonlContent {
  const content = guardFs('read', file, () => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
  });
  return parseJsonlText(content);
}

/** Position of the last `\n` before `end`, or -1; reads backwards in chunks. */
function lastNewlineBefore(fd: number, end: number): number {
  const buffer = Buffer.alloc(CHUNK);
  let chunkEnd = end;
  while (chunkEnd > 0) {
    const start = Math.max(0, chunkEnd - CHUNK);
    const read = fs.readSync(fd, buffer, 0, chunkEnd - start, start);
    const found = buffer.subarray(0, read).lastIndexOf(NEWLINE);
    if (found !== -1) return start + found;
    chunkEnd = start;
  }
  return -1;
}

function readRange(fd: number, start: number, end: number): string {
  const buffer = Buffer.alloc(end - start);
  let offset = 0;
  while (offset < buffer.length) {
    const read = fs.readSync(fd, buffer, offset, buffer.length - offset, start + offset);
    if (read === 0) break;
    offset += read;
  }
  return buffer.toString('utf8', 0, offset);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The end offset of the file's intact part: after its last newline-terminated line that parses as JSON
 * (blank lines count as intact). Bytes after it are a torn write.
 */
function intactEnd(fd: number, size: number): number {
  let end = size;
  while (end > 0) {
    const newline = lastNewlineBefore(fd, end);
    if (newline !== end - 1) {
      end = newline + 1; // a tail without its newline: torn
      continue;
    }
    const lineStart = lastNewlineBefore(fd, end - 1) + 1;
    const line = readRange(fd, lineStart, end - 1).trim();
    if (line.length === 0 || isJson(line)) return end;
    end = lineStart; // a complete line that is not JSON (e.g. zeros after a power loss)
  }
  return 0;
}

/** Cuts a torn tail (no trailing newline, or unparsable last lines); returns the bytes cut. */
export function repairTornTail(file: string): number {
  return guardFs('repair', file, () => {
    const fd = fs.openSync(file, fs.constants.O_RDWR | NOFOLLOW);
    try {
      const size = fs.fstatSync(fd).size;
      const end = intactEnd(fd, size);
      if (end < size) {
        fs.ftruncateSync(fd, end);
        fs.fsyncSync(fd);
      }
      return size - end;
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** The last complete line that parses as JSON, read from the end (cheap for long files); undefined if none. */
export function readLastRecord(file: string): unknown {
  return guardFs('read', file, () => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const end = intactEnd(fd, fs.fstatSync(fd).size);
      let lineEnd = end;
      while (lineEnd > 0) {
        const lineStart = lastNewlineBefore(fd, lineEnd - 1) + 1;
        const line = readRange(fd, lineStart, lineEnd - 1).trim();
        if (line.length > 0 && isJson(line)) return JSON.parse(line) as unknown;
        lineEnd = lineStart;
      }
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  });
}

/**
 * Rewrites `file` atomically with only the complete lines whose record `keep` accepts (unparsable lines
 * are dropped); returns how many lines were removed. The file is left untouched when nothing goes.
 */
export function filterJsonl(file: string, keep: (record: unknown) => boolean): number {
  const content = guardFs('read', file, () => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  });
  if (content === undefined) return 0;
  const lines = content.split('\n');
  const tail = lines.pop() ?? '';
  let removed = tail.trim().length > 0 ? 1 : 0;
  const kept: string[] = [];
  for (const line of lines) {
    if (line.trim().length === 0) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      removed++;
      continue;
    }
    if (keep(record)) kept.push(line);
    else removed++;
  }
  if (removed > 0) writeBytesAtomic(file, kept.map((line) => `${line}\n`).join(''));
  return removed;
}
