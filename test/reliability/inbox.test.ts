/**
 * The control inbox of a run folder with the real trainer process (from source): controls appended to
 * `<run>/inbox.jsonl` while it trains are applied at the next step boundary through the same path as stdio
 * controls (an `applied` event and an interventions.jsonl line naming the step from which they hold); bad lines
 * are refused with a reason; a torn line is applied once complete; a symbolic link in the inbox's place is
 * refused without touching its target; a resumed run reads on from its checkpoint and re-applies nothing.
 * Every interventions.jsonl line and status.json validate against schemas/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TrainerEvent } from '../../src/protocol/index.js';
import { assertValid } from '../support/runFolderSchemas.js';
import { readJsonl, startTrainer, trainerSource, until, workFolder } from './runProcesses.js';

type Line = Record<string, unknown>;
const isStep = (event: TrainerEvent): event is Extract<TrainerEvent, { type: 'trainer/step' }> => event.type === 'trainer/step';
const appliedOf = (events: TrainerEvent[], controlId: string) => events.filter((e) => e.type === 'trainer/applied' && e.controlId === controlId);

describe('the control inbox (inbox.jsonl) of durian train', () => {
  it('applies, refuses, waits for torn lines, refuses a link, and never re-applies on resume', { timeout: 300_000 }, async () => {
    const work = workFolder('inbox');
    const dir = path.join(work.dir, 'run');
    const inbox = path.join(dir, 'inbox.jsonl');
    const interventions = () => readJsonl(path.join(dir, 'interventions.jsonl')) as Line[];
    const byId = (id: string) => interventions().filter((line) => line.controlId === id);
    const append = (text: string) => fs.appendFileSync(inbox, text);

    const trainer = startTrainer(['--config', work.config({ steps: 100_000, rolloutsEvery: 1000 }), '--out', dir], work.env, trainerSource);
    const lastStep = () => trainer.events.filter(isStep).at(-1)?.step ?? 0;
    const stepsLater = async (n: number) => {
      const target = lastStep() + n;
      await trainer.waitFor((e) => isStep(e) && e.step >= target, `step ${target}`);
    };
    await trainer.waitFor((e) => isStep(e) && e.step >= 2, 'step 2');
    const status = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as Line;
    assert.equal(status.inbox, 'inbox.jsonl', 'status.json advertises the inbox while running');
    assertValid(status, 'status.schema.json', 'status.json');

    // A control and three bad lines, appended while it trains.
    const readAt = lastStep();
    append(
      [
        '{"type":"control/setGroupWeight","controlId":"w-1","promptId":"train-000001","weight":3}',
        'this is not json',
        '{"type":"control/setConfig","controlId":"c-bad","changes":{"lr":-1}}',
        '{"type":"control/setGroupWeight","controlId":"w-1","promptId":"train-000002","weight":2}',
      ].join('\n') + '\n',
    );
    const applied = await trainer.waitFor((e) => e.type === 'trainer/applied' && e.controlId === 'w-1', 'the inbox control applied');
    assert.ok(applied.type === 'trainer/applied' && applied.kind === 'setGroupWeight');
    assert.ok(applied.step > readAt, `applied from step ${applied.step}, after step ${readAt} when it was appended`);
    await until('the bad lines refused', 30_000, () => interventions().filter((line) => 'refused' in line).length >= 3);
    const [w1] = byId('w-1').filter((line) => 'control' in line);
    assert.deepEqual({ step: w1.step, kind: w1.kind, control: w1.control }, { step: applied.step, kind: 'setGroupWeight', control: { type: 'control/setGroupWeight', controlId: 'w-1', promptId: 'train-000001', weight: 3 } }, 'the same line a stdio control gets');
    const refused = interventions().filter((line) => 'refused' in line);
    assert.deepEqual(refused.map((line) => [line.inboxLine, line.step]), [[2, applied.step], [3, applied.step], [4, applied.step]], 'refused at the boundary where they were read, in line order');
    assert.match(String(refused[0].refused), /^inbox\.jsonl line 2: is not JSON/);
    assert.match(String(refused[1].refused), /^inbox\.jsonl line 3: setConfig\.changes\.lr: must be a finite number > 0/);
    assert.deepEqual([refused[1].controlId, refused[1].kind], ['c-bad', undefined], 'an invalid control keeps its id; its kind is given only for a valid control');
    assert.match(String(refused[2].refused), /^inbox\.jsonl line 4: controlId "w-1" was already used in this run/);
    assert.equal(appliedOf(trainer.events, 'w-1').length, 1, 'a reused controlId is not applied again');
    assert.ok(trainer.events.some((e) => e.type === 'trainer/error' && !e.fatal && /inbox\.jsonl line 2: is not JSON/.test(e.message)), 'a refusal is also reported to the host');

    // A torn line: nothing until its newline arrives, then applied once.
    append('{"type":"control/setGroupWeight","controlId":"w-2",');
    await stepsLater(3);
    assert.deepEqual(byId('w-2'), [], 'a torn line is not read');
    append('"promptId":"train-000003","weight":0.5}\n');
    await trainer.waitFor((e) => e.type === 'trainer/applied' && e.controlId === 'w-2', 'the torn control applied once complete');

    // pause holds the run at the boundary (the inbox is still read while paused); resume lets it go on.
    append('{"type":"control/pause","controlId":"p-1"}\n');
    const paused = await trainer.waitFor((e) => e.type === 'trainer/paused', 'paused from the inbox');
    await until('status.json paused', 10_000, () => (JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as Line).state === 'paused');
    assert.equal((JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as Line).inbox, 'inbox.jsonl', 'a paused run advertises the inbox');
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(lastStep(), paused.step, 'no step while paused');
    append('{"type":"control/resume","controlId":"r-1"}\n');
    await trainer.waitFor((e) => e.type === 'trainer/resumed', 'resumed from the inbox');
    await stepsLater(1);

    // A symbolic link in the inbox's place: refused, its target neither read nor changed.
    const outside = path.join(work.dir, 'outside.jsonl');
    fs.writeFileSync(outside, '{"type":"control/pause","controlId":"p-outside"}\n');
    const outsideBefore = { bytes: fs.readFileSync(outside, 'utf8'), mtime: fs.statSync(outside).mtimeMs };
    fs.rmSync(inbox);
    fs.symlinkSync(outside, inbox);
    await until('the link refused', 30_000, () => interventions().some((line) => /symbolic link/.test(String(line.refused))));
    await stepsLater(2);
    assert.deepEqual(appliedOf(trainer.events, 'p-outside'), [], 'the link target is never read');
    assert.deepEqual({ bytes: fs.readFileSync(outside, 'utf8'), mtime: fs.statSync(outside).mtimeMs }, outsideBefore, 'the link target is untouched');
    assert.equal(interventions().filter((line) => /symbolic link/.test(String(line.refused))).length, 1, 'the link is reported once');

    // A plain (shorter) inbox again: read from its start; stop ends the run.
    fs.rmSync(inbox);
    fs.writeFileSync(inbox, '{"type":"control/stop","controlId":"s-1"}\n');
    const done = await trainer.waitFor((e) => e.type === 'trainer/done', 'done after the inbox stop');
    assert.ok(done.type === 'trainer/done' && done.reason === 'stopped');
    assert.equal(await trainer.exit, 0);
    const stopped = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as Line;
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.inbox, undefined, 'a stopped run no longer advertises the inbox');

    // Resume: nothing read before the checkpoint is applied or refused again; a new line is applied.
    const before = interventions();
    assert.deepEqual(byId('s-1').map((line) => [line.kind, line.step]), [['stop', done.step + 1]], 'the stop is acknowledged from the step it would have held');
    append('{"type":"control/setGroupWeight","controlId":"w-3","promptId":"train-000004","weight":4}\n');
    const resumed = startTrainer(['--resume', dir, '--steps', String(done.step + 3)], work.env, trainerSource);
    const finished = await resumed.waitFor((e) => e.type === 'trainer/done', 'the resumed run done');
    assert.equal(await resumed.exit, 0);
    assert.ok(finished.type === 'trainer/done' && finished.reason === 'completed', 'the stop read before the checkpoint is not applied again');
    for (const id of ['w-1', 'w-2', 's-1', 'p-outside']) assert.deepEqual(appliedOf(resumed.events, id), [], `${id} is not applied again`);
    assert.equal(appliedOf(resumed.events, 'w-3').length, 1, 'a line appended before the resume is applied');
    const after = interventions();
    assert.deepEqual(after.filter((line) => line.controlId !== 'w-3'), before, 'no line of interventions.jsonl is added or lost for the earlier controls (the stop\'s included: its checkpoint holds its boundary)');
    after.forEach((line, i) => assertValid(line, 'intervention-line.schema.json', `interventions.jsonl line ${i + 1}`));
  });
});
