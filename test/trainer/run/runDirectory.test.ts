/** RunDirectory: layout, records, path safety. Real files in a temp folder. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CONTROL } from '../../../src/protocol/index.js';
import { RunDirectory, RunDirectoryError, acquireRunLock, runLockHolder } from '../../../src/trainer/run/index.js';
import { sampleGroup } from '../../protocol/samples.js';
import { entries, runError, tempRunsFolder } from './helpers.js';

const CONFIG = { estimator: 'durian', lr: 1e-3, steps: 100 };

describe('creating and opening a run', () => {
  it('lays out the run folder', () => {
    const runs = tempRunsFolder();
    const run = RunDirectory.create(runs, 'first run', CONFIG);
    assert.equal(run.dir, path.join(runs, 'first run'));
    assert.deepEqual(entries(run.dir), ['checkpoints', 'config.json', 'images', 'rollouts', 'status.json']);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(run.dir, 'config.json'), 'utf8')), CONFIG);
    assert.deepEqual(run.readConfig(), CONFIG);
    const status = run.readStatus();
    assert.equal(status?.state, 'running');
    assert.equal(status?.step, 0);
    assert.equal(status?.pid, process.pid);
  });

  it('refuses to create over an existing run', () => {
    const runs = tempRunsFolder();
    RunDirectory.create(runs, 'a', CONFIG);
    const error = runError(() => RunDirectory.create(runs, 'a', CONFIG), 'RUN_EXISTS');
    assert.match(error.message, /A run named "a" already exists/);
  });

  it('rejects unsafe run names with a clear error', () => {
    const runs = tempRunsFolder();
    const cases: [string, RegExp][] = [
      ['../escape', /contains a "\.\." segment/],
      ['..', /contains a "\.\." segment/],
      ['/etc', /is an absolute path/],
      ['C:\\Windows', /is an absolute path/],
      ['a\0b', /contains a NUL byte/],
      ['a/b', /must be a single name/],
      ['a\\b', /must be a single name/],
      ['', /must be a non-empty string/],
      ['.hidden', /may hold only letters/],
      ['x'.repeat(101), /longer than 100 characters/],
    ];
    for (const [name, message] of cases) {
      const error = runError(() => RunDirectory.create(runs, name, CONFIG), 'UNSAFE_PATH');
      assert.match(error.message, message, `name ${JSON.stringify(name)}`);
      assert.match(error.message, /^run name /);
    }
    assert.deepEqual(entries(runs), []);
    assert.deepEqual(entries(path.dirname(runs)).includes('escape'), false);
  });

  it('opens only real runs; a live pid in status.json (reused by another process) does not block it', () => {
    const runs = tempRunsFolder();
    runError(() => RunDirectory.open(runs), 'NOT_A_RUN');
    const run = RunDirectory.create(runs, 'held', CONFIG);
    fs.writeFileSync(path.join(run.dir, 'status.json'), JSON.stringify({ state: 'running', step: 3, pid: process.ppid, updatedAt: new Date().toISOString() }));
    assert.equal(RunDirectory.open(run.dir).dir, fs.realpathSync(run.dir));
  });

  it('refuses a folder that only holds a config.json, without writing to it', () => {
    const runs = tempRunsFolder();
    const folder = path.join(runs, 'project');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'config.json'), '{"name": "some other tool"}\n');
    const error = runError(() => RunDirectory.open(folder), 'NOT_A_RUN');
    assert.match(error.message, /it has no status\.json/);
    fs.writeFileSync(path.join(folder, 'status.json'), '{"ok": true}');
    runError(() => RunDirectory.open(folder), 'NOT_A_RUN');
    assert.deepEqual(entries(folder), ['config.json', 'status.json']);
  });

  it('decides "a trainer is alive on this run" by a lock the kernel releases, not by a pid', async () => {
    const runs = tempRunsFolder();
    const run = RunDirectory.create(runs, 'locked', CONFIG);
    assert.equal(await runLockHolder(run.dir), null);
    const lock = await acquireRunLock(run.dir);
    assert.equal(await runLockHolder(run.dir), process.pid);
    await assert.rejects(acquireRunLock(run.dir), (error: unknown) => error instanceof RunDirectoryError && error.code === 'IN_USE' && new RegExp(`process ${process.pid}`).test(error.message));
    lock.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    (await acquireRunLock(run.dir)).release();
    assert.deepEqual(entries(run.dir).filter((n) => !['config.json', 'status.json', 'rollouts', 'images', 'checkpoints'].includes(n)), [], 'the lock writes nothing in the run');
  });

  it('discards a new run that never started: its folder, or only what it wrote into a folder that was there', () => {
    const runs = tempRunsFolder();
    const made = RunDirectory.create(runs, 'made', CONFIG);
    made.log('info', 'loading the dataset');
    made.discardNew();
    assert.equal(fs.existsSync(made.dir), false, 'the folder create made is gone');
    made.writeStatus('crashed', 0, 'the dataset failed');
    made.log('error', 'the dataset failed');
    assert.equal(fs.existsSync(made.dir), false, 'later status and log writes are dropped');

    const existing = path.join(runs, 'existing');
    fs.mkdirSync(existing);
    fs.writeFileSync(path.join(existing, 'notes.txt'), 'mine');
    const over = RunDirectory.create(runs, 'existing', CONFIG);
    over.log('info', 'loading the dataset');
    over.discardNew();
    assert.deepEqual(entries(existing), ['notes.txt'], 'the folder is left as it was');

    const opened = RunDirectory.open(RunDirectory.create(runs, 'opened', CONFIG).dir);
    assert.throws(() => opened.discardNew(), /only a run this process created/);
    assert.ok(fs.existsSync(opened.dir), 'an opened run is never discarded');
  });

  it('removes unfinished writes when resumed', () => {
    const runs = tempRunsFolder();
    const run = RunDirectory.create(runs, 'leftovers', CONFIG);
    fs.writeFileSync(path.join(run.dir, '.tmp-status.json.123.1'), '{"sta');
    fs.mkdirSync(path.join(run.dir, 'checkpoints', '.tmp-step-000020'));
    fs.writeFileSync(path.join(run.dir, 'rollouts', '.tmp-step-000001.jsonl.9.9'), '');
    const reopened = RunDirectory.open(run.dir);
    assert.equal(entries(path.join(run.dir, 'checkpoints')).length, 1, 'open alone changes nothing');
    assert.deepEqual(reopened.prepareResume().leftovers.sort(), ['.tmp-status.json.123.1', 'checkpoints/.tmp-step-000020', 'rollouts/.tmp-step-000001.jsonl.9.9']);
    assert.deepEqual(reopened.removeLeftovers(), []);
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), []);
    assert.deepEqual(entries(run.dir).filter((n) => n.startsWith('.tmp-')), []);
    assert.deepEqual(entries(path.join(run.dir, 'rollouts')), []);
  });
});

describe('records', () => {
  it('appends metrics one line per step, readable as JSON Lines', () => {
    const run = RunDirectory.create(tempRunsFolder(), 'metrics', CONFIG);
    run.appendMetrics(1, { 'critic/advantages/mean': 0, 'actor/pg_loss': 0.5 }, 120);
    run.appendMetrics(2, { 'critic/advantages/mean': 0.1, 'actor/pg_loss': Number.NaN, step: 99 });
    const text = fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8');
    assert.equal(text.split('\n').length, 3);
    assert.deepEqual(run.readMetrics(), [
      { step: 1, elapsedMs: 120, 'critic/advantages/mean': 0, 'actor/pg_loss': 0.5 },
      { step: 2, 'critic/advantages/mean': 0.1, 'actor/pg_loss': null },
    ]);
  });

  it('writes and reads the rollout groups of a step', () => {
    const run = RunDirectory.create(tempRunsFolder(), 'rollouts', CONFIG);
    const groups = [sampleGroup('p-1'), sampleGroup('p-2')];
    run.writeRollouts(3, groups);
    run.writeRollouts(12, [sampleGroup('p-3')]);
    assert.deepEqual(entries(path.join(run.dir, 'rollouts')), ['step-000003.jsonl', 'step-000012.jsonl']);
    assert.equal(fs.readFileSync(path.join(run.dir, 'rollouts', 'step-000003.jsonl'), 'utf8').trim().split('\n').length, 2);
    assert.deepEqual(run.readRollouts(3), groups);
    assert.deepEqual(run.listRolloutSteps(), [3, 12]);
    runError(() => run.readRollouts(4), 'ENOENT');
    runError(() => run.readRollouts(-1), 'INVALID_INPUT');
    runError(() => run.readRollouts(1.5), 'INVALID_INPUT');
  });

  it('refuses to write a rollout group the protocol would reject', () => {
    const run = RunDirectory.create(tempRunsFolder(), 'bad-rollouts', CONFIG);
    const error = runError(() => run.writeRollouts(1, [sampleGroup(), { ...sampleGroup(), groupStd: Number.NaN }]), 'INVALID_INPUT');
    assert.match(error.message, /groups\[1\]\.groupStd: must be a finite number >= 0, got NaN/);
    assert.deepEqual(entries(path.join(run.dir, 'rollouts')), []);
  });

  it('reports a damaged rollouts line', () => {
    const run = RunDirectory.create(tempRunsFolder(), 'damaged-rollouts', CONFIG);
    fs.writeFileSync(path.join(run.dir, 'rollouts', 'step-000001.jsonl'), `${JSON.stringify(sampleGroup())}\n{"promptId": 1}\n`);
    const error = runError(() => run.readRollouts(1), 'CORRUPT');
    assert.match(error.message, /^rollouts\/step-000001\.jsonl line 2\.promptId: must be a string/);
  });

  it('records interventions and validations with their step', () => {
    const run = RunDirectory.create(tempRunsFolder(), 'interventions', CONFIG);
    const control = { type: CONTROL.setGroupWeight, controlId: 'ctl-1', promptId: 'p-1', weight: 0 } as const;
    run.appendIntervention(7, control, new Date('2026-05-01T10:00:00Z'));
    assert.deepEqual(run.readInterventions(), [{ step: 7, at: '2026-05-01T10:00:00.000Z', kind: 'setGroupWeight', controlId: 'ctl-1', control }]);
    run.appendValidation({ step: 10, accuracy: 0.5, reward: 0.55, perLevel: { easy: 1 } });
    assert.deepEqual(run.readValidation(), [{ step: 10, accuracy: 0.5, reward: 0.55, perLevel: { easy: 1 } }]);
  });

  it('writes images inside images/ and resolves only paths inside it', () => {
    const run = RunDirectory.create(tempRunsFolder(), 'images', CONFIG);
    const png = Uint8Array.from([137, 80, 78, 71]);
    const relative = run.writeImage('p-1.png', png);
    assert.equal(relative, 'images/p-1.png');
    assert.deepEqual(new Uint8Array(fs.readFileSync(run.resolveImage(relative))), png);
    runError(() => run.writeImage('../config.json', png), 'UNSAFE_PATH');
    runError(() => run.resolveImage('config.json'), 'UNSAFE_PATH');
    runError(() => run.resolveImage('images/../../other/x.png'), 'UNSAFE_PATH');
  });

  it('keeps every derived path inside the run directory', () => {
    const run = RunDirectory.create(tempRunsFolder(), 'paths', CONFIG);
    for (const bad of ['../x.jsonl', '/etc/passwd', 'a\0.jsonl', 'rollouts/../../x', '..\\x', 'C:\\x', '']) {
      runError(() => run.appendJsonl(bad, { a: 1 }), 'UNSAFE_PATH');
      runError(() => run.writeJsonAtomic(bad, {}), 'UNSAFE_PATH');
    }
    runError(() => run.resolve('.'), 'UNSAFE_PATH');
    assert.equal(run.resolve('rollouts/step-000001.jsonl'), path.join(run.dir, 'rollouts', 'step-000001.jsonl'));
  });

  it('logs plain text lines', () => {
    const run = RunDirectory.create(tempRunsFolder(), 'log', CONFIG);
    run.log('info', 'backend tfjs-node');
    run.log('warn', 'two\nlines');
    const lines = fs.readFileSync(path.join(run.dir, 'trainer.log'), 'utf8').split('\n');
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT.* INFO {2}backend tfjs-node$/);
    assert.match(lines[1], / WARN {2}two$/);
    assert.equal(lines[2], '    lines');
  });
});
