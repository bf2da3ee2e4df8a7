/**
 * The Dashboard's markers: built by the model from a history (interventions.jsonl, checkpoints, skipped
 * steps) and live events, their plain-word text and tooltips, the header's coefficients after setConfig
 * and undo, one line per pixel column for thousands of markers, the messages that carry them (checked,
 * bad ones refused), the click's `dashboard/openStep`, and the host's reading of a real run folder.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CONTROL, type Control } from '../../src/protocol/controls.js';
import { EVENT, type TrainerEvent } from '../../src/protocol/events.js';
import type { InterventionLine } from '../../src/protocol/interventionLog.js';
import type { LiveConfig } from '../../src/protocol/liveConfig.js';
import {
  DASHBOARD,
  type DashboardHistoryMessage,
  type HostToWebviewMessage,
  nearestKeptStep,
  parseHostToWebview,
  parseWebviewToHost,
  skippedStepOf,
} from '../../src/protocol/webview.js';
import { readRunMarks, rememberMark, sessionMarksOf } from '../../src/extension/runMarks.js';
import { markerColumns } from '../../webview/dashboard/markerLayer.js';
import { MAX_TOOLTIP_LINES, type ChartMarker, buildMarkers, describeCoefficients, markerTooltip, markersBetween } from '../../webview/dashboard/markers.js';
import { applyMessage, currentCoefficients, markersOf, reduce } from '../../webview/dashboard/state.js';
import { liveConfig } from '../support/liveConfig.js';

const base = liveConfig({ reasoningBins: 3, poolZeroVariance: false, batchSize: 16 });

function line(step: number, control: Control): InterventionLine {
  return { step, at: '2026-12-02T01:00:00.000Z', kind: control.type.slice('control/'.length) as InterventionLine['kind'], controlId: control.controlId, control };
}

const setWeights = line(1010, { type: CONTROL.setConfig, controlId: 'c-1', changes: { durianWeights: [0.1, 0.4, 0.5] } });
const weight = line(1012, { type: CONTROL.setGroupWeight, controlId: 'c-2', promptId: 'train-000042', weight: 0 });
const exclude = line(1014, { type: CONTROL.excludePrompt, controlId: 'c-3', promptId: 'train-000007' });
const relabel = line(1015, { type: CONTROL.relabel, controlId: 'c-4', step: 1013, promptId: 'train-000042', rollout: 2, reward: 1 });
const setLr = line(1016, { type: CONTROL.setConfig, controlId: 'c-5', changes: { lr: 0.0005, klBeta: 0 } });
const undoWeights = line(1020, { type: CONTROL.undo, controlId: 'c-6', targetControlId: 'c-1' });

function history(extra: Partial<DashboardHistoryMessage> = {}): DashboardHistoryMessage {
  return {
    type: DASHBOARD.history,
    runName: 'run-1',
    runDir: '/runs/run-1',
    state: 'running',
    totalSteps: 2000,
    metrics: [],
    validations: [],
    baseConfig: base,
    interventions: [setWeights, weight, exclude, relabel],
    marks: [
      { kind: 'checkpoint', step: 1000 },
      { kind: 'skipped', step: 1005, detail: 'the gradients are non-finite (norm NaN, PPO epoch 1); no update, the weights were kept' },
    ],
    ...extra,
  };
}

const event = (e: TrainerEvent): HostToWebviewMessage => ({ type: DASHBOARD.event, event: e });

/** Every message goes through the webview's own check first, as in main.ts. */
function checked(message: unknown): HostToWebviewMessage {
  const parsed = parseHostToWebview(message);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.value;
}

