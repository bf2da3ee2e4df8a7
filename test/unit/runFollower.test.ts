/**
 * Following a run folder another process writes (src/extension/runFollower.ts), on real folders written as
 * schemas/README.md says: the events made from appended lines (torn last lines wait for their newline, bad
 * lines are skipped and logged), status transitions (paused, resumed, done), a writer that died (its pid
 * gone), a heartbeat that stopped on another host, a torn status.json, a folder that disappears, a history
 * cut back by a resume, rollouts files appearing, and the inbox: a control appended as one checked line
 * only when status.json advertises an inbox, its acknowledgement or refusal read back with its step.
 * Last, the same against a real `durian train` process (dist/cli.js, built by `npm run build`).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type Control, type TrainerEvent, parseControl } from '../../src/protocol/index.js';
import type { ControlOutcome, SessionSnapshot } from '../../src/extension/runConnection.js';
import { JsonlTail, RunFollower } from '../../src/extension/runFollower.js';
import { sampleGroup } from '../protocol/samples.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'durian-follow-'));
after(() => rmSync(root, { recursive: true, force: true }));

let runs = 0;
function makeRun(status: Record<string, unknown> = {}, config: Record<string, unknown> = { estimator: 'durian', steps: 50 }): string {
  const dir = path.join(root, `run-${++runs}`);
  mkdirSync(dir, { recursive: true });
  writeStatus(dir, { state: 'running', step: 0, pid: process.pid, updatedAt: new Date().toISOString(), ...status });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(path.join(dir, 'metrics.jsonl'), '');
  return dir;
}

function writeStatus(dir: string, status: Record<string, unknown>): void {
  writeFileSync(path.join(dir, 'status.json'), JSON.stringify(status));
}

function line(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** A follower of `dir` that records what it says. */
function follow(dir: string, options: { hostname?: string; now?: () => number; alive?: (pid: number) => boolean } = {}) {
  const events: TrainerEvent[] = [];
  const outcomes: ControlOutcome[] = [];
  const logs: string[] = [];
  const states: SessionSnapshot[] = [];
  const follower = new RunFollower(dir, {
    event: (event) => events.push(event),
    outcome: (outcome) => outcomes.push(outcome),
    state: (snapshot) => states.push(snapshot),
    log: (text) => logs.push(text),
    ...options,
  });
  follower.start();
  return { follower, events, outcomes, logs, states, types: () => events.map((e) => e.type) };
}

