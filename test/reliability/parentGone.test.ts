/**
 * The trainer outlives nothing and loses nothing when its parent goes, over stdio as over IPC: a `kill -9`
 * of `durian train` and `durian train | head -2` both end with a clean checkpoint of the last finished step
 * and a status that is not "running". Whether a trainer is alive on a run is decided by the run's lock, not
 * a pid: a resume right after a `kill -9` of the trainer (still a zombie, unreaped) is accepted, and so is a
 * status.json naming a live process that is not a trainer; a second live trainer on the same run is refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EVENT } from '../../src/protocol/index.js';
import { running, waitUntilGone } from '../support/processes.js';
import { cliBundle, readJsonl, runToEnd, startTrainer, trainerBundle, until, workFolder } from './runProcesses.js';

const work = workFolder('parent-gone');
const LONG = { steps: 100_000, checkpointEvery: 1000 };

const statusOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as { state: string; step: number; pid: number };
const metricSteps = (dir: string) => readJsonl(path.join(dir, 'metrics.jsonl')).map((m) => m.step as number);
const latestCheckpoint = (dir: string) => Number(/step-(\d+)/.exec(fs.readFileSync(path.join(dir, 'checkpoints', 'latest'), 'utf8'))?.[1]);

/** The run ended cleanly: status stopped, and its latest checkpoint is its last finished step. */
function assertCleanStop(dir: string, stepSeenBefore: number): void {
  const status = statusOf(dir);
  assert.equal(status.state, 'stopped', 'status.json is not left "running"');
  const steps = metricSteps(dir);
  const last = steps[steps.length - 1];
  assert.ok(last >= stepSeenBefore, `step ${stepSeenBefore} had finished before the parent went`);
  assert.equal(latestCheckpoint(dir), last, 'the checkpoint holds the last finished step: no step lost');
  assert.equal(status.step, last);
}

/** Resumes `dir` for one more step; returns the step it resumed from. */
async function resumeOneStep(dir: string, from: number): Promise<number | undefined> {
  const trainer = startTrainer(['--resume', dir, '--steps', String(from + 1)], work.env);
  const hello = await trainer.waitFor((e) => e.type === EVENT.hello, 'hello');
  assert.equal(await trainer.exit, 0, trainer.stderr());
  return hello.type === EVENT.hello ? hello.resumedFromStep : undefined;
}