describe('dashboard markers: the model', () => {
  it('builds a marker per intervention and mark of the history, in step order, in plain words', () => {
    const model = reduce([checked(history())]);
    const markers = markersOf(model);
    assert.deepEqual(
      markers.map((m) => [m.step, m.kind]),
      [
        [1000, 'checkpoint'],
        [1005, 'skipped'],
        [1010, 'setConfig'],
        [1012, 'setGroupWeight'],
        [1014, 'excludePrompt'],
        [1015, 'relabel'],
      ],
    );
    const text = Object.fromEntries(markers.map((m) => [m.kind, m.text]));
    assert.equal(text.setConfig, 'a_perc 0.2 -> 0.4, a_reas 0.7 -> 0.5, since step 1010');
    assert.equal(text.setGroupWeight, 'weight of train-000042 = 0 (left out of the update), since step 1012');
    assert.equal(text.excludePrompt, 'exclude prompt train-000007 (ground truth wrong), since step 1014');
    assert.match(text.relabel, /^reward override for this response to train-000042 \(#2 at step 1013\) = 1, since step 1015$/);
    assert.equal(text.checkpoint, 'checkpoint saved at step 1000');
    assert.match(text.skipped, /^step 1005 skipped \(non-finite\): the gradients are non-finite/);
  });

  it('adds live pauses, resumes, checkpoints, skipped steps and applied controls, then the logged details', () => {
    const model = reduce([checked(history())]);
    for (const e of [
      event({ type: EVENT.paused, step: 1021 }),
      event({ type: EVENT.resumed, step: 1021 }),
      event({ type: EVENT.checkpoint, step: 1030, path: 'checkpoints/step-001030' }),
      event({ type: EVENT.error, message: 'step 1031 skipped: the update produced non-finite weights (PPO epoch 1); no update, the weights were kept', where: 'weights', fatal: false }),
      event({ type: EVENT.error, message: 'rejected control: setConfig.changes.lr: must be at most 1', where: 'setConfig.changes.lr', fatal: false }),
      event({ type: EVENT.applied, controlId: 'c-5', kind: 'setConfig', step: 1016 }),
    ]) {
      applyMessage(model, checked(e));
    }
    let markers = markersOf(model);
    const at = (step: number) => markers.filter((m) => m.step === step).map((m) => `${m.kind}: ${m.text}`);
    assert.deepEqual(at(1021), ['pause: paused after step 1021', 'resume: resumed after step 1021']);
    assert.deepEqual(at(1030), ['checkpoint: checkpoint saved at step 1030']);
    assert.deepEqual(at(1031), ['skipped: step 1031 skipped (non-finite): the update produced non-finite weights (PPO epoch 1); no update, the weights were kept']);
    // A rejected control is a notice, not a marker.
    assert.equal(markers.filter((m) => m.kind === 'skipped').length, 2);
    // Applied, not yet read back from interventions.jsonl: its kind is known, not its values.
    assert.deepEqual(at(1016), ['setConfig: settings applied, since step 1016']);

    applyMessage(model, checked({ type: DASHBOARD.interventions, interventions: [setWeights, weight, exclude, relabel, setLr] }));
    markers = markersOf(model);
    assert.deepEqual(at(1016), ['setConfig: learning rate 0.001 -> 0.0005, KL beta 0.01 -> 0, since step 1016']);
    assert.equal(markers.length, 6 + 5, 'the applied placeholder was replaced, not doubled');
  });

  it('takes the coefficients in force from the trainer\'s report, and marks an applied setConfig old -> new from it', () => {
    const model = reduce([checked(history({ interventions: [setWeights] }))]);
    // A report of a control the log read with the history does not hold: the host no longer reads it again.
    const after: LiveConfig = { ...base, durianWeights: [0.1, 0.4, 0.5], lr: 0.0005, klBeta: 0 };
    applyMessage(model, checked(event({ type: EVENT.applied, controlId: 'c-5', kind: 'setConfig', step: 1016, config: after })));
    assert.deepEqual(currentCoefficients(model), after);
    assert.deepEqual(markersOf(model).filter((m) => m.step === 1016).map((m) => m.text), ['learning rate 0.001 -> 0.0005, KL beta 0.01 -> 0, since step 1016']);
    // A Dashboard opened later gets the host's last report with the history.
    const reopened = reduce([checked(history({ interventions: [setWeights], reportedConfig: { config: after, step: 1016 } }))]);
    assert.deepEqual(currentCoefficients(reopened), after, 'the report wins over the replay of the log');
    assert.equal(currentCoefficients(reduce([checked(history({ interventions: [setWeights] }))]))?.lr, 0.001, 'without a report: the replay');
  });

  it('a resumed run forgets the marks after its checkpoint and marks the boundary', () => {
    const model = reduce([
      checked(history()),
      event({ type: EVENT.paused, step: 1011 }),
      event({
        type: EVENT.hello,
        protocolVersion: 1,
        runId: 'run-1',
        runDir: '/runs/run-1',
        backend: 'cpu',
        device: 'CPU',
        config: {},
        resumedFromStep: 1010,
      }),
    ].map(checked));
    const markers = markersOf(model);
    assert.deepEqual(markers.map((m) => [m.step, m.kind]), [
      [1000, 'checkpoint'],
      [1005, 'skipped'],
      [1010, 'setConfig'],
      [1010, 'resumedFrom'],
    ]);
    assert.match(markers[3].text, /resumed from its checkpoint of step 1010/);
  });

  it('a new history replaces the markers', () => {
    const model = reduce([checked(history()), checked(history({ interventions: [], marks: [] }))]);
    assert.deepEqual(markersOf(model), []);
  });
});

describe('dashboard markers: tooltip and header', () => {
  it('the tooltip lists the markers near the cursor, at most MAX_TOOLTIP_LINES, then a count', () => {
    const markers = markersOf(reduce([checked(history())]));
    assert.equal(
      markerTooltip(markersBetween(markers, 1009, 1012)),
      'step 1010: a_perc 0.2 -> 0.4, a_reas 0.7 -> 0.5, since step 1010\nstep 1012: weight of train-000042 = 0 (left out of the update), since step 1012',
    );
    const many: ChartMarker[] = Array.from({ length: MAX_TOOLTIP_LINES + 3 }, (_, i) => ({ step: 5, kind: 'checkpoint', text: `n${i}` }));
    const lines = markerTooltip(many).split('\n');
    assert.equal(lines.length, MAX_TOOLTIP_LINES + 1);
    assert.equal(lines.at(-1), 'and 3 more');
  });

  it('the header shows the coefficients after each setConfig, and again the old ones after an undo', () => {
    const model = reduce([checked(history({ interventions: [] }))]);
    assert.equal(describeCoefficients(currentCoefficients(model) as LiveConfig), 'estimator durian · a_ori 0.1, a_perc 0.2, a_reas 0.7 · bins 3 · lr 0.001 · KL 0.01');
    applyMessage(model, checked({ type: DASHBOARD.interventions, interventions: [setWeights, setLr] }));
    assert.equal(describeCoefficients(currentCoefficients(model) as LiveConfig), 'estimator durian · a_ori 0.1, a_perc 0.4, a_reas 0.5 · bins 3 · lr 0.0005 · KL 0');
    applyMessage(model, checked({ type: DASHBOARD.interventions, interventions: [setWeights, setLr, undoWeights] }));
    assert.equal(describeCoefficients(currentCoefficients(model) as LiveConfig), 'estimator durian · a_ori 0.1, a_perc 0.2, a_reas 0.7 · bins 3 · lr 0.0005 · KL 0');
    const undo = markersOf(model).find((m) => m.kind === 'undo');
    assert.equal(undo?.text, 'undo: a_perc 0.4 -> 0.2, a_reas 0.5 -> 0.7, since step 1020');
    const grpo = line(1030, { type: CONTROL.setConfig, controlId: 'c-7', changes: { estimator: 'grpo' } });
    applyMessage(model, checked({ type: DASHBOARD.interventions, interventions: [setWeights, setLr, undoWeights, grpo] }));
    assert.equal(describeCoefficients(currentCoefficients(model) as LiveConfig), 'estimator grpo · lr 0.0005 · KL 0', 'Durian weights and bins only for Durian');
    assert.equal(markersOf(model).at(-1)?.text, 'estimator durian -> grpo, since step 1030');
  });

  it('without the run configuration a setConfig says what it set, and there are no coefficients', () => {
    const model = reduce([checked(history({ baseConfig: undefined }))]);
    assert.equal(currentCoefficients(model), undefined);
    assert.equal(markersOf(model).find((m) => m.kind === 'setConfig')?.text, 'set (a_ori, a_perc, a_reas) = (0.1, 0.4, 0.5), since step 1010');
  });
});

describe('dashboard markers: drawing stays bounded', () => {
  it('thousands of markers draw at most one line per pixel column, in the visible range only', () => {
    const markers = buildMarkers({
      interventions: [],
      applied: [],
      marks: Array.from({ length: 20_000 }, (_, i) => ({ kind: 'checkpoint' as const, step: i + 1 })),
    });
    const width = 600;
    const toPixel = (step: number) => ((step - 1) / 19_999) * width;
    const all = markerColumns(markers, 1, 20_000, toPixel);
    assert.ok(all.length <= width + 1, `${all.length} lines for ${width} px`);
    assert.ok(all.length >= width / 2);
    const zoomed = markerColumns(markers, 100, 200, (step) => (step - 100) * 6);
    assert.equal(zoomed.length, 101, 'zoomed in, every marker has its own column');
    assert.equal(zoomed[0].marker.step, 100);
    assert.equal(zoomed.at(-1)?.marker.step, 200);
  });
});

describe('dashboard markers: messages', () => {
  it('the click message carries the step; a bad step is refused', () => {
    const ok = parseWebviewToHost({ type: DASHBOARD.openStep, step: 1012 });
    assert.ok(ok.ok);
    assert.deepEqual(ok.value, { type: 'dashboard/openStep', step: 1012 });
    for (const bad of [{ type: DASHBOARD.openStep }, { type: DASHBOARD.openStep, step: -1 }, { type: DASHBOARD.openStep, step: 1.5 }, { type: DASHBOARD.openStep, step: '3' }]) {
      const parsed = parseWebviewToHost(bad);
      assert.equal(parsed.ok, false, JSON.stringify(bad));
      if (!parsed.ok) assert.match(parsed.error, /step/);
    }
  });

  it('refuses bad marks and interventions, saying where', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...history(), marks: [{ kind: 'party', step: 3 }] }, /marks\[0\]\.kind/],
      [{ ...history(), marks: [{ kind: 'checkpoint', step: -3 }] }, /marks\[0\]\.step/],
      [{ ...history(), marks: [{ kind: 'checkpoint' }] }, /marks\[0\]\.step/],
      [{ ...history(), interventions: [{ ...setWeights, controlId: 'other' }] }, /interventions\[0\].*controlId.*must equal/],
      [{ ...history(), interventions: [{ ...setWeights, control: { ...setWeights.control, changes: { lr: 5 } } }] }, /interventions\[0\]\.control\.changes\.lr/],
      [{ ...history(), baseConfig: { ...base, reasoningBins: 0 } }, /baseConfig\.reasoningBins/],
      [{ type: DASHBOARD.interventions }, /interventions/],
      [{ type: DASHBOARD.interventions, interventions: [{ step: 1 }] }, /interventions\[0\]/],
    ];
    for (const [message, where] of cases) {
      const parsed = parseHostToWebview(message);
      assert.equal(parsed.ok, false, JSON.stringify(message).slice(0, 200));
      if (!parsed.ok) assert.match(parsed.error, where);
    }
    // An older host's history (no markers) is still accepted.
    const { baseConfig: _b, interventions: _i, marks: _m, ...plain } = history();
    assert.ok(parseHostToWebview(plain).ok);
  });

  it('reads the skipped step out of the trainer\'s words, and nothing else', () => {
    assert.deepEqual(skippedStepOf('step 12 skipped: the gradients are non-finite (norm NaN, PPO epoch 1); no update, the weights were kept'), {
      kind: 'skipped',
      step: 12,
      detail: 'the gradients are non-finite (norm NaN, PPO epoch 1); no update, the weights were kept',
    });
    assert.equal(skippedStepOf('step 12: non-finite metrics actor/pg_loss'), undefined);
    assert.equal(skippedStepOf('resume: skipped checkpoints/step-000010 (damaged)'), undefined);
  });

  it('the nearest kept step to a click', () => {
    const kept = [10, 20, 30, 37];
    assert.equal(nearestKeptStep(kept, 20), 20);
    assert.equal(nearestKeptStep(kept, 24), 20);
    assert.equal(nearestKeptStep(kept, 26), 30);
    assert.equal(nearestKeptStep(kept, 25), 20, 'a tie goes to the earlier step');
    assert.equal(nearestKeptStep(kept, 3), 10);
    assert.equal(nearestKeptStep(kept, 99), 37);
    assert.equal(nearestKeptStep([], 5), undefined);
  });
});