/** The pid of a process that has exited (and was reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('JsonlTail', () => {
  it('returns complete lines only: a torn last line is read once its newline arrives', () => {
    const file = path.join(root, 'tail.jsonl');
    writeFileSync(file, '{"step":1}\n{"step":');
    const tail = new JsonlTail(file);
    assert.deepEqual(tail.read().lines.map((l) => l.text), ['{"step":1}']);
    assert.deepEqual(tail.read().lines, []);
    appendFileSync(file, '2}\n{"step":3}\n');
    assert.deepEqual(
      tail.read().lines.map((l) => [l.line, l.text]),
      [
        [2, '{"step":2}'],
        [3, '{"step":3}'],
      ],
    );
  });

  it('starts again from the top when the file became shorter (replaced or cut back), and says so', () => {
    const file = path.join(root, 'cut.jsonl');
    writeFileSync(file, '{"step":1}\n{"step":2}\n{"step":3}\n');
    const tail = new JsonlTail(file);
    tail.skipToEnd();
    writeFileSync(file, '{"step":1}\n');
    const read = tail.read();
    assert.equal(read.reset, true);
    assert.deepEqual(read.lines.map((l) => l.text), ['{"step":1}']);
  });

  it('reads nothing from a missing file or a symbolic link', () => {
    const tail = new JsonlTail(path.join(root, 'missing.jsonl'));
    assert.deepEqual(tail.read(), { lines: [], reset: false, overlong: 0 });
    const target = path.join(root, 'target.jsonl');
    writeFileSync(target, '{"step":1}\n');
    symlinkSync(target, path.join(root, 'link.jsonl'));
    assert.deepEqual(new JsonlTail(path.join(root, 'link.jsonl')).read().lines, []);
  });
});

describe('RunFollower', () => {
  it('says hello with the run folder and config, then turns appended metrics and validation lines into events', () => {
    const dir = makeRun();
    appendFileSync(path.join(dir, 'metrics.jsonl'), line({ step: 1, elapsedMs: 10, 'reward/mean': 0.1 }));
    const run = follow(dir);
    const hello = run.events[0];
    assert.equal(hello.type, 'trainer/hello');
    assert.equal(hello.type === 'trainer/hello' && hello.runDir, dir);
    assert.equal(hello.type === 'trainer/hello' && hello.config.estimator, 'durian');
    // What the folder held at attach time is history (the panels read it); the snapshot has its last step.
    assert.equal(run.follower.state.step, 1);
    assert.equal(run.follower.state.state, 'running');
    appendFileSync(path.join(dir, 'metrics.jsonl'), `${line({ step: 2, elapsedMs: 20, 'reward/mean': 0.25, 'actor/pg_loss': null })}not json\n{"step": 3, "reward/mean": 0.`);
    appendFileSync(path.join(dir, 'validation.jsonl'), line({ step: 2, accuracy: 0.5, reward: 0.4 }));
    assert.equal(run.follower.read(), true);
    const steps = run.events.filter((e) => e.type === 'trainer/step');
    assert.deepEqual(steps, [{ type: 'trainer/step', step: 2, totalSteps: 50, metrics: { 'reward/mean': 0.25 }, elapsedMs: 20 }]);
    assert.ok(run.logs.some((l) => /metrics\.jsonl line 3: skipped: not valid JSON/.test(l)), run.logs.join('\n'));
    assert.deepEqual(run.events.filter((e) => e.type === 'trainer/validation'), [{ type: 'trainer/validation', step: 2, accuracy: 0.5, reward: 0.4 }]);
    assert.equal(run.follower.state.validationAccuracy, 0.5);
    // The torn line is an event once its newline arrives.
    appendFileSync(path.join(dir, 'metrics.jsonl'), '5}\n');
    run.follower.read();
    assert.deepEqual(run.events.filter((e) => e.type === 'trainer/step').map((e) => e.type === 'trainer/step' && e.metrics['reward/mean']), [0.25, 0.5]);
    assert.equal(run.follower.state.step, 3);
  });

  it('reports pause, resume and the end from status.json', () => {
    const dir = makeRun();
    const run = follow(dir);
    writeStatus(dir, { state: 'paused', step: 4, pid: process.pid, updatedAt: new Date().toISOString() });
    run.follower.read();
    writeStatus(dir, { state: 'running', step: 4, pid: process.pid, updatedAt: new Date().toISOString() });
    run.follower.read();
    writeStatus(dir, { state: 'completed', step: 9, pid: process.pid, updatedAt: new Date().toISOString() });
    run.follower.read();
    assert.deepEqual(run.types().slice(1), ['trainer/paused', 'trainer/resumed', 'trainer/done']);
    assert.deepEqual(run.events[3], { type: 'trainer/done', step: 9, reason: 'completed', summary: {} });
    assert.equal(run.follower.state.state, 'completed');
  });

  it('shows a writer on this host whose process is gone as crashed, with why', () => {
    const pid = deadPid();
    const dir = makeRun({ pid });
    const run = follow(dir);
    assert.equal(run.follower.state.state, 'crashed');
    assert.match(run.follower.state.lastError ?? '', new RegExp(`process ${pid}\\) is gone`));
    assert.equal(run.follower.steerable, false);
  });

  it('says when a writer on another host stopped its heartbeat, without calling it crashed', () => {
    const updatedAt = new Date(Date.UTC(2026, 0, 1, 12, 0, 0)).toISOString();
    const dir = makeRun({ host: 'gpu-node-7', writer: 'durian_rl.ddp', pid: 1, updatedAt, inbox: 'inbox.jsonl' });
    const fresh = follow(dir, { hostname: 'laptop', now: () => Date.parse(updatedAt) + 5_000 });
    assert.equal(fresh.follower.state.notice, undefined);
    assert.equal(fresh.follower.state.device, 'durian_rl.ddp on gpu-node-7');
    const stale = follow(dir, { hostname: 'laptop', now: () => Date.parse(updatedAt) + 300_000 });
    assert.equal(stale.follower.state.state, 'running');
    assert.match(stale.follower.state.notice ?? '', /no heartbeat from durian_rl\.ddp on gpu-node-7 for 300 s/);
  });

  it('keeps the last good state when status.json is torn, and says so', () => {
    const dir = makeRun({ state: 'paused' });
    const run = follow(dir);
    writeFileSync(path.join(dir, 'status.json'), '{"state": "runn');
    run.follower.read();
    assert.equal(run.follower.state.state, 'paused');
    assert.match(run.follower.state.notice ?? '', /status\.json could not be read \(not valid JSON/);
    writeStatus(dir, { state: 'running', step: 1, pid: process.pid, updatedAt: new Date().toISOString() });
    run.follower.read();
    assert.equal(run.follower.state.notice, undefined);
  });

  it('ends with a notice when the folder disappears, and reads nothing more', () => {
    const dir = makeRun();
    const run = follow(dir);
    rmSync(dir, { recursive: true, force: true });
    assert.doesNotThrow(() => run.follower.read());
    assert.equal(run.follower.state.state, 'stopped');
    assert.match(run.follower.state.notice ?? '', /is gone \(deleted or moved\)/);
    assert.equal(run.follower.read(), false);
    assert.match(run.follower.append({ type: 'control/pause', controlId: 'p-1' }) ?? '', /is gone/);
  });

  it('says hello again when the history was cut back (a resumed run), so the panels read it again', () => {
    const dir = makeRun();
    writeFileSync(path.join(dir, 'metrics.jsonl'), line({ step: 1 }) + line({ step: 2 }) + line({ step: 3 }));
    const run = follow(dir);
    writeFileSync(path.join(dir, 'metrics.jsonl'), line({ step: 1 }));
    run.follower.read();
    assert.deepEqual(run.types(), ['trainer/hello', 'trainer/hello', 'trainer/step']);
  });

  it('sends the groups of a new rollouts file (complete lines only), not those there before', () => {
    const dir = makeRun();
    mkdirSync(path.join(dir, 'rollouts'));
    writeFileSync(path.join(dir, 'rollouts', 'step-000001.jsonl'), line(sampleGroup('p-old')));
    const run = follow(dir);
    writeFileSync(path.join(dir, 'rollouts', 'step-000002.jsonl'), `${line(sampleGroup('p-a'))}${line({ promptId: 'bad' })}${JSON.stringify(sampleGroup('p-torn'))}`);
    run.follower.read();
    const groups = run.events.filter((e) => e.type === 'trainer/groups');
    assert.equal(groups.length, 1);
    assert.equal(groups[0].type === 'trainer/groups' && groups[0].step, 2);
    assert.deepEqual(groups[0].type === 'trainer/groups' && groups[0].groups.map((g) => g.promptId), ['p-a']);
    assert.ok(run.logs.some((l) => /step-000002\.jsonl line 2: skipped/.test(l)), run.logs.join('\n'));
  });

  it('appends a control to the inbox only when status.json advertises one, as one checked line', () => {
    const weight: Control = { type: 'control/setGroupWeight', controlId: 'w-1', promptId: 'p-a', weight: 0 };
    const closed = follow(makeRun());
    assert.match(closed.follower.append(weight) ?? '', /advertises no inbox/);

    const dir = makeRun({ inbox: 'inbox.jsonl' });
    const run = follow(dir);
    assert.equal(run.follower.steerable, true);
    assert.match(run.follower.append({ ...weight, weight: -1 } as Control) ?? '', /not a valid control for inbox\.jsonl: .*weight/);
    assert.equal(run.follower.append(weight), undefined);
    assert.equal(run.follower.append({ type: 'control/pause', controlId: 'p-1' }), undefined);
    const lines = readFileSync(path.join(dir, 'inbox.jsonl'), 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'each line ends with its newline');
    assert.deepEqual(lines.map((l) => parseControl(JSON.parse(l))), [{ ok: true, value: weight }, { ok: true, value: { type: 'control/pause', controlId: 'p-1' } }]);

    writeStatus(dir, { state: 'completed', step: 3, pid: process.pid, updatedAt: new Date().toISOString(), inbox: 'inbox.jsonl' });
    assert.match(run.follower.append({ type: 'control/resume', controlId: 'r-1' }) ?? '', /the run is completed/);
  });

  it('refuses to append through a symbolic link in place of the inbox', () => {
    const dir = makeRun({ inbox: 'inbox.jsonl' });
    const elsewhere = path.join(root, 'elsewhere.jsonl');
    writeFileSync(elsewhere, '');
    symlinkSync(elsewhere, path.join(dir, 'inbox.jsonl'));
    const run = follow(dir);
    assert.match(run.follower.append({ type: 'control/pause', controlId: 'p-2' }) ?? '', /could not append/);
    assert.equal(readFileSync(elsewhere, 'utf8'), '');
  });

  it("reads back the writer's acknowledgement (applied from step N) or refusal of each control it sent", () => {
    const dir = makeRun({ inbox: 'inbox.jsonl' });
    const run = follow(dir);
    const weight: Control = { type: 'control/setGroupWeight', controlId: 'w-2', promptId: 'p-a', weight: 0.5 };
    run.follower.append(weight);
    run.follower.append({ type: 'control/relabel', controlId: 'rl-1', step: 1, promptId: 'p-a', rollout: 0, reward: 1 } as Control);
    const interventions = path.join(dir, 'interventions.jsonl');
    appendFileSync(interventions, line({ step: 7, at: new Date().toISOString(), kind: 'setGroupWeight', controlId: 'w-2', control: weight }));
    appendFileSync(interventions, line({ step: 7, at: new Date().toISOString(), refused: 'this trainer does not support control/relabel', controlId: 'rl-1', kind: 'relabel', inboxLine: 2 }));
    // Someone else's control: an event for the panels, no outcome for this window.
    appendFileSync(interventions, line({ step: 8, at: new Date().toISOString(), kind: 'pause', controlId: 'other', control: { type: 'control/pause', controlId: 'other' } }));
    run.follower.read();
    assert.deepEqual(run.outcomes, [
      { controlId: 'w-2', kind: 'setGroupWeight', step: 7 },
      { controlId: 'rl-1', kind: 'relabel', step: 7, refused: 'this trainer does not support control/relabel' },
    ]);
    const shown = run.events.filter((e) => e.type === 'trainer/applied' || e.type === 'trainer/error');
    assert.deepEqual(shown, [
      { type: 'trainer/applied', controlId: 'w-2', kind: 'setGroupWeight', step: 7 },
      { type: 'trainer/error', message: 'refused at step 7 (inbox.jsonl line 2): this trainer does not support control/relabel', where: 'inbox.jsonl', fatal: false, controlId: 'rl-1' },
      { type: 'trainer/applied', controlId: 'other', kind: 'pause', step: 8 },
    ]);
    truncateSync(interventions, 0);
    assert.doesNotThrow(() => run.follower.read());
  });
});

describe('RunFollower on a real `durian train` process', { timeout: 180_000 }, () => {
  const cli = path.resolve(__dirname, '../../dist/cli.js');

  it('follows its steps, has a reweight applied from a later step, a reused controlId refused, and a stop obeyed', { skip: existsSync(cli) ? false : 'run `npm run build` first' }, async () => {
    const dir = path.join(root, 'real-run');
    const configFile = path.join(root, 'real-run.json');
    writeFileSync(configFile, JSON.stringify({ steps: 400, batchSize: 4, groupSize: 4, trainSize: 32, validationSize: 8, validationEvery: 1000, warmupSteps: 2, estimatorOptions: { reasoningBins: 2 }, checkpointEvery: 1000 }));
    const child = spawn(process.execPath, [cli, 'train', '--config', configFile, '--out', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const until = async <T>(what: string, probe: () => T | undefined): Promise<T> => {
        const deadline = Date.now() + 120_000;
        for (;;) {
          const value = probe();
          if (value !== undefined) return value;
          assert.ok(Date.now() < deadline, `timed out waiting for ${what}; trainer stderr: ${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      await until('the run to start', () => (existsSync(path.join(dir, 'config.json')) && /"running"/.test(readFileSync(path.join(dir, 'status.json'), 'utf8')) ? true : undefined));
      const run = follow(dir);
      assert.equal(run.follower.steerable, true, 'durian train advertises its inbox');
      await until('two steps', () => (run.follower.read(), run.events.filter((e) => e.type === 'trainer/step').length >= 2 ? true : undefined));
      const stepAtSend = run.follower.state.step;
      const weight: Control = { type: 'control/setGroupWeight', controlId: 'real-w-1', promptId: 'train-000001', weight: 0.5 };
      assert.equal(run.follower.append(weight), undefined);
      assert.equal(run.follower.append({ ...weight, weight: 0.25 }), undefined);
      const applied = await until('the reweight acknowledged', () => (run.follower.read(), run.outcomes.find((o) => o.controlId === 'real-w-1')));
      assert.equal(applied.refused, undefined);
      assert.ok(applied.step > stepAtSend, `applied from step ${applied.step}, after the step it was sent at (${stepAtSend})`);
      const line = readJsonlFile(path.join(dir, 'interventions.jsonl')).find((l) => l.controlId === 'real-w-1' && l.control);
      assert.equal(line?.step, applied.step, 'interventions.jsonl says the same step');
      const refused = await until('the reused controlId refused', () => {
        run.follower.read();
        return run.events.find((e) => e.type === 'trainer/error' && e.controlId === 'real-w-1');
      });
      assert.match(refused.type === 'trainer/error' ? refused.message : '', /refused at step \d+ \(inbox\.jsonl line 2\): .*real-w-1/);
      assert.equal(run.follower.append({ type: 'control/stop', controlId: 'real-stop' }), undefined);
      assert.equal(await exited, 0, stderr);
      run.follower.read();
      assert.equal(run.follower.state.state, 'stopped');
      assert.ok(run.events.some((e) => e.type === 'trainer/done' && e.reason === 'stopped'));
      assert.ok(run.outcomes.some((o) => o.controlId === 'real-stop' && o.refused === undefined));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

function readJsonlFile(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
