/**
 * The real trainer bundle (dist/trainer.js) as a child process speaking JSON Lines over stdio: a short
 * session with every event kind, the run directory's files, a control taking effect at the announced step,
 * rejection of bad controls, and a resumed run that continues bit for bit from its checkpoint.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type TrainerEvent, defaultOf } from '../../src/protocol/index.js';
import { type TrainerSession, startTrainer as startTrainerProcess } from '../reliability/runProcesses.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'durian-process-'));
const cacheDir = path.join(work, 'cache');
// Small but real: the built-in tasks, the frozen encoder, a short warm-up, B = 8 prompts x G = 4.
const config = { batchSize: 8, groupSize: 4, trainSize: 64, validationSize: 32, warmupSteps: 10, validationEvery: 3, checkpointEvery: 2, steps: 6 };
const configFile = path.join(work, 'config.json');
writeFileSync(configFile, JSON.stringify(config));

/** The trainer over stdio (the helper the reliability tests share), with this file's cache. */
function startTrainer(args: string[]): TrainerSession {
  return startTrainerProcess(args, { ...process.env, DURIAN_CACHE_DIR: cacheDir });
}

const ofType = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) => events.filter((e) => e.type === type) as Extract<TrainerEvent, { type: T }>[];
const readJsonl = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));