describe('dashboard markers: the host reads a run folder', () => {
  it('finds the checkpoints on disk and the skipped steps of trainer.log', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'durian-marks-'));
    try {
      mkdirSync(path.join(dir, 'checkpoints', 'step-000010'), { recursive: true });
      mkdirSync(path.join(dir, 'checkpoints', 'step-000020'), { recursive: true });
      mkdirSync(path.join(dir, 'checkpoints', '.tmp-step-000030'), { recursive: true });
      writeFileSync(path.join(dir, 'checkpoints', 'latest'), 'step-000020\n');
      writeFileSync(
        path.join(dir, 'trainer.log'),
        [
          '2026-12-02T01:00:00.000Z INFO  backend cpu',
          '2026-12-02T01:00:01.000Z ERROR step 14 skipped: the gradients are non-finite (norm NaN, PPO epoch 1); no update, the weights were kept',
          '2026-12-02T01:00:02.000Z WARN  step 15: non-finite metrics actor/kl',
          '2026-12-02T01:00:03.000Z WARN  resume: skipped checkpoints/step-000030 (damaged)',
          '',
        ].join('\n'),
      );
      const marks = readRunMarks(dir).sort((a, b) => a.step - b.step);
      assert.deepEqual(marks, [
        { kind: 'checkpoint', step: 10 },
        { kind: 'skipped', step: 14, detail: 'the gradients are non-finite (norm NaN, PPO epoch 1); no update, the weights were kept' },
        { kind: 'checkpoint', step: 20 },
      ]);
      assert.deepEqual(readRunMarks(path.join(dir, 'missing')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the session\'s pauses, and a resume boundary forgets those after its step', () => {
    const dir = '/runs/session-marks-test';
    rememberMark(dir, { kind: 'pause', step: 5 });
    rememberMark(dir, { kind: 'resume', step: 5 });
    rememberMark(dir, { kind: 'pause', step: 12 });
    rememberMark(dir, { kind: 'resumedFrom', step: 10 });
    assert.deepEqual(sessionMarksOf(dir).map((m) => `${m.kind}@${m.step}`), ['pause@5', 'resume@5', 'resumedFrom@10']);
  });
});

const trainerBundle = path.resolve(__dirname, '../../dist/trainer.js');

describe('dashboard markers: a real trainer run', { skip: existsSync(trainerBundle) ? false : `no ${trainerBundle}: run \`npm run build\``, timeout: 120_000 }, () => {
  it('a step skipped for a NaN gradient is marked from the live error and from trainer.log, with the checkpoints', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'durian-marks-run-'));
    try {
      const config = path.join(work, 'config.json');
      writeFileSync(config, JSON.stringify({ steps: 3, batchSize: 4, groupSize: 4, trainSize: 32, validationSize: 8, validationEvery: 1000, checkpointEvery: 1, keepCheckpoints: 10, warmupSteps: 2, estimatorOptions: { reasoningBins: 2 } }));
      const runDir = path.join(work, 'runs', 'skipped');
      // The trainer's TEST-ONLY fault hook (src/trainer/faults.ts) turns step 2's gradients into NaN.
      const env: NodeJS.ProcessEnv = { ...process.env, DURIAN_CACHE_DIR: path.join(work, 'cache'), DURIAN_FAULT: 'nan-gradient@2' };
      const child = spawn(process.execPath, [trainerBundle, '--config', config, '--out', runDir], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const code = await new Promise<number>((resolve) => child.on('close', (exit) => resolve(exit ?? -1)));
      assert.equal(code, 0, stderr.slice(-2000));
      const events = out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as TrainerEvent);

      // Live: the relayed events, checked as the webview checks them, mark the skipped step and the checkpoints.
      const model = reduce([checked({ ...history(), runDir, interventions: [], marks: [] }), ...events.map((e) => checked(event(e)))]);
      const live = markersOf(model);
      const skipped = live.filter((m) => m.kind === 'skipped');
      assert.deepEqual(skipped.map((m) => m.step), [2]);
      assert.match(skipped[0].text, /^step 2 skipped \(non-finite\): the gradients are non-finite/);
      const checkpoints = events.flatMap((e) => (e.type === EVENT.checkpoint ? [e.step] : []));
      assert.ok(checkpoints.includes(3), `a checkpoint at the last step: ${checkpoints.join(', ')}`);
      assert.deepEqual(live.filter((m) => m.kind === 'checkpoint').map((m) => m.step), checkpoints);

      // From the files: what the host sends in a history.
      const marks = readRunMarks(runDir);
      assert.deepEqual(marks.filter((m) => m.kind === 'skipped').map((m) => m.step), [2]);
      assert.deepEqual(marks.filter((m) => m.kind === 'checkpoint').map((m) => m.step).sort((a, b) => a - b), checkpoints);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
