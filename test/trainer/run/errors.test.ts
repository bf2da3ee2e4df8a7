/**
 * Disk full and unwritable folders: a RunDirectoryError naming the file and the cause, and never a
 * half-written config, status or checkpoint. Tests run as root, so permissions cannot be denied with
 * chmod: real errors come from a runs folder that is a file (ENOTDIR) and /dev/full (ENOSPC); the
 * others are injected by mocking node:fs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RunDirectory, RunDirectoryError } from '../../../src/trainer/run/index.js';
import { appendJsonl } from '../../../src/trainer/run/jsonl.js';
import { entries, errnoError, runError, tempRunsFolder } from './helpers.js';

describe('file-system failures', () => {
  it('names the path when the runs folder is a file (ENOTDIR)', () => {
    const parent = tempRunsFolder();
    const notAFolder = path.join(parent, 'runs');
    fs.writeFileSync(notAFolder, 'I am a file');
    const error = runError(() => RunDirectory.create(notAFolder, 'r1', {}), 'ENOTDIR');
    assert.match(error.message, /^Could not create the folder .*runs\/r1: a parent of this path is a file, not a folder \(ENOTDIR\)\.$/);
    assert.equal(error.file, path.join(notAFolder, 'r1'));
    assert.equal(fs.readFileSync(notAFolder, 'utf8'), 'I am a file');
  });

  it('reports a full disk on append with a real ENOSPC from /dev/full', { skip: !fs.existsSync('/dev/full') }, () => {
    // A run folder never writes through a link (see symlinks.test.ts), so the JSONL writer is pointed at the device itself.
    const error = runError(() => appendJsonl('/dev/full', [{ step: 1, 'actor/pg_loss': 0.1 }]), 'ENOSPC');
    assert.match(error.message, /^Could not append to \/dev\/full: the disk is full \(ENOSPC\)\. Free some disk space/);
  });

  it('keeps the old config when rewriting it hits a full disk', (t) => {
    const run = RunDirectory.create(tempRunsFolder(), 'config', { lr: 0.001 });
    t.mock.method(fs, 'writeSync', () => {
      throw errnoError('ENOSPC');
    });
    const error = runError(() => run.writeJsonAtomic('config.json', { lr: 0.5, big: 'x'.repeat(10_000) }), 'ENOSPC');
    t.mock.restoreAll();
    assert.equal(error.file, path.join(run.dir, 'config.json'));
    assert.deepEqual(run.readConfig(), { lr: 0.001 });
    assert.deepEqual(entries(run.dir).filter((n) => n.startsWith('.tmp-')), []);
  });

  it('removes a run folder it could not finish creating', (t) => {
    const runs = tempRunsFolder();
    t.mock.method(fs, 'writeSync', () => {
      throw errnoError('ENOSPC');
    });
    runError(() => RunDirectory.create(runs, 'never', { lr: 0.1 }), 'ENOSPC');
    t.mock.restoreAll();
    assert.deepEqual(entries(runs), []);
  });

  it('explains a read-only file system (EROFS) and denied access (EACCES)', (t) => {
    const run = RunDirectory.create(tempRunsFolder(), 'readonly', {});
    for (const [code, words] of [
      ['EROFS', /the file system is read-only \(EROFS\)\. Choose a runs folder on a writable disk/],
      ['EACCES', /permission denied \(EACCES\)\. Choose a runs folder you can write to/],
    ] as const) {
      const mocked = t.mock.method(fs, 'openSync', () => {
        throw errnoError(code);
      });
      const append = runError(() => run.appendMetrics(1, {}), code);
      assert.match(append.message, words);
      const status = runError(() => run.writeStatus('paused', 1), code);
      assert.equal(status.file, path.join(run.dir, 'status.json'));
      const checkpoint = runError(() => run.writeCheckpoint(1, { 'w.bin': Uint8Array.of(1) }), code);
      assert.match(checkpoint.message, /^Could not write checkpoint .*\.tmp-step-000001\/w\.bin/);
      mocked.mock.restore();
    }
    assert.equal(run.readStatus()?.state, 'running');
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), []);
  });

  it('is a proper Error subclass with code and file', () => {
    const error = new RunDirectoryError('/x', 'ENOSPC', 'message');
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'RunDirectoryError');
  });
});
