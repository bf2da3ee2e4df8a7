/** Atomic checkpoints: whole-or-nothing writes, `latest`, pruning, and recovery after a crash mid-write. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RunDirectory } from '../../../src/trainer/run/index.js';
import { entries, errnoError, runError, tempRunsFolder } from './helpers.js';

const weightsOf = (step: number) => Uint8Array.from({ length: 1000 }, (_, i) => (i * 7 + step) % 256);

function newRun(keepCheckpoints = 3): RunDirectory {
  return RunDirectory.create(tempRunsFolder(), 'ckpt', { steps: 100 }, { keepCheckpoints });
}

describe('writeCheckpoint / readLatestCheckpoint', () => {
  it('writes bytes and JSON parts with a manifest, and reads them back', () => {
    const run = newRun();
    const info = run.writeCheckpoint(10, { 'weights.bin': weightsOf(10), 'state.json': { step: 10, liveConfig: { lr: 0.001 } } });
    assert.deepEqual(info, { step: 10, path: path.join(run.dir, 'checkpoints', 'step-000010'), relativePath: 'checkpoints/step-000010' });
    assert.deepEqual(entries(info.path), ['manifest.json', 'state.json', 'weights.bin']);
    assert.equal(fs.readFileSync(path.join(run.dir, 'checkpoints', 'latest'), 'utf8'), 'step-000010\n');
    const loaded = run.readLatestCheckpoint();
    assert.ok(loaded);
    assert.equal(loaded.step, 10);
    assert.deepEqual(loaded.bytes['weights.bin'], weightsOf(10));
    assert.deepEqual(loaded.json['state.json'], { step: 10, liveConfig: { lr: 0.001 } });
    assert.deepEqual(loaded.skipped, []);
  });

  it('returns null without checkpoints', () => {
    assert.equal(newRun().readLatestCheckpoint(), null);
  });

  it('keeps only the newest K checkpoints', () => {
    const run = newRun(2);
    for (const step of [10, 20, 30, 40, 50]) run.writeCheckpoint(step, { 'weights.bin': weightsOf(step) });
    assert.deepEqual(run.listCheckpoints(), [50, 40]);
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), ['latest', 'step-000040', 'step-000050']);
    assert.equal(run.readLatestCheckpoint()?.step, 50);
  });

  it('re-writes a step that already has a checkpoint', () => {
    const run = newRun();
    run.writeCheckpoint(10, { 'weights.bin': weightsOf(1) });
    run.writeCheckpoint(10, { 'weights.bin': weightsOf(2) });
    assert.deepEqual(run.readLatestCheckpoint()?.bytes['weights.bin'], weightsOf(2));
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), ['latest', 'step-000010']);
  });

  it('survives a crash mid-write: the leftover .tmp- folder is ignored, then cleaned on resume', () => {
    const run = newRun();
    run.writeCheckpoint(10, { 'weights.bin': weightsOf(10) });
    // The process died while writing step 20: half a weights file, no manifest, no rename.
    const staging = path.join(run.dir, 'checkpoints', '.tmp-step-000020');
    fs.mkdirSync(staging);
    fs.writeFileSync(path.join(staging, 'weights.bin'), weightsOf(20).subarray(0, 300));
    assert.equal(run.readLatestCheckpoint()?.step, 10);
    const reopened = RunDirectory.open(run.dir);
    reopened.prepareResume();
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), ['latest', 'step-000010']);
    const loaded = reopened.readLatestCheckpoint();
    assert.equal(loaded?.step, 10);
    assert.deepEqual(loaded?.bytes['weights.bin'], weightsOf(10));
  });

  it('leaves nothing half-written when a write fails mid-checkpoint', (t) => {
    const run = newRun();
    run.writeCheckpoint(10, { 'weights.bin': weightsOf(10) });
    let writes = 0;
    const realWrite = fs.writeSync;
    t.mock.method(fs, 'writeSync', (...args: Parameters<typeof fs.writeSync>) => {
      writes += 1;
      if (writes === 2) throw errnoError('ENOSPC');
      return (realWrite as (...a: unknown[]) => number)(...args);
    });
    const error = runError(() => run.writeCheckpoint(20, { 'weights.bin': weightsOf(20), 'optimizer.bin': weightsOf(21) }), 'ENOSPC');
    t.mock.restoreAll();
    assert.match(error.message, /^Could not write checkpoint .*\.tmp-step-000020\/optimizer\.bin: the disk is full \(ENOSPC\)\. Free some disk space/);
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), ['latest', 'step-000010']);
    assert.equal(run.readLatestCheckpoint()?.step, 10);
  });

  it('leaves nothing behind when a part cannot be serialised', () => {
    const run = newRun();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => run.writeCheckpoint(5, { 'state.json': cyclic }));
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), []);
  });

  it('falls back to the newest intact checkpoint when the latest is damaged', () => {
    const run = newRun();
    run.writeCheckpoint(10, { 'weights.bin': weightsOf(10) });
    run.writeCheckpoint(20, { 'weights.bin': weightsOf(20) });
    const weights = path.join(run.dir, 'checkpoints', 'step-000020', 'weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[5] ^= 0xff;
    fs.writeFileSync(weights, bytes);
    const loaded = run.readLatestCheckpoint();
    assert.equal(loaded?.step, 10);
    assert.equal(loaded?.skipped.length, 1);
    assert.match(loaded?.skipped[0] ?? '', /checkpoint checkpoints\/step-000020 is damaged: part weights\.bin does not match its manifest/);
  });

  it('falls back when latest names a missing checkpoint', () => {
    const run = newRun();
    run.writeCheckpoint(10, { 'weights.bin': weightsOf(10) });
    fs.writeFileSync(path.join(run.dir, 'checkpoints', 'latest'), 'step-000030\n');
    const loaded = run.readLatestCheckpoint();
    assert.equal(loaded?.step, 10);
    assert.match(loaded?.skipped[0] ?? '', /latest names step-000030, which does not exist/);
  });

  it('follows latest to an older checkpoint (how a user rolls back)', () => {
    const run = newRun();
    run.writeCheckpoint(10, { 'weights.bin': weightsOf(10) });
    run.writeCheckpoint(20, { 'weights.bin': weightsOf(20) });
    fs.writeFileSync(path.join(run.dir, 'checkpoints', 'latest'), 'step-000010\n');
    assert.equal(run.readLatestCheckpoint()?.step, 10);
  });

  it('rejects unsafe part names and typed arrays other than Uint8Array', () => {
    const run = newRun();
    runError(() => run.writeCheckpoint(1, { '../weights.bin': weightsOf(1) }), 'UNSAFE_PATH');
    runError(() => run.writeCheckpoint(1, { 'manifest.json': {} }), 'INVALID_INPUT');
    const error = runError(() => run.writeCheckpoint(1, { 'w.bin': new Float32Array(4) }), 'INVALID_INPUT');
    assert.match(error.message, /new Uint8Array\(x\.buffer, x\.byteOffset, x\.byteLength\)/);
    runError(() => run.writeCheckpoint(-3, { 'w.bin': weightsOf(1) }), 'INVALID_INPUT');
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), []);
  });
});
