/**
 * The trainer never outlives its host. Forked with Node IPC (as the extension forks it), the real trainer
 * bundle stops cleanly when the IPC channel goes away: it finishes the step in flight, writes a checkpoint,
 * marks the run `stopped` and exits 0, and every finished step is in that checkpoint.
 * - the host disconnects (what the extension host's exit does to the channel);
 * - the host process is killed with SIGKILL (no deactivate, no disconnect call; the trainer's stdout and
 *   stderr pipes break too). Before the fix this trainer died of an uncaught EPIPE from `process.send`
 *   (status left `running`, no checkpoint of the steps since the last periodic one).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readLatestCheckpoint } from '../../src/trainer/run/checkpoints.js';
import { isProcessAlive } from '../../src/trainer/run/status.js';
import { waitUntilGone } from '../support/processes.js';

const trainerBundle = path.resolve(__dirname, '../../dist/trainer.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'durian-disconnect-'));
const cacheDir = path.join(work, 'cache');
const config = path.join(work, 'config.json');
// Endless, and no periodic checkpoint: the only checkpoint can be the one written on the way out.
writeFileSync(config, JSON.stringify({ steps: 1_000_000, batchSize: 8, groupSize: 4, trainSize: 64, validationSize: 16, validationEvery: 1_000_000, checkpointEvery: 1_000_000, warmupSteps: 5, estimatorOptions: { reasoningBins: 4 } }));

function trainerArgs(runDir: string): string[] {
  return ['--config', config, '--out', runDir, '--cache-dir', cacheDir];
}

interface Status {
  state: string;
  step: number;
  pid: number;
}

/** What the run directory says after the trainer left: a clean stop with every finished step checkpointed. */
function assertStoppedCleanly(runDir: string, lastStepSeen: number): number {
  const status = JSON.parse(readFileSync(path.join(runDir, 'status.json'), 'utf8')) as Status;
  assert.equal(status.state, 'stopped', `status.json: ${JSON.stringify(status)}`);
  const checkpoint = readLatestCheckpoint(path.join(runDir, 'checkpoints'));
  assert.ok(checkpoint, 'a whole checkpoint exists (sizes and SHA-256 match its manifest)');
  assert.deepEqual(checkpoint.skipped, []);
  assert.equal(checkpoint.step, status.step, 'the checkpoint is at the step the trainer stopped at');
  assert.ok(checkpoint.step >= lastStepSeen, `step ${lastStepSeen} had finished, the checkpoint holds ${checkpoint.step}`);
  const steps = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { step: number }).step);
  assert.deepEqual(steps, Array.from({ length: checkpoint.step }, (_, i) => i + 1), 'every finished step is recorded once and is in the checkpoint');
  return checkpoint.step;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

// A stand-in for the extension host: forks the trainer exactly as TrainingSession does (stdout and stderr
// piped to it, IPC), reports the trainer's pid and steps on its stdout, and does nothing else.
const hostScript = `
const { fork } = require('node:child_process');
const [trainer, ...args] = process.argv.slice(1);
const child = fork(trainer, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
child.stdout.resume();
child.stderr.resume();
child.on('message', (m) => { if (m && m.type === 'trainer/step') process.stdout.write(JSON.stringify({ pid: child.pid, step: m.step }) + '\\n'); });
`;

describe('the trainer when its host goes away', { timeout: 300_000 }, () => {
  it('the IPC channel disconnects: it finishes the step, checkpoints, and exits 0', async () => {
    const runDir = path.join(work, 'runs', 'disconnected');
    const child = fork(trainerBundle, trainerArgs(runDir), { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    child.stdout?.resume();
    child.stderr?.resume();
    const exited = exitOf(child);
    let lastStep = 0;
    await new Promise<void>((resolve) =>
      child.on('message', (message: { type?: string; step?: number }) => {
        if (message.type !== 'trainer/step') return;
        lastStep = message.step ?? 0;
        if (lastStep === 5) resolve();
      }),
    );
    const started = Date.now();
    child.disconnect();
    const { code, signal } = await exited;
    const ms = Date.now() - started;
    assert.equal(signal, null);
    assert.equal(code, 0, 'a clean exit');
    const checkpointStep = assertStoppedCleanly(runDir, lastStep);
    console.log(`disconnect: last step seen ${lastStep}, checkpoint ${checkpointStep}, exit 0 after ${ms} ms`);
  });

  it('the host is killed with SIGKILL: the orphaned trainer stops by itself with a whole checkpoint', async () => {
    const runDir = path.join(work, 'runs', 'host-killed');
    const host = spawn(process.execPath, ['-e', hostScript, trainerBundle, ...trainerArgs(runDir)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const hostExited = exitOf(host);
    let buffer = '';
    let trainerPid = 0;
    let lastStep = 0;
    await new Promise<void>((resolve) =>
      host.stdout?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const report = JSON.parse(buffer.slice(0, newline)) as { pid: number; step: number };
          buffer = buffer.slice(newline + 1);
          trainerPid = report.pid;
          lastStep = report.step;
          if (lastStep === 5) resolve();
        }
      }),
    );
    assert.ok(isProcessAlive(trainerPid));
    host.kill('SIGKILL');
    await hostExited;
    const goneMs = await waitUntilGone(trainerPid, 60_000);
    const checkpointStep = assertStoppedCleanly(runDir, lastStep);
    assert.match(readFileSync(path.join(runDir, 'trainer.log'), 'utf8'), /INFO/, 'trainer.log is readable');
    console.log(`host SIGKILL: last step the host saw ${lastStep}, checkpoint ${checkpointStep}, trainer gone ${goneMs} ms after the host`);
  });
});
