/**
 * NaN and Infinity in rewards, log-probs and gradients, in a real trainer process. Nothing the user can send
 * makes them on purpose (relabels, configs and tasks are all validated), so the faults come from the
 * trainer's TEST-ONLY hook DURIAN_FAULT (src/trainer/faults.ts; inert unless set): a reward of rollout 0, a
 * token log-prob of rollout 0 from the sampler, or (through one non-finite advantage fed to the loss) the
 * gradients of the update. For each, at its step:
 * - an error event (not fatal) whose `where` names the cause (reward / log-prob / gradient) and whose
 *   message names the step;
 * - the step is skipped: no step event, no metrics line, and the checkpoint written after it holds exactly
 *   the bytes of the one before it (weights.bin and adam.bin, SHA-256 verified);
 * - training goes on: the following steps update the weights, every checkpoint's weights are finite, and the
 *   run completes with exit code 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadCheckpoint } from '../../src/trainer/run/checkpoints.js';

const trainerBundle = path.resolve(__dirname, '../../dist/trainer.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'durian-nonfinite-'));
const cacheDir = path.join(work, 'cache');
const config = path.join(work, 'config.json');
const STEPS = 15;
writeFileSync(
  config,
  JSON.stringify({ steps: STEPS, batchSize: 8, groupSize: 4, trainSize: 64, validationSize: 16, validationEvery: 1000, checkpointEvery: 1, keepCheckpoints: 100, warmupSteps: 5, estimatorOptions: { reasoningBins: 4 } }),
);

interface TrainerEvent {
  type: string;
  [key: string]: unknown;
}

async function runTrainer(args: string[], fault: string | undefined): Promise<{ code: number; events: TrainerEvent[]; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DURIAN_CACHE_DIR: cacheDir };
  delete env.DURIAN_FAULT;
  if (fault !== undefined) env.DURIAN_FAULT = fault;
  const child = spawn(process.execPath, [trainerBundle, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const events: TrainerEvent[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffer.slice(0, newline)) as TrainerEvent);
      buffer = buffer.slice(newline + 1);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number>((resolve) => child.on('close', (exit) => resolve(exit ?? -1)));
  return { code, events, stderr };
}

const FAULTS = [
  { spec: 'nan-reward@3', step: 3, where: 'reward', message: /non-finite reward \(NaN\)/ },
  { spec: 'inf-logprob@5', step: 5, where: 'log-prob', message: /non-finite log-prob \(-Infinity\)/ },
  { spec: 'nan-gradient@7', step: 7, where: 'gradient', message: /gradients are non-finite \(norm NaN/ },
  { spec: 'inf-reward@9', step: 9, where: 'reward', message: /non-finite reward \(Infinity\)/ },
  { spec: 'nan-logprob@11', step: 11, where: 'log-prob', message: /non-finite log-prob \(NaN\)/ },
  { spec: 'inf-gradient@13', step: 13, where: 'gradient', message: /gradients are non-finite \(norm (NaN|Infinity)/ },
] as const;

function float32(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe('NaN and Infinity in rewards, log-probs and gradients', { timeout: 300_000 }, () => {
  it('skips each such step with an error naming the cause and the step, keeps the weights, and trains on', async () => {
    const runDir = path.join(work, 'runs', 'faults');
    const started = Date.now();
    const { code, events, stderr } = await runTrainer(['--config', config, '--out', runDir], FAULTS.map((f) => f.spec).join(','));
    assert.equal(code, 0, `exit code 0; stderr: ${stderr.slice(-2000)}`);
    const done = events.find((e) => e.type === 'trainer/done');
    assert.ok(done && done.reason === 'completed' && done.step === STEPS, `the run completed: ${JSON.stringify(done)}`);
    assert.ok(
      events.some((e) => e.type === 'trainer/log' && /TEST-ONLY fault injection is active \(DURIAN_FAULT\)/.test(String(e.message))),
      'the trainer says that fault injection is on',
    );

    const errors = events.filter((e) => e.type === 'trainer/error');
    assert.equal(errors.length, FAULTS.length, `one error per fault: ${JSON.stringify(errors)}`);
    const stepped = new Set(events.filter((e) => e.type === 'trainer/step').map((e) => e.step as number));
    const checkpoints = path.join(runDir, 'checkpoints');
    const checkpoint = (step: number) => loadCheckpoint(checkpoints, step); // sizes and SHA-256 verified
    const skipped = new Set<number>(FAULTS.map((f) => f.step));

    for (const fault of FAULTS) {
      const error = errors.find((e) => new RegExp(`^step ${fault.step} skipped`).test(String(e.message)));
      assert.ok(error, `an error event for step ${fault.step} (${fault.spec}); got ${JSON.stringify(errors.map((e) => e.message))}`);
      assert.equal(error.where, fault.where, `${fault.spec}: where names the cause`);
      assert.equal(error.fatal, false);
      assert.match(String(error.message), fault.message);
      assert.match(String(error.message), /the weights were kept/);
      assert.ok(!stepped.has(fault.step), `${fault.spec}: no step event for the skipped step`);
      const before = checkpoint(fault.step - 1);
      const after = checkpoint(fault.step);
      assert.ok(Buffer.from(after.bytes['weights.bin']).equals(Buffer.from(before.bytes['weights.bin'])), `${fault.spec}: weights.bin after step ${fault.step} is byte-identical to the one before it`);
      assert.ok(Buffer.from(after.bytes['adam.bin']).equals(Buffer.from(before.bytes['adam.bin'])), `${fault.spec}: Adam's moments are untouched`);
      // The optimiser's step count lives in adam.bin (the array named `step`): not advanced by a skipped step.
      const adamStep = (c: ReturnType<typeof checkpoint>) => float32(c.bytes['adam.bin'])[(c.json['state.json'] as { adamIndex: Record<string, [number, number]> }).adamIndex.step[0]];
      assert.ok(adamStep(before) >= 1, `${fault.spec}: Adam has stepped before step ${fault.step}`);
      assert.equal(adamStep(after), adamStep(before), `${fault.spec}: Adam's step count is unchanged`);
    }

    let changed = 0;
    for (let step = 1; step <= STEPS; step++) {
      const weights = float32(checkpoint(step).bytes['weights.bin']);
      assert.ok(weights.every(Number.isFinite), `the weights after step ${step} are finite`);
      if (skipped.has(step)) continue;
      assert.ok(stepped.has(step), `step ${step} ran`);
      if (step > 1 && !Buffer.from(checkpoint(step).bytes['weights.bin']).equals(Buffer.from(checkpoint(step - 1).bytes['weights.bin']))) changed++;
    }
    // Every step after a skipped one, and every other clean step but the first, moves the weights.
    assert.equal(changed, STEPS - 1 - skipped.size, 'each clean step after the first updated the weights');
    for (const fault of FAULTS) {
      const next = fault.step + 1;
      assert.ok(!Buffer.from(checkpoint(next).bytes['weights.bin']).equals(Buffer.from(checkpoint(fault.step).bytes['weights.bin'])), `training continues after step ${fault.step}`);
    }
    console.log(`non-finite faults: ${FAULTS.length} injected at steps ${[...skipped].join(', ')}, ${FAULTS.length} skipped with an error, ${changed} clean updates, ${STEPS} checkpoints all finite; ${Date.now() - started} ms`);
  });

  it('a malformed DURIAN_FAULT is refused before anything is created', async () => {
    const runDir = path.join(work, 'runs', 'bad-fault');
    const { code, events } = await runTrainer(['--config', config, '--out', runDir], 'nan-weights@3');
    assert.equal(code, 2);
    const error = events.find((e) => e.type === 'trainer/error');
    assert.match(String(error?.message), /DURIAN_FAULT: "nan-weights@3" is not <nan\|inf>-<reward\|logprob\|gradient>@<step>/);
    assert.equal(error?.fatal, true);
    assert.ok(!existsSync(runDir), 'no run folder was created');
  });
});
