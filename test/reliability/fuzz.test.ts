/**
 * Hostile input to the real trainer process, and a full disk:
 * - thousands of malformed, wrongly typed, out-of-range, oversized and prototype-polluting control lines are
 *   written to a running trainer: each is rejected with an error event naming the problem, none is applied,
 *   the trainer never crashes, and its training is bit-identical to a clean run with the same seed;
 * - a disk that fills up mid-run (a 4 MB tmpfs): a clear error naming the file and ENOSPC, a clean stop with
 *   exit code 1, and the checkpoint written before it intact.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RunDirectory } from '../../src/trainer/run/index.js';

const trainerBundle = path.resolve(__dirname, '../../dist/trainer.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'durian-fuzz-'));
const cacheDir = path.join(work, 'cache');
const config = path.join(work, 'config.json');
writeFileSync(config, JSON.stringify({ steps: 12, batchSize: 8, groupSize: 4, trainSize: 64, validationSize: 16, validationEvery: 6, checkpointEvery: 4, warmupSteps: 5, estimatorOptions: { reasoningBins: 4 } }));

async function runTrainer(args: string[], input: (write: (line: string) => void) => Promise<void> = async () => undefined) {
  const child = spawn(process.execPath, [trainerBundle, ...args], { env: { ...process.env, DURIAN_CACHE_DIR: cacheDir }, stdio: ['pipe', 'pipe', 'pipe'] });
  const events: { type: string; [key: string]: unknown }[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffer.slice(0, newline)));
      buffer = buffer.slice(newline + 1);
    }
  });
  child.stderr.resume();
  child.stdin.on('error', () => undefined);
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  await input((line) => child.stdin.write(`${line}\n`));
  return { code: await exit, events };
}

/** Control lines that must all be rejected. */
function hostileLines(count: number): string[] {
  const fixed = [
    'not json',
    '{"type":"control/setConfig","controlId":"a","changes":{"lr":-1}}',
    '{"type":"control/setConfig","controlId":"b","changes":{"lr":"0.1"}}',
    '{"type":"control/setConfig","controlId":"c","changes":{"durianWeights":[1,2]}}',
    '{"type":"control/setConfig","controlId":"d","changes":{"groupSize":1000}}',
    '{"type":"control/setConfig","controlId":"e","changes":{}}',
    '{"type":"control/setGroupWeight","controlId":"f","promptId":"train-000001","weight":-3}',
    '{"type":"control/relabel","controlId":"g","step":1,"promptId":"p","rollout":0,"reward":1e400}',
    '{"type":"control/setConfig","controlId":"h","changes":{"__proto__":{"lr":0.5}}}',
    '{"type":"control/pause","controlId":"bad id with spaces"}',
    '{"type":"control/excludePrompt","controlId":"i","promptId":"","extra":1}',
    `{"type":"control/setConfig","controlId":"j","changes":{"estimator":"${'x'.repeat(200_000)}"}}`,
    '[]',
    'null',
    '{"type":"control/undo","controlId":"k"}',
    `${'['.repeat(5000)}${']'.repeat(5000)}`,
  ];
  const random = fc.sample(
    fc.oneof(
      fc.json(),
      fc.record({ type: fc.constantFrom('control/setConfig', 'control/relabel', 'control/setGroupWeight', 'control/nope'), controlId: fc.string(), changes: fc.anything() }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 300 }),
    ),
    { numRuns: count - fixed.length, seed: 42 },
  );
  // Lines that happen to be valid controls are dropped: this test is about rejection only.
  const oneLine = (line: string) => line.trim() !== '' && !/[\n\r]/.test(line);
  return [...fixed, ...random.filter(oneLine).filter((line) => !/"type":"control\/(pause|resume|stop|setConfig|setGroupWeight|relabel|excludePrompt|undo)"/.test(line) || /nope/.test(line) || !/"controlId":"[A-Za-z0-9._:#-]+"/.test(line))];
}

describe('hostile input and a full disk', { timeout: 600_000 }, () => {
  it('rejects thousands of malformed controls, each with an error, and trains bit-identically to a clean run', async () => {
    const lines = hostileLines(3000);
    const clean = await runTrainer(['--config', config, '--out', path.join(work, 'runs', 'clean')]);
    assert.equal(clean.code, 0);
    const fuzzed = await runTrainer(['--config', config, '--out', path.join(work, 'runs', 'fuzzed')], async (write) => {
      for (const line of lines) write(line);
    });
    assert.equal(fuzzed.code, 0, 'the trainer survived');
    const errors = fuzzed.events.filter((e) => e.type === 'trainer/error');
    assert.equal(errors.length, lines.length, 'one error event per hostile line');
    for (const error of errors) {
      assert.equal(error.fatal, false);
      assert.match(String(error.message), /rejected control/);
    }
    assert.equal(fuzzed.events.filter((e) => e.type === 'trainer/applied').length, 0, 'nothing was applied');
    const metrics = (name: string) => readFileSync(path.join(work, 'runs', name, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => {
      const { elapsedMs: _elapsed, ...rest } = JSON.parse(l);
      return Object.fromEntries(Object.entries(rest).filter(([key]) => !key.startsWith('timing_s/') && key !== 'perf/throughput'));
    });
    assert.deepEqual(metrics('fuzzed'), metrics('clean'), 'training is unchanged by the rejected input');
    console.log(`fuzzed the trainer with ${lines.length} hostile control lines: ${errors.length} rejected with an error, 0 applied, 0 crashes`);
  });

  it('stops cleanly with the file and ENOSPC named when the disk fills up, keeping the last whole checkpoint', async (t) => {
    // A real full disk: the runs folder on a 4 MB tmpfs (needs root, as CI and this machine have).
    const mountPoint = path.join(work, 'tiny');
    mkdirSync(mountPoint);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
    if (mounted.status !== 0) {
      t.skip(`cannot mount a small tmpfs here (${mounted.stderr.toString().trim()}); the unit tests cover ENOSPC with /dev/full`);
      return;
    }
    try {
      const runDir = path.join(mountPoint, 'full');
      // Every step's rollout groups on disk (rolloutsEvery 1), so that 200 steps fill the 4 MB.
      const everyStep = path.join(work, 'config-every-step.json');
      writeFileSync(everyStep, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), rolloutsEvery: 1 }));
      const run = await runTrainer(['--config', everyStep, '--steps', '200', '--out', runDir]);
      assert.equal(run.code, 1, 'the trainer stops with exit code 1');
      const fatal = run.events.find((e) => e.type === 'trainer/error' && e.fatal);
      assert.ok(fatal, 'a fatal error event');
      assert.match(String(fatal.message), /ENOSPC|disk is full/);
      assert.match(String(fatal.message), new RegExp(runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      const checkpoint = RunDirectory.open(runDir).readLatestCheckpoint();
      assert.ok(checkpoint && checkpoint.step > 0, 'a whole checkpoint from before the disk filled up');
      const metrics = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean);
      for (const line of metrics) JSON.parse(line);
      console.log(`disk full at step ${run.events.filter((e) => e.type === 'trainer/step').length + 1}: ${String(fatal.message).slice(0, 160)}`);
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });
});
