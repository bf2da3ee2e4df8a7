/** listRuns: what the Runs view shows for each run folder. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RunDirectory, listRuns } from '../../../src/trainer/run/index.js';
import { tempRunsFolder } from './helpers.js';

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid ?? 999_999;
}

function setStatus(run: RunDirectory, status: object): void {
  fs.writeFileSync(path.join(run.dir, 'status.json'), JSON.stringify(status));
}

describe('listRuns', () => {
  it('is empty for a missing or empty folder', () => {
    const runs = tempRunsFolder();
    assert.deepEqual(listRuns(runs), []);
    assert.deepEqual(listRuns(path.join(runs, 'missing')), []);
  });

  it('lists runs with state, steps and last metrics, newest first, skipping other folders', () => {
    const runs = tempRunsFolder();
    const done = RunDirectory.create(runs, 'done', {});
    done.appendMetrics(1, { 'actor/pg_loss': 0.3 });
    done.appendMetrics(2, { 'actor/pg_loss': 0.2 });
    fs.appendFileSync(path.join(done.dir, 'metrics.jsonl'), '{"step":3,"act');
    setStatus(done, { state: 'completed', step: 2, pid: 1, updatedAt: '2026-05-01T10:00:00.000Z' });

    const live = RunDirectory.create(runs, 'live', {});
    live.appendMetrics(1, { 'actor/pg_loss': 0.9 }, 50);
    setStatus(live, { state: 'running', step: 1, pid: process.pid, updatedAt: '2026-05-02T10:00:00.000Z' });

    const crashed = RunDirectory.create(runs, 'crashed', {});
    setStatus(crashed, { state: 'paused', step: 0, pid: deadPid(), updatedAt: '2026-04-30T10:00:00.000Z' });

    const broken = RunDirectory.create(runs, 'broken', {});
    fs.writeFileSync(path.join(broken.dir, 'status.json'), '{"state":"flying"}');

    fs.mkdirSync(path.join(runs, 'not-a-run'));
    fs.mkdirSync(path.join(runs, '.tmp-x'));
    fs.writeFileSync(path.join(runs, 'notes.txt'), 'hello');

    const listed = listRuns(runs);
    assert.deepEqual(
      listed.filter((r) => r.name !== 'broken').map((r) => [r.name, r.state, r.steps]),
      [
        ['live', 'running', 1],
        ['done', 'completed', 2],
        ['crashed', 'crashed', 0],
      ],
    );
    const doneRun = listed.find((r) => r.name === 'done');
    assert.deepEqual(doneRun?.lastMetrics, { step: 2, 'actor/pg_loss': 0.2 });
    assert.equal(doneRun?.path, done.dir);
    assert.deepEqual(listed.find((r) => r.name === 'live')?.lastMetrics, { step: 1, elapsedMs: 50, 'actor/pg_loss': 0.9 });
    const brokenRun = listed.find((r) => r.name === 'broken');
    assert.equal(brokenRun?.state, 'unknown');
    assert.equal(brokenRun?.problem, 'status.json is malformed');
    assert.equal(listed.length, 4);
  });
});
