/**
 * The run-folder module (src/protocol/runFolder*.ts): the reader on a file system passed in (an in-memory one
 * here, so the protocol needs no Node API; Node's on a folder the trainer's own writer made), the one run-name
 * format, and the inbox line a reader appends, read back by the trainer's inbox reader.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CONFIG_FILE,
  INBOX_FILE,
  METRICS_FILE,
  RUN_FOLDER_FORMAT_VERSION,
  type RunFolderFs,
  STATUS_FILE,
  controlInboxLine,
  listRunFolders,
  newRunName,
  parseControl,
  readRunBackends,
  readRunDetails,
  readRunHistory,
  readRunStatus,
} from '../../src/protocol/index.js';
import { RunDirectory } from '../../src/trainer/run/index.js';
import { InboxReader } from '../../src/trainer/run/inbox.js';
import { NODE_RUN_FOLDER } from '../../src/trainer/run/nodeRunFolder.js';
import { runDisplayName } from '../../src/extension/runReports.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'durian-run-folder-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A run folder tree in memory: file paths (`/runs/a/status.json`) to their text. */
function memoryFs(files: Record<string, string>, alive: (pid: number) => boolean = () => false): RunFolderFs {
  return {
    readText: (file) => files[file],
    readTail: (file, bytes) => files[file]?.slice(-bytes),
    listFolders: (folder) => [...new Set(Object.keys(files).filter((file) => file.startsWith(`${folder}/`)).map((file) => file.slice(folder.length + 1).split('/')[0]))],
    join: (folder, name) => `${folder}/${name}`,
    isProcessAlive: alive,
  };
}

const status = (state: string, extra: Record<string, unknown> = {}) => JSON.stringify({ state, step: 4, pid: 1234, updatedAt: '2026-12-02T00:00:00.000Z', ...extra });

describe('the run-folder reader, on a file system passed in', () => {
  const files = {
    '/runs/20261202-004037-durian-s3/config.json': JSON.stringify({ estimator: 'durian', steps: 10, groupSize: 4, batchSize: 8, seed: 3 }),
    '/runs/20261202-004037-durian-s3/status.json': status('running'),
    '/runs/20261202-004037-durian-s3/metrics.jsonl': '{"step":1,"elapsedMs":5,"reward/mean":0.5}\n{"step":2,"elapsedMs":9,"reward/mean":0.6}\n{"step":3,"elapsed',
    '/runs/20261202-004037-durian-s3/validation.jsonl': '{"step":0,"accuracy":0.25,"reward":0.3}\nnot json\n{"step":2,"accuracy":0.5,"reward":0.55}\n',
    '/runs/20261202-004037-durian-s3/meta.json': JSON.stringify({ formatVersion: 1, starts: [{ at: 'x', backend: 'wasm', device: 'CPU (wasm)' }, { at: 'y', backend: 'cpu', device: 'CPU', resumedFromStep: 2 }] }),
    '/runs/20261201-120000-grpo/config.json': '{"estimator":"grpo"}',
    '/runs/20261201-120000-grpo/status.json': status('completed'),
    '/runs/notes/readme.txt': 'not a run',
    '/runs/.tmp-half/config.json': '{}',
  };

  it('reads status, history, details and backends; a dead writer reads as crashed; torn and bad lines are skipped', () => {
    const fs = memoryFs(files);
    const dir = '/runs/20261202-004037-durian-s3';
    assert.deepEqual(readRunStatus(fs, dir), { state: 'crashed', step: 4, pid: 1234, trainer: 'gone' });
    assert.deepEqual(readRunStatus(memoryFs(files, () => true), dir), { state: 'running', step: 4, pid: 1234, trainer: 'unknown' });
    const history = readRunHistory(fs, dir);
    assert.deepEqual(history.metrics.map((m) => m.step), [1, 2], 'the torn last line is not read');
    assert.deepEqual(history.validations.map((v) => v.accuracy), [0.25, 0.5]);
    assert.equal(history.skipped, 1, 'the bad line is counted');
    assert.deepEqual(readRunDetails(fs, dir), { hasCheckpoint: false, estimator: 'durian', groupSize: 4, batchSize: 8, seed: 3, firstValidation: { step: 0, accuracy: 0.25 }, lastValidation: { step: 2, accuracy: 0.5 }, elapsedMs: 9 });
    assert.deepEqual(readRunBackends(fs, dir), ['wasm (CPU (wasm))', 'cpu (CPU)'], 'one per start, from meta.json');
    assert.deepEqual(readRunBackends(fs, '/runs/20261201-120000-grpo'), [], 'an older run without meta.json: none recorded');
  });

  it('lists runs in both name formats (newest name first), leaving out unfinished writes', () => {
    const listed = listRunFolders(memoryFs(files), '/runs');
    assert.deepEqual(listed.map((run) => [run.name, run.state]), [
      ['notes', 'not a run'],
      ['20261202-004037-durian-s3', 'crashed'],
      ['20261201-120000-grpo', 'completed'],
    ]);
    assert.equal(listed[1].totalSteps, 10);
  });

  it('refuses a status.json outside the format (a state it does not know, a missing pid)', () => {
    assert.equal(readRunStatus(memoryFs({ '/r/status.json': status('exploded') }), '/r'), undefined);
    assert.equal(readRunStatus(memoryFs({ '/r/status.json': '{"state":"running","step":1,"updatedAt":"x"}' }), '/r'), undefined);
  });
});

