/** Resume: torn-line repair, truncation after the checkpoint's step, and the whole sequence. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CONTROL } from '../../../src/protocol/index.js';
import { RunDirectory } from '../../../src/trainer/run/index.js';
import { sampleGroup } from '../../protocol/samples.js';
import { entries, runError, tempRunsFolder } from './helpers.js';

function trainedRun(steps: number, checkpointEvery: number, keepCheckpoints = 3): RunDirectory {
  const run = RunDirectory.create(tempRunsFolder(), 'resume', { steps: 100 }, { keepCheckpoints });
  for (let step = 1; step <= steps; step++) {
    run.appendMetrics(step, { 'actor/pg_loss': step / 100 });
    run.writeRollouts(step, [sampleGroup(`p-${step}`)]);
    if (step % 5 === 0) run.appendValidation({ step, accuracy: 0.5, reward: 0.5 });
    if (step % 4 === 0) run.appendIntervention(step, { type: CONTROL.pause, controlId: `c-${step}` });
    if (step % checkpointEvery === 0) run.writeCheckpoint(step, { 'weights.bin': Uint8Array.of(step) });
  }
  return run;
}

const metricsFile = (run: RunDirectory) => path.join(run.dir, 'metrics.jsonl');

describe('repairTornLines', () => {
  it('cuts a last line without its newline', () => {
    const run = trainedRun(3, 100);
    const torn = '{"step":4,"actor/pg_lo';
    fs.appendFileSync(metricsFile(run), torn);
    assert.deepEqual(run.repairTornLines(), { bytesCut: torn.length, files: [{ file: 'metrics.jsonl', bytesCut: torn.length }] });
    assert.deepEqual(run.readMetrics().map((m) => m.step), [1, 2, 3]);
    assert.ok(fs.readFileSync(metricsFile(run), 'utf8').endsWith('}\n'));
    assert.deepEqual(run.repairTornLines(), { bytesCut: 0, files: [] });
  });

  it('cuts complete but unparsable last lines (zeros after a power loss) and torn rollouts files', () => {
    const run = trainedRun(3, 100);
    const zeros = `${'\0'.repeat(40)}\n`;
    fs.appendFileSync(metricsFile(run), zeros);
    const rollouts = path.join(run.dir, 'rollouts', 'step-000003.jsonl');
    fs.appendFileSync(rollouts, '{"promptId":');
    fs.appendFileSync(path.join(run.dir, 'interventions.jsonl'), 'garbage\n{"st');
    const report = run.repairTornLines();
    assert.deepEqual(report.files, [
      { file: 'metrics.jsonl', bytesCut: zeros.length },
      { file: 'interventions.jsonl', bytesCut: 'garbage\n{"st'.length },
      { file: 'rollouts/step-000003.jsonl', bytesCut: '{"promptId":'.length },
    ]);
    assert.equal(report.bytesCut, zeros.length + 12 + 12);
    assert.equal(run.readRollouts(3).length, 1);
    assert.deepEqual(run.readInterventions().map((r) => r.step), []);
  });

  it('handles lines longer than its read chunk', () => {
    const run = trainedRun(1, 100);
    const long = { step: 2, text: 'x'.repeat(200_000) };
    run.appendJsonl('metrics.jsonl', long);
    const torn = `{"step":3,"text":"${'y'.repeat(150_000)}`;
    fs.appendFileSync(metricsFile(run), torn);
    const report = run.repairTornLines();
    assert.equal(report.bytesCut, torn.length);
    assert.deepEqual(run.readMetrics().map((m) => m.step), [1, 2]);
  });
});

describe('truncateAfterStep', () => {
  it('removes every record after the step', () => {
    const run = trainedRun(15, 5, 5);
    const report = run.truncateAfterStep(10);
    assert.deepEqual(report, {
      step: 10,
      linesRemoved: { 'metrics.jsonl': 5, 'validation.jsonl': 1, 'interventions.jsonl': 1 },
      rolloutStepsRemoved: [11, 12, 13, 14, 15],
      checkpointStepsRemoved: [15],
    });
    assert.deepEqual(run.readMetrics().map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(run.readValidation().map((v) => v.step), [5, 10]);
    assert.deepEqual(run.readInterventions().map((v) => v.step), [4, 8]);
    assert.deepEqual(run.listRolloutSteps(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(run.listCheckpoints(), [10, 5]);
    assert.equal(fs.readFileSync(path.join(run.dir, 'checkpoints', 'latest'), 'utf8'), 'step-000010\n');
    assert.deepEqual(entries(run.dir).filter((n) => n.startsWith('.tmp-')), []);
  });

  it('changes nothing when no record is later than the step', () => {
    const run = trainedRun(4, 100);
    const before = fs.readFileSync(metricsFile(run), 'utf8');
    assert.deepEqual(run.truncateAfterStep(4), { step: 4, linesRemoved: {}, rolloutStepsRemoved: [], checkpointStepsRemoved: [] });
    assert.equal(fs.readFileSync(metricsFile(run), 'utf8'), before);
  });

  it('truncating to 0 empties the step logs and drops the latest pointer', () => {
    const run = trainedRun(6, 5);
    run.truncateAfterStep(0);
    assert.deepEqual(run.readMetrics(), []);
    assert.deepEqual(run.listRolloutSteps(), []);
    assert.deepEqual(entries(path.join(run.dir, 'checkpoints')), []);
  });
});

describe('prepareResume', () => {
  it('repairs, loads the latest checkpoint and drops the steps after it', () => {
    const run = trainedRun(13, 5);
    fs.appendFileSync(metricsFile(run), '{"step":14,');
    const staging = path.join(run.dir, 'checkpoints', '.tmp-step-000015');
    fs.mkdirSync(staging);
    const resumed = RunDirectory.open(run.dir);
    assert.equal(fs.existsSync(staging), true, 'open alone changes nothing');
    const plan = resumed.prepareResume();
    assert.equal(fs.existsSync(staging), false);
    assert.equal(plan.repair.bytesCut, '{"step":14,'.length);
    assert.equal(plan.checkpoint?.step, 10);
    assert.deepEqual(plan.checkpoint?.bytes['weights.bin'], Uint8Array.of(10));
    assert.deepEqual(plan.truncate.rolloutStepsRemoved, [11, 12, 13]);
    assert.equal(resumed.readMetrics().at(-1)?.step, 10);
  });

  it('refuses to resume without an intact checkpoint when steps would be lost, changing nothing', () => {
    const run = trainedRun(3, 100);
    const before = snapshot(run.dir);
    const error = runError(() => RunDirectory.open(run.dir).prepareResume(), 'NO_CHECKPOINT');
    assert.match(error.message, /no intact checkpoint \(it has no checkpoint\), but it holds 3 lines of metrics\.jsonl.*Nothing was changed.*--from-scratch/);
    assert.deepEqual(snapshot(run.dir), before);
  });

  it('names the damaged checkpoints it refuses to resume from', () => {
    const run = trainedRun(13, 5);
    for (const step of ['step-000005', 'step-000010']) fs.writeFileSync(path.join(run.dir, 'checkpoints', step, 'weights.bin'), 'x');
    const before = snapshot(run.dir);
    const error = runError(() => RunDirectory.open(run.dir).prepareResume(), 'NO_CHECKPOINT');
    assert.match(error.message, /checkpoints\/step-000010 is damaged: part weights\.bin does not match its manifest; .*step-000005 is damaged/);
    assert.deepEqual(snapshot(run.dir), before);
  });

  it('starts again from step 0 without a checkpoint when asked to (fromScratch), or when there is nothing to lose', () => {
    const run = trainedRun(3, 100);
    const plan = RunDirectory.open(run.dir).prepareResume({ fromScratch: true });
    assert.equal(plan.checkpoint, null);
    assert.deepEqual(run.readMetrics(), []);
    assert.equal(RunDirectory.open(run.dir).prepareResume().checkpoint, null, 'an empty run resumes from 0 without asking');
  });

  it('falls back to an older checkpoint when the newest matches its manifest but cannot be decoded', () => {
    const run = trainedRun(13, 5);
    const decode = (checkpoint: { bytes: Record<string, Uint8Array> }) => {
      if (checkpoint.bytes['weights.bin'][0] === 10) throw new Error('weights.bin holds 1 value, the model needs 2');
      return checkpoint.bytes['weights.bin'][0];
    };
    const plan = RunDirectory.open(run.dir).prepareResume({ decode });
    assert.equal(plan.checkpoint?.step, 5);
    assert.equal(plan.checkpoint?.decoded, 5);
    assert.match(plan.skipped.join('\n'), /step-000010 matches its manifest but cannot be loaded: weights\.bin holds 1 value/);
    assert.equal(run.readMetrics().at(-1)?.step, 5);
  });
});

/** Every file under `dir` with its bytes (folders as names), for "nothing changed" checks. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      if (entry.isDirectory()) {
        out[`${name}/`] = '';
        walk(name);
      } else out[name] = fs.readFileSync(path.join(dir, name)).toString('base64');
    }
  };
  walk('');
  return out;
}
