/**
 * Durable writes. `writeFileDurably` writes all bytes and fsyncs before closing; `writeBytesAtomic`
 * writes a temp file in the target's own folder (same file system, so rename is atomic), fsyncs it,
 * renames it over the target and fsyncs the folder: a reader sees the old file or the new one, never
 * half of one, even after a crash or power loss. On failure the temp file is removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fsFailure, guardFs } from './errors.js';
import { TMP_PREFIX } from './layout.js';

let tempCounter = 0;

export function toBytes(content: Uint8Array | string): Uint8Array {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** Writes every byte to an open descriptor (writeSync may write less than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Creates `file` (it must not exist), writes `content`, fsyncs, closes. Throws raw fs errors. */
export function writeFileDurably(file: string, content: Uint8Array | string): void {
  const fd = fs.openSync(file, 'wx', 0o644);
  try {
    writeAll(fd, toBytes(content));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Makes a rename or a new entry in `dir` durable. Some platforms (Windows) cannot open a folder for
 * fsync; there the rename is already as durable as it gets, so the failure is ignored.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not supported here; see above.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function removeQuietly(target: string): void {
  try {
    fs.rmSync(target, { recursive: true, force: true });
  } catch {
    // Best effort: a leftover `.tmp-` entry is removed the next time the run is opened.
  }
}

/** A fresh temp name beside `target`, starting with TMP_PREFIX. */
function tempPathFor(target: string): string {
  tempCounter += 1;
  return path.join(path.dirname(target), `${TMP_PREFIX}${path.basename(target)}.${process.pid}.${tempCounter}`);
}

/** Replaces `target` atomically with `content`. Throws RunDirectoryError naming `target`. */
export function writeBytesAtomic(target: string, content: Uint8Array | string): void {
  const temp = tempPathFor(target);
  try {
    writeFileDurably(temp, content);
    fs.renameSync(temp, target);
  } catch (error) {
    removeQuietly(temp);
    throw fsFailure('write', target, error);
  }
  fsyncDirectory(path.dirname(target));
}

/** `JSON.stringify(value, null, 2)` + newline, atomically. */
export function writeJsonAtomic(target: string, value: unknown): void {
  const textOf = guardFs('serialise JSON for', target, () => JSON.stringify(value, null, 2));
  if (textOf === undefined) throw fsFailure('serialise JSON for', target, new TypeError('the value is not JSON data'));
  writeBytesAtomic(target, `${textOf}\n`);
}
