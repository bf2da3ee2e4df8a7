/**
 * Reading a file the user named without hanging or exhausting memory: a FIFO, socket or device would block
 * `open` or `read` forever (or stream without end), so the file is opened non-blocking and checked with
 * `fstat` on the descriptor that is then read (no window between the check and the read), and its size is
 * checked against a limit before anything is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { printable } from '../core/printable.js';

/** A path that is not a readable regular file, or one over the size limit; the message names both. */
export class FileKindError extends Error {
  /** What is wrong, without the file: 'is a FIFO (named pipe), not a regular file'. */
  readonly problem: string;
  readonly tooLarge: boolean;
  /** The errno code when `open` itself failed (ENOENT, ELOOP for a link refused by `followLinks: false`, ...). */
  readonly code: string | undefined;

  constructor(what: string, file: string, problem: string, tooLarge = false, code?: string) {
    super(printable(`${what} ${file} ${problem}`));
    this.name = 'FileKindError';
    this.problem = printable(problem);
    this.tooLarge = tooLarge;
    this.code = code;
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

export interface OpenedFile {
  fd: number;
  size: number;
}

/**
 * Opens `file` for reading if it is a regular file and at most `maxBytes` long; symlinks are followed unless
 * `followLinks` is false (then a link fails with code ELOOP, where the platform has O_NOFOLLOW).
 * `what` names it in errors ('dataset', 'image', 'encoder model'). The caller closes `fd`.
 */
export function openRegularFile(file: string, what: string, maxBytes = Infinity, options: { followLinks?: boolean } = {}): OpenedFile {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting; it changes nothing for files.
    const noFollow = options.followLinks === false ? (constants.O_NOFOLLOW ?? 0) : 0;
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | noFollow);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileKindError(what, file, code === 'ENOENT' ? 'does not exist' : `cannot be opened: ${(error as Error).message}`, false, code);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new FileKindError(what, file, `is ${kindOf(stats)}, not a regular file`);
    if (stats.size > maxBytes) throw new FileKindError(what, file, `is ${megabytes(stats.size)}, over the ${megabytes(maxBytes)} limit`, true);
    return { fd, size: stats.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/** Up to `length` bytes of `fd` from `offset` (fewer when the file ends first, e.g. truncated while reading). */
export function readRange(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let at = 0;
  while (at < length) {
    const read = readSync(fd, buffer, at, length - at, offset + at);
    if (read === 0) break;
    at += read;
  }
  return at === length ? buffer : buffer.subarray(0, at);
}

/** The whole of a regular file (see openRegularFile), read from the checked descriptor. */
export function readRegularFile(file: string, what: string, maxBytes = Infinity): Buffer {
  const { fd, size } = openRegularFile(file, what, maxBytes);
  try {
    return readRange(fd, 0, size);
  } finally {
    closeSync(fd);
  }
}
