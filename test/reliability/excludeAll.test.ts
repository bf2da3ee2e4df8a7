/**
 * Excluding every training prompt leaves a step with nothing to train on: the real trainer pauses, says
 * why and how to go on (an error event that is not fatal, the paused status with the message), and goes on
 * training once an exclusion is undone and the run resumed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EVENT } from '../../src/protocol/index.js';
import { taskId } from '../../src/trainer/tasks/index.js';
import { startTrainer, workFolder } from './runProcesses.js';

const work = workFolder('exclude-all');

describe('every prompt excluded (real trainer)', { timeout: 300_000 }, () => {
  it('pauses with a message instead of crashing, and trains again after an undo and resume', async () => {
    const dir = path.join(work.dir, 'runs', 'all-excluded');
    const trainSize = 4;
    const trainer = startTrainer(['--config', work.config({ trainSize, batchSize: 4, estimatorOptions: { reasoningBins: 2 }, steps: 100_000 }), '--out', dir], work.env);
    await trainer.waitFor((e) => e.type === EVENT.step, 'step 1');
    for (let index = 0; index < trainSize; index++) trainer.send({ type: 'control/excludePrompt', controlId: `x-${index}`, promptId: taskId('train', index) });

    const problem = await trainer.waitFor((e) => e.type === EVENT.error && /training prompts are excluded/.test(e.message), 'the message saying every prompt is excluded');
    assert.ok(problem.type === EVENT.error && !problem.fatal, 'not fatal');
    assert.match(problem.type === EVENT.error ? problem.message : '', /all 4 training prompts are excluded, so step \d+ has no prompt to train on: training is paused\. Undo an exclusion/);
    const paused = await trainer.waitFor((e) => e.type === EVENT.paused, 'paused');
    const status = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as { state: string; message?: string };
    assert.equal(status.state, 'paused');
    assert.match(status.message ?? '', /training prompts are excluded/);
    assert.equal(trainer.events.some((e) => e.type === EVENT.error && e.fatal), false, 'no fatal error');

    const pausedAt = paused.type === EVENT.paused ? paused.step : -1;
    trainer.send({ type: 'control/undo', controlId: 'undo-1', targetControlId: 'x-2' });
    trainer.send({ type: 'control/resume', controlId: 'resume-1' });
    await trainer.waitFor((e) => e.type === EVENT.step && e.step > pausedAt, 'a step after the undo');
    trainer.send({ type: 'control/stop', controlId: 'stop-1' });
    const done = await trainer.waitFor((e) => e.type === EVENT.done, 'done');
    assert.equal(done.type === EVENT.done ? done.reason : '', 'stopped');
    assert.equal(await trainer.exit, 0, trainer.stderr());
  });
});
