/**
 * Reading a run's control inbox (`inbox.jsonl`, schemas/README.md "Control inbox"): readers append one
 * control per line; the trainer reads, at each step boundary, the lines completed since the last read. A torn
 * last line (no newline yet) stays unread until its newline arrives. The file is opened with O_NOFOLLOW and
 * O_NONBLOCK: a symbolic link in its place, a FIFO or a folder is an error (InboxReadError), never followed
 * or waited on. At most READ_LIMIT bytes are read per call (the rest at the next); a line longer than
 * MAX_LINE_BYTES is reported as too long, its bytes skipped without being held. The position (byte offset,
 * lines seen, inside an over-long line) is saved in checkpoints so a resumed run never reads a line twice.
 */
import fs from 'node:fs';
import { MAX_CONTROL_CHARS } from '../../protocol/index.js';
import { FileKindError, type OpenedFile, openRegularFile, readRange } from '../regularFile.js';

/** Most bytes read from the inbox at one boundary. */
export const INBOX_READ_LIMIT = 1024 * 1024;
/** A line longer than this (bytes; a control is at most MAX_CONTROL_CHARS characters of JSON) is refused unread. */
export const INBOX_MAX_LINE_BYTES = 4 * MAX_CONTROL_CHARS;

const NEWLINE = 0x0a;

/** Where the reader is: saved in a checkpoint's state.json. */
export interface InboxPosition {
  /** Bytes of the file consumed (always just after a newline, or inside a skipped over-long line). */
  offset: number;
  /** Lines seen so far (the last one's 1-based number). */
  line: number;
  /** Inside an over-long line already reported: its bytes up to the next newline are skipped. */
  skipping: boolean;
}

/** A complete line: its bytes, or null when it is longer than INBOX_MAX_LINE_BYTES. */
export interface InboxLine {
  /** 1-based line number in the file. */
  line: number;
  bytes: Buffer | null;
}

/** The inbox could not be read (a link, not a plain file, no permission): `message` says what and what to do. */
export class InboxReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InboxReadError';
  }
}

export const START_OF_INBOX: InboxPosition = { offset: 0, line: 0, skipping: false };

/** Throws unless `value` is an InboxPosition (from a checkpoint); returns a copy. */
export function checkInboxPosition(value: unknown, where: string): InboxPosition {
  const position = value as Partial<InboxPosition> | null;
  const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (position === null || typeof position !== 'object' || !whole(position.offset) || !whole(position.line) || typeof position.skipping !== 'boolean') {
    throw new Error(`${where} must be {offset, line: whole numbers >= 0, skipping: true/false}, got ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  return { offset: position.offset as number, line: position.line as number, skipping: position.skipping };
}

export class InboxReader {
  private at: InboxPosition;

  constructor(
    /** Absolute path of inbox.jsonl. */
    private readonly file: string,
    position: InboxPosition = START_OF_INBOX,
  ) {
    this.at = { ...position };
  }

  get position(): InboxPosition {
    return { ...this.at };
  }

  /** The lines completed since the last call ([] when the file does not exist). Throws InboxReadError. */
  readNew(): InboxLine[] {
    let { data, size } = this.readFrom(this.at.offset);
    if (size < this.at.offset) {
      // Replaced by a shorter file: read the new one from its start (a reused controlId is refused by the caller).
      this.at = { ...START_OF_INBOX };
      ({ data, size } = this.readFrom(0));
    }
    const lines: InboxLine[] = [];
    let start = 0;
    for (let newline = data.indexOf(NEWLINE); newline >= 0; newline = data.indexOf(NEWLINE, start)) {
      const chunk = data.subarray(start, newline);
      start = newline + 1;
      if (this.at.skipping) {
        this.at.skipping = false;
        continue;
      }
      this.at.line++;
      lines.push({ line: this.at.line, bytes: chunk.length > INBOX_MAX_LINE_BYTES ? null : Buffer.from(chunk) });
    }
    if (data.length - start > INBOX_MAX_LINE_BYTES && !this.at.skipping) {
      // A line too long to hold: reported now, its rest skipped when its newline comes.
      this.at.line++;
      lines.push({ line: this.at.line, bytes: null });
      this.at.skipping = true;
    }
    this.at.offset += this.at.skipping ? data.length : start;
    return lines;
  }

  /** Up to INBOX_READ_LIMIT bytes from `offset`, and the file's size; nothing when it does not exist. */
  private readFrom(offset: number): { data: Buffer; size: number } {
    let opened: OpenedFile;
    try {
      opened = openRegularFile(this.file, 'the inbox', Infinity, { followLinks: false });
    } catch (error) {
      if (!(error instanceof FileKindError)) throw error;
      if (error.code === 'ENOENT') return { data: Buffer.alloc(0), size: 0 };
      if (error.code === 'ELOOP') {
        let target = '';
        try {
          target = ` -> ${fs.readlinkSync(this.file)}`;
        } catch {
          // The target is only for the message.
        }
        throw new InboxReadError(`${this.file} is a symbolic link${target}; the trainer never reads through a link. Remove it and append controls to a plain inbox.jsonl in the run folder`);
      }
      if (error.code !== undefined) throw new InboxReadError(`cannot read ${this.file}: ${error.problem}`);
      throw new InboxReadError(`${this.file} is not a plain file (a folder, FIFO or device); the trainer reads controls only from a plain inbox.jsonl. Remove it and append controls to a plain file`);
    }
    const { fd, size } = opened;
    try {
      if (offset >= size) return { data: Buffer.alloc(0), size };
      return { data: readRange(fd, offset, Math.min(INBOX_READ_LIMIT, size - offset)), size };
    } catch (error) {
      throw new InboxReadError(`cannot read ${this.file}: ${(error as Error).message}`);
    } finally {
      fs.closeSync(fd);
    }
  }
}