describe('trainer process', { timeout: 300_000 }, () => {
  const runDir = path.join(work, 'runs', 'session');

  it('runs a session: events, metrics, rollouts, images, checkpoints, and a control applied at the announced step', async () => {
    const session = startTrainer(['--config', configFile, '--out', runDir]);
    const hello = await session.waitFor((e) => e.type === 'trainer/hello', 'hello');
    assert.equal(hello.type === 'trainer/hello' && hello.backend, 'wasm');
    await session.waitFor((e) => e.type === 'trainer/step' && e.step === 2, 'step 2');
    // status.json follows a running run (the Runs view shows its step), not only its changes of state.
    const running = JSON.parse(readFileSync(path.join(runDir, 'status.json'), 'utf8'));
    assert.equal(running.state, 'running');
    assert.ok(running.step >= 1, `status.json step ${running.step} while the trainer is past step 1`);
    session.send({ type: 'control/setConfig', controlId: 'weights-1', changes: { durianWeights: [1, 0, 0] } });
    session.send({ type: 'control/setConfig', controlId: 'bad-lr', changes: { lr: -1 } });
    session.send({ type: 'control/nonsense', controlId: 'x' });
    const code = await session.exit;
    assert.equal(code, 0);

    const { events } = session;
    assert.equal(events[0].type, 'trainer/hello');
    const steps = ofType(events, 'trainer/step');
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3, 4, 5, 6]);
    for (const key of ['reward/mean', 'accuracy/mean', 'frac_reward_zero_std', 'critic/advantages/mean', 'critic/advantages/max', 'critic/advantages/min', 'critic/advantages/frac_abs_gt_2', 'actor/pg_loss', 'actor/kl_loss', 'actor/entropy', 'actor/grad_norm', 'actor/pg_clipfrac', 'response_length/mean', 'timing_s/rollout', 'timing_s/update', 'perf/throughput']) {
      assert.ok(Number.isFinite(steps[5].metrics[key]), `metric ${key}`);
    }
    const errors = ofType(events, 'trainer/error');
    assert.ok(errors.some((e) => /setConfig\.changes\.lr: must be a finite number > 0/.test(e.message) && e.controlId === 'bad-lr' && !e.fatal));
    assert.ok(errors.some((e) => /unknown control type "control\/nonsense"/.test(e.message)));
    const applied = ofType(events, 'trainer/applied').find((e) => e.controlId === 'weights-1');
    assert.ok(applied && applied.kind === 'setConfig' && applied.step >= 3);

    // The control holds from the announced step: Durian (1, 0, 0) equals GRPO there, and not before.
    const groupsAt = (step: number) => ofType(events, 'trainer/groups').filter((e) => e.step === step).flatMap((e) => e.groups);
    const gap = (step: number) => Math.max(...groupsAt(step).flatMap((g) => g.rollouts.map((r) => Math.abs(r.advantage - r.advantageGrpo))));
    assert.ok(gap(applied.step - 1) > 1e-6, 'before the control durian differs from grpo');
    for (let step = applied.step; step <= 6; step++) assert.ok(gap(step) < 1e-12, `from step ${applied.step} on durian(1,0,0) = grpo`);
    const group = groupsAt(6)[0];
    assert.equal(group.rollouts.length, 4);
    assert.ok(existsSync(path.join(runDir, group.image)), 'the group image is a file in the run directory');
    // On disk: the groups of the steps intervened on (seen when the control was sent, and from when it held)
    // and of the last step (rolloutsEvery 10 keeps no other of 6 steps), and exactly the images they show.
    const keptSteps = [...new Set([applied.step - 1, applied.step, 6])].sort((a, b) => a - b);
    const onDisk = readdirSync(path.join(runDir, 'rollouts')).sort();
    assert.deepEqual(onDisk, keptSteps.map((step) => `step-${String(step).padStart(6, '0')}.jsonl`));
    const shown = new Set(onDisk.flatMap((file) => readJsonl(path.join(runDir, 'rollouts', file)).map((g) => g.image as string)));
    assert.deepEqual(readdirSync(path.join(runDir, 'images')).map((name) => `images/${name}`).sort(), [...shown].sort());

    assert.deepEqual(ofType(events, 'trainer/validation').map((v) => v.step), [0, 3, 6]);
    assert.deepEqual(ofType(events, 'trainer/checkpoint').map((c) => c.step), [2, 4, 6]);
    const done = events[events.length - 1];
    assert.ok(done.type === 'trainer/done' && done.reason === 'completed' && done.step === 6);

    assert.deepEqual(readJsonl(path.join(runDir, 'metrics.jsonl')).map((m) => m.step), [1, 2, 3, 4, 5, 6]);
    assert.equal(readJsonl(path.join(runDir, 'rollouts', 'step-000006.jsonl')).length, 8);
    assert.deepEqual(readJsonl(path.join(runDir, 'interventions.jsonl')).map((i) => [i.controlId, i.step]), [['weights-1', applied.step]]);
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'status.json'), 'utf8')).state, 'completed');
    assert.equal(readFileSync(path.join(runDir, 'checkpoints', 'latest'), 'utf8').trim(), 'step-000006');
  });

  it('resumes from the checkpoint and continues bit for bit like an uninterrupted run (updating in shuffled mini-batches)', async () => {
    const whole = path.join(work, 'runs', 'whole');
    const half = path.join(work, 'runs', 'half');
    // A constant lr: the run is cut by --steps 2 and extended to 4, which stretches a cosine schedule (an
    // interrupted run keeps its steps and resumes bit for bit under any schedule: test/cli/study.test.ts).
    // Mini-batches of 3 of the 8 prompts: the shuffle's generator is part of the checkpoint.
    const plain = { ...config, steps: 4, checkpointEvery: 2, lrSchedule: 'constant', miniBatchSize: 3 };
    writeFileSync(path.join(work, 'plain.json'), JSON.stringify(plain));
    assert.equal(await startTrainer(['--config', path.join(work, 'plain.json'), '--out', whole]).exit, 0);
    assert.equal(await startTrainer(['--config', path.join(work, 'plain.json'), '--steps', '2', '--out', half]).exit, 0);
    const resumed = startTrainer(['--resume', half, '--steps', '4']);
    const hello = await resumed.waitFor((e) => e.type === 'trainer/hello', 'hello');
    assert.equal(hello.type === 'trainer/hello' && hello.resumedFromStep, 2);
    assert.equal(await resumed.exit, 0);
    assert.deepEqual(ofType(resumed.events, 'trainer/step').map((s) => s.step), [3, 4]);
    const a = readJsonl(path.join(whole, 'metrics.jsonl'));
    const b = readJsonl(path.join(half, 'metrics.jsonl'));
    assert.deepEqual(b.map((m) => m.step), [1, 2, 3, 4]);
    assert.ok(a.every((m) => m['actor/optimizer_steps'] === 2 * 3), 'each step made 2 PPO epochs x 3 mini-batches');
    for (let i = 0; i < 4; i++) {
      for (const key of ['reward/mean', 'actor/pg_loss', 'actor/kl_loss', 'actor/grad_norm']) assert.equal(b[i][key], a[i][key], `step ${i + 1} ${key}`);
    }
    assert.deepEqual(readFileSync(path.join(half, 'checkpoints/step-000004/weights.bin')), readFileSync(path.join(whole, 'checkpoints/step-000004/weights.bin')));
  });

  it('reports its effective live configuration in hello and in every applied (undo puts the old value back), and in hello on resume', async () => {
    const live = path.join(work, 'runs', 'live');
    const short = path.join(work, 'short.json');
    writeFileSync(short, JSON.stringify({ ...config, steps: 4 }));
    const session = startTrainer(['--config', short, '--out', live]);
    const hello = await session.waitFor((e) => e.type === 'trainer/hello', 'hello');
    assert.ok(hello.type === 'trainer/hello' && hello.liveConfig, 'hello carries the live configuration');
    const start = hello.liveConfig;
    assert.equal(start.lr, defaultOf('lr'));
    assert.equal(start.temperature, 1);
    assert.deepEqual(start.durianWeights, [0.1, 0.2, 0.7]);
    assert.equal(start.batchSize, 8);
    session.send({ type: 'control/setConfig', controlId: 'lr-1', changes: { lr: 5e-4 } });
    session.send({ type: 'control/setConfig', controlId: 'temp-1', changes: { temperature: 0.9, durianWeights: [1, 0, 0] } });
    session.send({ type: 'control/undo', controlId: 'undo-1', targetControlId: 'lr-1' });
    session.send({ type: 'control/setGroupWeight', controlId: 'weight-1', promptId: 'train-000001', weight: 2 });
    assert.equal(await session.exit, 0);
    const applied = new Map(ofType(session.events, 'trainer/applied').map((e) => [e.controlId, e]));
    assert.deepEqual([...applied.keys()], ['lr-1', 'temp-1', 'undo-1', 'weight-1']);
    assert.deepEqual(applied.get('lr-1')?.config, { ...start, lr: 5e-4 }, 'the new lr, the rest as it was');
    assert.deepEqual(applied.get('temp-1')?.config, { ...start, lr: 5e-4, temperature: 0.9, durianWeights: [1, 0, 0] });
    assert.deepEqual(applied.get('undo-1')?.config, { ...start, temperature: 0.9, durianWeights: [1, 0, 0] }, 'undo restores the lr');
    assert.deepEqual(applied.get('weight-1')?.config, applied.get('undo-1')?.config, 'a control that is not setConfig reports the configuration too');

    const resumed = startTrainer(['--resume', live, '--steps', '5']);
    const again = await resumed.waitFor((e) => e.type === 'trainer/hello', 'hello');
    assert.ok(again.type === 'trainer/hello' && again.resumedFromStep === 4);
    assert.deepEqual(again.liveConfig, applied.get('undo-1')?.config, 'the resumed run goes on with the steered configuration');
    assert.equal(await resumed.exit, 0);
    const meta = JSON.parse(readFileSync(path.join(live, 'meta.json'), 'utf8'));
    assert.equal(meta.policy.kind, defaultOf('policy'), 'the default policy');
    assert.ok(meta.policy.parameters > 0);
    assert.equal(meta.tasks.kind, 'built-in');
  });

  it('fails before training with the field and range of a bad config', async () => {
    const bad = path.join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ lr: -1 }));
    const session = startTrainer(['--config', bad, '--out', path.join(work, 'runs', 'bad')]);
    assert.equal(await session.exit, 2);
    const error = ofType(session.events, 'trainer/error')[0];
    assert.equal(error.message, 'config.lr: must be > 0 and <= 1, got -1');
    assert.equal(error.fatal, true);
    assert.ok(!existsSync(path.join(work, 'runs', 'bad')), 'nothing is created for a rejected config');
  });
});