describe('the parent goes (real CLI and trainer)', { timeout: 600_000 }, () => {
  it('kill -9 of `durian train`: the trainer checkpoints its last step, stops and the run resumes from it', async () => {
    const dir = path.join(work.dir, 'runs', 'cli-killed');
    const cli = spawn(process.execPath, [cliBundle, 'train', '--config', work.config(LONG), '--out', dir], { env: work.env, stdio: ['ignore', 'pipe', 'pipe'] });
    cli.stdout.resume();
    cli.stderr.resume();
    await until('3 steps', 120_000, () => metricSteps(dir).length >= 3);
    const trainerPid = statusOf(dir).pid;
    const seen = metricSteps(dir).at(-1) as number;
    cli.kill('SIGKILL');
    await waitUntilGone(trainerPid, 60_000);
    assertCleanStop(dir, seen);
    const checkpoint = latestCheckpoint(dir);
    assert.equal(await resumeOneStep(dir, checkpoint), checkpoint);
  });

  it('the terminal closes (SIGHUP to the process group): the trainer checkpoints its last step and stops', async () => {
    const dir = path.join(work.dir, 'runs', 'hangup');
    const cli = spawn(process.execPath, [cliBundle, 'train', '--config', work.config(LONG), '--out', dir], { env: work.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const closed = new Promise((resolve) => cli.on('close', resolve));
    cli.stdout.resume();
    let stderr = '';
    cli.stderr.on('data', (chunk) => (stderr += chunk));
    await until('3 steps', 120_000, () => metricSteps(dir).length >= 3);
    const trainerPid = statusOf(dir).pid;
    const seen = metricSteps(dir).at(-1) as number;
    process.kill(-(cli.pid as number), 'SIGHUP');
    await waitUntilGone(trainerPid, 60_000);
    await closed;
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assertCleanStop(dir, seen);
  });

  // `head -3`: the CLI's first three lines (run, backend, how to steer it) come before any step; the fourth (validation
  // at step 0) meets the closed pipe while the first step trains.
  it('`durian train | head -3`: no stack trace, a clean checkpoint, and the trainer ends', async () => {
    const dir = path.join(work.dir, 'runs', 'piped');
    const errFile = path.join(work.dir, 'piped.stderr');
    const shell = spawn('sh', ['-c', `"${process.execPath}" "${cliBundle}" train --config "${work.config(LONG)}" --out "${dir}" 2>"${errFile}" | head -3`], { env: work.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let shown = '';
    shell.stdout.on('data', (chunk) => (shown += chunk));
    const code = await new Promise<number | null>((resolve) => shell.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(shown.split('\n').filter(Boolean).length, 3, 'head printed its three lines');
    const stderr = fs.readFileSync(errFile, 'utf8');
    assert.doesNotMatch(stderr, /EPIPE|\n\s+at |Error:/, `no stack trace on stderr:\n${stderr}`);
    await waitUntilGone(statusOf(dir).pid, 60_000);
    assertCleanStop(dir, 0);
  });

  it('a resume right after kill -9 of the trainer (a zombie nobody reaps) is accepted', async () => {
    const dir = path.join(work.dir, 'runs', 'zombie');
    const made = await runToEnd(trainerBundle, ['--config', work.config({ steps: 2 }), '--out', dir], work.env);
    assert.equal(made.code, 0, made.stderr);
    const firstPid = statusOf(dir).pid;
    // The trainer's parent is `sleep`, which never waits for its children: once killed, it stays a zombie.
    const holder = spawn('sh', ['-c', `exec 3<&0; "${process.execPath}" "${trainerBundle}" --resume "${dir}" --steps 100000 0<&3 3<&- >/dev/null 2>&1 & exec sleep 600`], { env: work.env, stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      await until('the resumed trainer to train', 120_000, () => statusOf(dir).pid !== firstPid && statusOf(dir).state === 'running' && metricSteps(dir).length >= 4);
      const trainerPid = statusOf(dir).pid;
      process.kill(trainerPid, 'SIGKILL');
      await until('the trainer to be a zombie', 10_000, () => !running(trainerPid));
      assert.ok(fs.existsSync(`/proc/${trainerPid}`), 'the killed trainer is not reaped yet (a zombie), so its pid still exists');
      assert.equal(statusOf(dir).state, 'running', 'its status.json still says running');
      const checkpoint = latestCheckpoint(dir);
      assert.equal(await resumeOneStep(dir, checkpoint), checkpoint, 'accepted, from the last checkpoint');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a status.json naming a live process that is no trainer does not block a resume; a live trainer on the run does', async () => {
    const dir = path.join(work.dir, 'runs', 'foreign-pid');
    const made = await runToEnd(trainerBundle, ['--config', work.config({ steps: 2 }), '--out', dir], work.env);
    assert.equal(made.code, 0, made.stderr);
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ state: 'running', step: 2, pid: process.pid, updatedAt: new Date().toISOString() }));
    const first = startTrainer(['--resume', dir, '--steps', '100000'], work.env);
    await first.waitFor((e) => e.type === EVENT.step, 'a step of the resumed run');
    const second = await runToEnd(cliBundle, ['train', '--resume', dir], work.env);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`^durian: Run foreign-pid is being trained by process ${first.child.pid} right now`));
    first.send({ type: 'control/stop', controlId: 'stop' });
    assert.equal(await first.exit, 0, first.stderr());
  });
});
