/**
 * The control inbox of a run (schemas/README.md "Control inbox"), as the trainer uses it: at each step
 * boundary `take()` turns the lines appended to `inbox.jsonl` since the last boundary into controls, checked by
 * the protocol's `parseControl` (the same check as a control over stdio or IPC), or into refusals with a reason
 * that says where (`inbox.jsonl line 3: setConfig.changes.lr: must be ...`). The trainer applies the controls
 * through the same path as any other control and writes each refusal to interventions.jsonl.
 *
 * A controlId is used once per run: one that interventions.jsonl already holds (applied, or refused after it
 * was read as a control), or that an earlier control of this process used, is refused. With the position saved
 * in the checkpoint (./run/inbox.ts), a resumed run reads on from where its checkpoint was taken.
 */
import { CONTROL_ID_PATTERN, type Control, type ControlKind, MAX_CONTROL_CHARS, MAX_ID_CHARS, controlKindOf, parseControl } from '../protocol/index.js';
import { INBOX_FILE } from './run/layout.js';
import { INBOX_MAX_LINE_BYTES, InboxReadError, type InboxPosition, InboxReader, START_OF_INBOX } from './run/inbox.js';

/** A line (or the inbox itself) the trainer will not apply, and why. */
export interface InboxRefusal {
  reason: string;
  /** 1-based line of the inbox (absent when the inbox as a whole could not be read). */
  inboxLine?: number;
  controlId?: string;
  kind?: ControlKind;
}

export type InboxItem = { control: Control; inboxLine: number } | { refusal: InboxRefusal };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ControlInbox {
  private readonly reader: InboxReader;
  private readonly used = new Set<string>();
  /** The last read problem reported (a link, not a file): reported once, until the inbox reads again. */
  private problem: string | undefined;

  /**
   * `file`: the run's inbox.jsonl; `position`: where the checkpoint resumed from left off (default: the start);
   * `acknowledged`: the lines of interventions.jsonl, whose controlIds are taken.
   */
  constructor(file: string, position: InboxPosition = START_OF_INBOX, acknowledged: readonly unknown[] = []) {
    this.reader = new InboxReader(file, position);
    for (const record of acknowledged) {
      const { controlId, control, kind } = (record ?? {}) as { controlId?: unknown; control?: unknown; kind?: unknown };
      // Applied lines carry the control; refused ones carry a kind only when the line was a valid control.
      if (typeof controlId === 'string' && (control !== undefined || kind !== undefined)) this.used.add(controlId);
    }
  }

  get position(): InboxPosition {
    return this.reader.position;
  }

  /** A control applied from elsewhere (stdio, IPC): its controlId is taken for the inbox too. */
  markUsed(controlId: string): void {
    this.used.add(controlId);
  }

  /** The controls and refusals of the lines completed since the last call, in line order. */
  take(): InboxItem[] {
    let lines;
    try {
      lines = this.reader.readNew();
    } catch (error) {
      if (!(error instanceof InboxReadError)) throw error;
      if (error.message === this.problem) return [];
      this.problem = error.message;
      return [{ refusal: { reason: error.message } }];
    }
    this.problem = undefined;
    const items: InboxItem[] = [];
    for (const { line, bytes } of lines) {
      const item = this.check(line, bytes);
      if (item) items.push(item);
    }
    return items;
  }

  private check(line: number, bytes: Buffer | null): InboxItem | undefined {
    const where = `${INBOX_FILE} line ${line}`;
    const refuse = (reason: string, control?: { controlId: string; kind?: ControlKind }): InboxItem => ({ refusal: { reason: `${where}: ${reason}`, inboxLine: line, ...control } });
    if (bytes === null) return refuse(`is longer than ${INBOX_MAX_LINE_BYTES} bytes; a control is one JSON object of at most ${MAX_CONTROL_CHARS} characters`);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return refuse('is not UTF-8 text; write one control per line as JSON');
    }
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return refuse(`is not JSON (${(error as Error).message.slice(0, 200)}); write one control per line, e.g. {"type":"control/pause","controlId":"p-1"}`);
    }
    const parsed = parseControl(value);
    if (!parsed.ok) {
      const guess = (value as { controlId?: unknown } | null)?.controlId;
      return refuse(parsed.error, typeof guess === 'string' && guess.length <= MAX_ID_CHARS && CONTROL_ID_PATTERN.test(guess) ? { controlId: guess } : undefined);
    }
    const control = parsed.value;
    const kind = controlKindOf(control);
    if (this.used.has(control.controlId)) {
      return refuse(`controlId ${JSON.stringify(control.controlId)} was already used in this run; give every control a new controlId`, { controlId: control.controlId, kind });
    }
    this.used.add(control.controlId);
    return { control, inboxLine: line };
  }
}
