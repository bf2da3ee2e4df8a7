/**
 * The inbox reader (src/trainer/run/inbox.ts) and the trainer's control inbox (src/trainer/inbox.ts) on real
 * files: complete lines only, torn lines once complete, bounded reads, over-long lines, a replaced file, links,
 * FIFOs, positions that resume, refusals with a reason, controlIds used once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ControlInbox } from '../../../src/trainer/inbox.js';
import { RunDirectory } from '../../../src/trainer/run/index.js';
import { INBOX_MAX_LINE_BYTES, INBOX_READ_LIMIT, InboxReadError, InboxReader, checkInboxPosition } from '../../../src/trainer/run/inbox.js';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function inboxFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durian-inbox-'));
  dirs.push(dir);
  return path.join(dir, 'inbox.jsonl');
}

const text = (lines: { line: number; bytes: Buffer | null }[]) => lines.map(({ line, bytes }) => [line, bytes === null ? null : bytes.toString('utf8')]);

describe('InboxReader', () => {
  it('reads complete lines once, a torn line once its newline arrives, nothing when the file is missing', () => {
    const file = inboxFile();
    const reader = new InboxReader(file);
    assert.deepEqual(reader.readNew(), []);
    fs.appendFileSync(file, 'a\nb\n{"half');
    assert.deepEqual(text(reader.readNew()), [[1, 'a'], [2, 'b']]);
    assert.deepEqual(reader.readNew(), [], 'the torn line is not read yet');
    fs.appendFileSync(file, '":1}\n');
    assert.deepEqual(text(reader.readNew()), [[3, '{"half":1}']]);
    assert.deepEqual(reader.position, { offset: Buffer.byteLength('a\nb\n{"half":1}\n'), line: 3, skipping: false });
  });

  it('resumes from a saved position without reading a line twice', () => {
    const file = inboxFile();
    fs.writeFileSync(file, 'one\ntwo\n');
    const first = new InboxReader(file);
    first.readNew();
    fs.appendFileSync(file, 'three\n');
    const resumed = new InboxReader(file, checkInboxPosition(JSON.parse(JSON.stringify(first.position)), 'inbox'));
    assert.deepEqual(text(resumed.readNew()), [[3, 'three']]);
    assert.throws(() => checkInboxPosition({ offset: -1, line: 0, skipping: false }, 'state.json: inbox'), /state\.json: inbox must be/);
  });

  it('reads at most INBOX_READ_LIMIT bytes per call and the rest at the next', () => {
    const file = inboxFile();
    const line = `${'x'.repeat(1000)}\n`;
    const count = Math.ceil((INBOX_READ_LIMIT * 1.5) / line.length);
    fs.writeFileSync(file, line.repeat(count));
    const reader = new InboxReader(file);
    const first = reader.readNew();
    assert.ok(first.length < count && first.length >= Math.floor(INBOX_READ_LIMIT / line.length), `first read: ${first.length} lines`);
    const second = reader.readNew();
    assert.equal(first.length + second.length, count);
    assert.equal(second[second.length - 1].line, count);
  });

  it('reports an over-long line as too long (even before its newline) and skips its bytes', () => {
    const file = inboxFile();
    fs.writeFileSync(file, `ok\n${'y'.repeat(INBOX_MAX_LINE_BYTES + 10)}`);
    const reader = new InboxReader(file);
    assert.deepEqual(text(reader.readNew()), [[1, 'ok'], [2, null]]);
    fs.appendFileSync(file, 'still the long line\nnext\n');
    assert.deepEqual(text(reader.readNew()), [[3, 'next']]);
  });

  it('reads a file replaced by a shorter one from its start', () => {
    const file = inboxFile();
    fs.writeFileSync(file, 'a long first line\nand another\n');
    const reader = new InboxReader(file);
    reader.readNew();
    fs.writeFileSync(file, 'new\n');
    assert.deepEqual(text(reader.readNew()), [[1, 'new']]);
  });

  it('refuses a symbolic link (never reads its target) and a FIFO (without blocking)', () => {
    const file = inboxFile();
    const outside = path.join(path.dirname(file), 'outside.txt');
    fs.writeFileSync(outside, '{"type":"control/pause","controlId":"p"}\n');
    fs.symlinkSync(outside, file);
    assert.throws(() => new InboxReader(file).readNew(), (error: Error) => error instanceof InboxReadError && /is a symbolic link -> .*outside\.txt; the trainer never reads through a link/.test(error.message));
    fs.rmSync(file);
    const made = spawnSync('mkfifo', [file]);
    if (made.status !== 0) return; // no mkfifo on this platform
    assert.throws(() => new InboxReader(file).readNew(), /is not a plain file/);
  });
});

describe('ControlInbox', () => {
  it('turns lines into checked controls or refusals that say where and why, in line order', () => {
    const file = inboxFile();
    fs.writeFileSync(
      file,
      [
        '{"type":"control/setGroupWeight","controlId":"w-1","promptId":"train-000001","weight":2}',
        'not json',
        '',
        '{"type":"control/setConfig","controlId":"c-1","changes":{"lr":-1}}',
        '{"type":"control/fly","controlId":"f-1"}',
        '{"type":"control/pause","controlId":"w-1"}',
        '{"type":"control/pause","controlId":"from-host"}',
      ].join('\n') + '\n',
    );
    const inbox = new ControlInbox(file);
    inbox.markUsed('from-host');
    const items = inbox.take();
    assert.deepEqual(items[0], { control: { type: 'control/setGroupWeight', controlId: 'w-1', promptId: 'train-000001', weight: 2 }, inboxLine: 1 });
    const refusals = items.slice(1).map((item) => ('refusal' in item ? item.refusal : assert.fail(`line ${JSON.stringify(item)} was accepted`)));
    assert.equal(refusals.length, 5, 'the blank line 3 is skipped');
    assert.match(refusals[0].reason, /^inbox\.jsonl line 2: is not JSON \(.*\); write one control per line/);
    assert.equal(refusals[0].inboxLine, 2);
    assert.match(refusals[1].reason, /^inbox\.jsonl line 4: setConfig\.changes\.lr: must be/);
    assert.equal(refusals[1].controlId, 'c-1');
    assert.match(refusals[2].reason, /^inbox\.jsonl line 5: type: unknown control type "control\/fly"/);
    assert.match(refusals[3].reason, /^inbox\.jsonl line 6: controlId "w-1" was already used in this run/);
    assert.deepEqual([refusals[3].kind, refusals[3].controlId], ['pause', 'w-1']);
    assert.match(refusals[4].reason, /line 7: controlId "from-host" was already used/);
  });

  it('takes the controlIds interventions.jsonl acknowledges, and reports a link once', () => {
    const file = inboxFile();
    fs.writeFileSync(file, '{"type":"control/stop","controlId":"s-1"}\n{"type":"control/stop","controlId":"s-2"}\n');
    const applied = { step: 3, at: 'now', kind: 'stop', controlId: 's-1', control: { type: 'control/stop', controlId: 's-1' } };
    const inbox = new ControlInbox(file, undefined, [applied]);
    const [first, second] = inbox.take();
    assert.ok('refusal' in first && /"s-1" was already used/.test(first.refusal.reason));
    assert.ok('control' in second && second.control.controlId === 's-2');

    const linked = inboxFile();
    fs.symlinkSync(file, linked);
    const fromLink = new ControlInbox(linked);
    const reported = fromLink.take();
    assert.equal(reported.length, 1);
    assert.ok('refusal' in reported[0] && reported[0].refusal.inboxLine === undefined && /symbolic link/.test(reported[0].refusal.reason));
    assert.deepEqual(fromLink.take(), [], 'the same problem is reported once');
  });
});

describe('RunDirectory with an inbox', () => {
  it('advertises inbox.jsonl in status.json while running or paused, and writes refusals in the schema\'s shape', () => {
    const runs = path.dirname(inboxFile());
    const run = RunDirectory.create(runs, 'steerable', {}, { inbox: true });
    const status = () => JSON.parse(fs.readFileSync(path.join(run.dir, 'status.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(status().inbox, 'inbox.jsonl');
    run.writeStatus('paused', 3);
    assert.equal(run.readStatus()?.inbox, 'inbox.jsonl', 'asRunStatus keeps the field');
    run.writeStatus('completed', 4);
    assert.equal(status().inbox, undefined, 'a finished run reads no inbox');
    assert.equal(RunDirectory.create(runs, 'plain', {}).readStatus()?.inbox, undefined, 'only a writer that reads the inbox advertises it');
    run.appendRefusal(5, { refused: 'inbox.jsonl line 2: is not JSON', inboxLine: 2 }, new Date('2026-12-02T00:00:00.000Z'));
    run.appendRefusal(5, { refused: 'x'.repeat(20_000), controlId: 'c-1', kind: 'undo', inboxLine: 3 }, new Date('2026-12-02T00:00:00.000Z'));
    const [first, second] = run.readInterventions();
    assert.deepEqual(first, { step: 5, at: '2026-12-02T00:00:00.000Z', inboxLine: 2, refused: 'inbox.jsonl line 2: is not JSON' });
    assert.deepEqual(Object.keys(second), ['step', 'at', 'kind', 'controlId', 'inboxLine', 'refused']);
    assert.equal((second as { refused: string }).refused.length, 16384, 'a reason is cut to the schema\'s maximum');
  });
});