describe('the run-folder module on a folder the trainer\'s writer made', () => {
  it('reads back what RunDirectory wrote: status with the format version, metrics, the recorded start', () => {
    const run = RunDirectory.create(work, 'written', { estimator: 'grpo', steps: 3 }, { inbox: true });
    run.appendMetrics(1, { 'reward/mean': 0.25 }, 12);
    run.recordStart({ backend: 'cpu', device: 'CPU (JavaScript)' }, { policy: { kind: 'counting' } });
    run.writeStatus('running', 1);
    const status = run.readStatus();
    assert.equal(status?.formatVersion, RUN_FOLDER_FORMAT_VERSION);
    assert.equal(status?.inbox, INBOX_FILE);
    assert.deepEqual(readRunStatus(NODE_RUN_FOLDER, run.dir), { state: 'running', step: 1, pid: process.pid, trainer: 'unknown' });
    assert.deepEqual(readRunHistory(NODE_RUN_FOLDER, run.dir).metrics, [{ step: 1, elapsedMs: 12, 'reward/mean': 0.25 }]);
    run.recordStart({ backend: 'wasm', device: 'CPU (wasm)', resumedFromStep: 1 });
    assert.deepEqual(readRunBackends(NODE_RUN_FOLDER, run.dir), ['cpu (CPU (JavaScript))', 'wasm (CPU (wasm))']);
    assert.deepEqual(run.readMeta()?.policy, { kind: 'counting' }, 'a later start keeps the facts recorded before');
    for (const file of [CONFIG_FILE, STATUS_FILE, METRICS_FILE]) assert.ok(NODE_RUN_FOLDER.readText(path.join(run.dir, file)) !== undefined, file);
  });

  it('names new runs in one format (`durian train` and the extension), which the Runs view shortens', () => {
    const at = new Date('2026-12-02T00:40:37.123Z');
    assert.equal(newRunName('durian', 3, at), '20261202-004037-durian-s3');
    assert.equal(runDisplayName(newRunName('durian', 3, at)), '12-02 00:40 durian-s3');
    assert.equal(runDisplayName('20261202-004037-durian'), '12-02 00:40 durian', 'the extension\'s older names still read');
  });
});

describe('a control appended to a run\'s inbox', () => {
  it('is one checked JSON line that the trainer\'s inbox reader reads back as the same control', () => {
    const control = { type: 'control/setConfig', controlId: 'attach-1', changes: { lr: 0.002 } } as const;
    const line = controlInboxLine(control);
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'exactly one line');
    const inbox = path.join(work, INBOX_FILE);
    appendFileSync(inbox, line);
    appendFileSync(inbox, controlInboxLine({ type: 'control/pause', controlId: 'attach-2' }));
    const read = new InboxReader(inbox).readNew();
    assert.deepEqual(read.map((l) => parseControl(JSON.parse(String(l.bytes))).ok && JSON.parse(String(l.bytes)).controlId), ['attach-1', 'attach-2']);
    assert.deepEqual(JSON.parse(String(read[0].bytes)), control);
  });

  it('is refused before it is written when the trainer would refuse it, naming the field', () => {
    assert.throws(() => controlInboxLine({ type: 'control/setConfig', controlId: 'bad-1', changes: { lr: -1 } }), /not a valid control for inbox\.jsonl: setConfig\.changes\.lr: must be/);
    assert.throws(() => controlInboxLine({ type: 'control/pause', controlId: 'has space' } as never), /controlId/);
  });
});

// A pid that has exited, so a status naming it reads as crashed on this machine too.
const gone = spawnSync(process.execPath, ['-e', '0']).pid ?? 999_999;
describe('Node\'s file system for the reader', () => {
  it('reads a dead writer\'s running status as crashed', () => {
    const run = RunDirectory.create(work, 'dead-writer', {});
    const file = path.join(run.dir, STATUS_FILE);
    rmSync(file);
    appendFileSync(file, status('paused', { pid: gone }));
    assert.equal(readRunStatus(NODE_RUN_FOLDER, run.dir)?.state, 'crashed');
  });
});
