/**
 * Fault injection: the real trainer process is killed with SIGKILL at random moments of its steps (during
 * rollouts, the update, a checkpoint write), again and again. Every time the run directory stays readable,
 * the latest checkpoint is whole (sizes and hashes match its manifest), the resumed run continues from it
 * with at most one step lost, and after resume no JSONL file holds a torn line or a step past the checkpoint.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RunDirectory } from '../../src/trainer/run/index.js';
import { Rng } from '../../src/trainer/rng.js';

const trainerBundle = path.resolve(__dirname, '../../dist/trainer.js');
const KILLS = Number(process.env.DURIAN_KILLS ?? 20);

interface Started {
  child: ChildProcess;
  hello: Promise<{ resumedFromStep?: number }>;
  steps: number[];
  firstStep: Promise<void>;
  exited: Promise<void>;
}

function start(args: string[], cacheDir: string): Started {
  const child = spawn(process.execPath, [trainerBundle, ...args], { env: { ...process.env, DURIAN_CACHE_DIR: cacheDir }, stdio: ['pipe', 'pipe', 'ignore'] });
  const steps: number[] = [];
  let buffer = '';
  let resolveHello: (value: { resumedFromStep?: number }) => void = () => undefined;
  let resolveStep: () => void = () => undefined;
  const hello = new Promise<{ resumedFromStep?: number }>((resolve) => (resolveHello = resolve));
  const firstStep = new Promise<void>((resolve) => (resolveStep = resolve));
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const event = JSON.parse(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      if (event.type === 'trainer/hello') resolveHello(event);
      if (event.type === 'trainer/step') {
        steps.push(event.step);
        resolveStep();
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, hello, steps, firstStep, exited };
}

function jsonlProblems(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const problems: string[] = [];
  if (text.length > 0 && !text.endsWith('\n')) problems.push(`${file}: last line has no newline`);
  text.split('\n').filter(Boolean).forEach((line, i) => {
    try {
      JSON.parse(line);
    } catch {
      problems.push(`${file}: line ${i + 1} is torn`);
    }
  });
  return problems;
}

describe('kill -9 of the trainer', { timeout: 900_000 }, () => {
  it(`survives ${KILLS} kills at random points of its steps with at most one step lost each time`, async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'durian-kill-'));
    const cacheDir = path.join(work, 'cache');
    const runDir = path.join(work, 'runs', 'killed');
    const config = path.join(work, 'config.json');
    writeFileSync(config, JSON.stringify({ steps: 10_000, batchSize: 8, groupSize: 4, trainSize: 64, validationSize: 16, validationEvery: 10_000, checkpointEvery: 1, keepCheckpoints: 2, warmupSteps: 5, estimatorOptions: { reasoningBins: 4 } }));
    const rng = new Rng(20261125);
    let lastStepSeen = 0;
    let survived = 0;
    for (let kill = 0; kill <= KILLS; kill++) {
      const run = start(kill === 0 ? ['--config', config, '--out', runDir] : ['--resume', runDir], cacheDir);
      const hello = await run.hello;
      if (kill > 0) {
        // Resumed from the latest whole checkpoint: at most one step (the one in flight) was lost.
        const resumed = hello.resumedFromStep ?? 0;
        assert.ok(lastStepSeen - resumed <= 1, `kill ${kill}: resumed from step ${resumed} but step ${lastStepSeen} had finished`);
        survived++;
      }
      if (kill === KILLS) {
        run.child.stdin?.write(`${JSON.stringify({ type: 'control/stop', controlId: 'final-stop' })}\n`);
        await run.exited;
        break;
      }
      await run.firstStep;
      // Somewhere inside a later step: rollouts, scoring, update, metrics or checkpoint writing.
      await new Promise((resolve) => setTimeout(resolve, 50 + rng.int(900)));
      run.child.kill('SIGKILL');
      await run.exited;
      lastStepSeen = run.steps.length > 0 ? run.steps[run.steps.length - 1] : lastStepSeen;

      // The run directory is readable and its latest checkpoint is whole, right after the kill.
      const opened = RunDirectory.open(runDir);
      const checkpoint = opened.readLatestCheckpoint();
      assert.ok(checkpoint, `kill ${kill}: a whole checkpoint exists`);
      assert.ok(checkpoint.bytes['weights.bin'].byteLength > 0 && checkpoint.json['state.json']);
    }
    // After the last resume: no torn line anywhere, metrics contiguous and never past the last checkpoint + steps.
    const opened = RunDirectory.open(runDir);
    const problems = ['metrics.jsonl', 'interventions.jsonl'].flatMap((file) => {
      try {
        return jsonlProblems(path.join(runDir, file));
      } catch {
        return [];
      }
    });
    assert.deepEqual(problems, []);
    const steps = opened.readMetrics().map((m) => m.step);
    assert.deepEqual(steps, steps.map((_, i) => i + 1), 'metrics hold each step once, in order');
    assert.equal(survived, KILLS);
    console.log(`kill -9 survived: ${survived} kills, final step ${steps[steps.length - 1]}, torn lines left: 0`);
  });
});
