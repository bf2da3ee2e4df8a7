/**
 * The Rollout Groups panel's pure parts: its host <-> webview contract (validation both ways), the
 * reducer (run, steps from files, live chunks joined, navigation, follow-live), extremes, filters, sort
 * and search, the configuration timeline (setConfig, undo, "since step N"), the editor's validation, the
 * preview (the same src/core maths as the trainer), and the interventions section's statuses.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { computeAdvantages } from '../../src/core/index.js';
import {
  CONTROL,
  CONTROL_KIND_LABELS,
  EVENT,
  EXTREME_ADVANTAGE,
  type InterventionLine,
  type LiveConfig,
  ROLLOUTS,
  ROLLOUTS_CONTROL_KINDS,
  type RolloutGroup,
  type RolloutsHostToWebviewMessage,
  fixedOptionsOfRunConfig,
  liveConfigOfRunConfig,
  parseRolloutsHostToWebview,
  describeControl,
  parseRolloutsWebviewToHost,
} from '../../src/protocol/index.js';
import { describeOverride } from '../../webview/rollouts/list.js';
import {
  DEFAULT_FILTERS,
  applyMessage,
  batchOfGroups,
  checkDraft,
  computeStepAdvantages,
  configAt,
  configTimeline,
  createModel,
  currentConfigTimeline,
  estimatorOptions,
  interventionRows,
  intervenedPrompts,
  navigate,
  newControlId,
  reduce,
  restoreSavedState,
  rewardOverridesAt,
  rolloutKey,
  savedState,
  sendControl,
  setFollowLive,
  summarizeGroup,
  visibleGroups,
} from '../../webview/rollouts/state.js';
import { liveConfig } from '../support/liveConfig.js';

const BASE = liveConfig({ groupSize: 4 });

/** A group of G rollouts with the given accuracies (reward = accuracy), advantages from src/core filled in later. */
function group(promptId: string, accuracies: number[], extra: Partial<RolloutGroup> = {}, entropy = 1, logprob = -1): RolloutGroup {
  const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
  const std = Math.sqrt(accuracies.reduce((a, r) => a + (r - mean) ** 2, 0) / Math.max(1, accuracies.length - 1));
  return {
    promptId,
    question: `What is shown in ${promptId}?`,
    groundTruth: 'a circle',
    image: `images/${promptId}.png`,
    visualEntropy: entropy,
    confidence: logprob,
    perceptualBucket: entropy < 1 ? 'low' : entropy > 2 ? 'high' : 'mid',
    reasoningBin: 0,
    groupStd: std,
    perceptualPooledStd: 0.5,
    reasoningPooledStd: 0.5,
    weight: 1,
    excluded: false,
    rollouts: accuracies.map((a, i) => ({
      response: `answer ${i} ${a === 1 ? 'circle' : 'square'}`,
      reward: a,
      format: 1,
      accuracy: a,
      meanLogprob: logprob - i * 0.01,
      advantage: 0,
      advantageGrpo: 0,
    })),
    ...extra,
  };
}

/** Groups whose advantages are those src/core gives under `config` (as the trainer writes them). */
function stepGroups(config: LiveConfig = BASE): RolloutGroup[] {
  const groups = [
    group('p-a', [1, 1, 1, 0], {}, 0.5, -0.5),
    group('p-b', [1, 0, 0, 0], {}, 1.5, -0.9),
    group('p-c', [1, 1, 1, 1], {}, 2.5, -0.2),
    group('p-d', [0, 1, 0, 1], {}, 1.2, -1.4),
    group('p-e', [0, 0, 0, 0], {}, 0.8, -2.0),
    group('p-f', [1, 0, 1, 0], {}, 3.0, -0.7),
  ];
  const batch = batchOfGroups(groups);
  const active = computeAdvantages(config.estimator, batch, estimatorOptions(config.estimator, config, {}));
  const grpo = computeAdvantages('grpo', batch, estimatorOptions('grpo', config, {}));
  const durian = computeAdvantages('durian', batch, estimatorOptions('durian', config, {}));
  let s = 0;
  for (const g of groups) {
    for (const r of g.rollouts) {
      r.advantage = active.advantages[s];
      r.advantageGrpo = grpo.advantages[s];
      r.components = { grpo: durian.perSequence.grpo[s], perceptual: durian.perSequence.perceptual[s], reasoning: durian.perSequence.reasoning[s] };
      s++;
    }
  }
  return groups;
}

const runMessage = (overrides: Partial<Extract<RolloutsHostToWebviewMessage, { type: 'rollouts/run' }>> = {}): RolloutsHostToWebviewMessage => ({
  type: ROLLOUTS.run,
  runName: 'run-1',
  runDir: '/runs/run-1',
  state: 'running',
  imageBase: 'https://file+.vscode-resource.vscode-cdn.net/runs/run-1',
  steps: [1, 2, 3],
  baseConfig: BASE,
  fixedOptions: {},
  interventions: [],
  live: true,
  ...overrides,
});

const applied = (step: number, control: InterventionLine['control']): InterventionLine => ({
  step,
  at: '2026-01-01T00:00:00.000Z',
  kind: control.type.slice('control/'.length) as InterventionLine['kind'],
  controlId: control.controlId,
  control,
});

describe('rollouts contract', () => {
  it('accepts every message of the contract, checked', () => {
    const groups = stepGroups();
    const messages: unknown[] = [
      runMessage(),
      { type: ROLLOUTS.state, runName: 'r', runDir: '/r', state: 'paused', live: true },
      { type: ROLLOUTS.step, step: 3, groups, skipped: 0 },
      { type: ROLLOUTS.step, step: 9, groups: [], skipped: 0, missing: true },
      { type: ROLLOUTS.live, step: 4, estimator: 'durian', groups },
      { type: ROLLOUTS.event, event: { type: EVENT.applied, controlId: 'c-1', kind: 'setConfig', step: 5 } },
      { type: ROLLOUTS.interventions, interventions: [applied(5, { type: CONTROL.setGroupWeight, controlId: 'w-1', promptId: 'p-a', weight: 0 })] },
      { type: ROLLOUTS.promptHistory, promptId: 'p-a', points: [{ step: 1, accuracy: 0.75, reward: 0.75, advantages: [1, 1, 1, -1], advantagesGrpo: [0.5, 0.5, 0.5, -1.5], weight: 1, excluded: false }] },
      { type: ROLLOUTS.controlResult, controlId: 'c-1' },
      { type: ROLLOUTS.controlResult, controlId: 'c-2', error: 'no training run is active' },
    ];
    for (const message of messages) {
      const parsed = parseRolloutsHostToWebview(message);
      assert.ok(parsed.ok, `${JSON.stringify(message).slice(0, 80)}: ${parsed.ok ? '' : parsed.error}`);
      assert.deepEqual(parsed.value, message);
    }
    for (const message of [
      { type: 'webview/ready' },
      { type: 'webview/ready', lastStep: 4 },
      { type: ROLLOUTS.requestStep, step: 3 },
      { type: ROLLOUTS.requestPromptHistory, promptId: 'p-a' },
      { type: ROLLOUTS.control, control: { type: CONTROL.relabel, controlId: 'r-1', step: 3, promptId: 'p-a', rollout: 2, reward: 0 } },
      { type: ROLLOUTS.control, control: { type: CONTROL.setConfig, controlId: 'c-1', changes: { durianWeights: [0.6, 0.2, 0.2] } } },
      { type: ROLLOUTS.control, control: { type: CONTROL.undo, controlId: 'u-1', targetControlId: 'c-1' } },
    ]) {
      const parsed = parseRolloutsWebviewToHost(message);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    }
  });

  it('rejects bad messages with the path of the problem, never throwing', () => {
    const bad: [unknown, RegExp][] = [
      [{ type: ROLLOUTS.control, control: { type: CONTROL.pause, controlId: 'p-1' } }, /does not send control\/pause/],
      [{ type: ROLLOUTS.control, control: { type: CONTROL.setGroupWeight, controlId: 'w 1', promptId: 'p', weight: 1 } }, /controlId/],
      [{ type: ROLLOUTS.control, control: { type: CONTROL.setGroupWeight, controlId: 'w-1', promptId: 'p', weight: -1 } }, /weight/],
      [{ type: ROLLOUTS.control, control: { type: CONTROL.setConfig, controlId: 'c-1', changes: { lr: 0 } } }, /lr/],
      [{ type: ROLLOUTS.requestStep, step: -1 }, /step/],
      [{ type: ROLLOUTS.requestStep, step: 1, extra: true }, /extra: is not a field/],
      [{ type: 'dashboard/pause' }, /unknown message type/],
      [null, /must be an object/],
    ];
    for (const [message, error] of bad) {
      const parsed = parseRolloutsWebviewToHost(message);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.error, error);
    }
    const hostBad: [unknown, RegExp][] = [
      [runMessage({ steps: [3, 2] }), /ascending/],
      [{ type: ROLLOUTS.step, step: 1, groups: [{ ...stepGroups()[0], image: '../../etc/passwd' }], skipped: 0 }, /image: must stay inside the run directory/],
      [{ type: ROLLOUTS.event, event: { type: EVENT.log, level: 'info', message: 'x' } }, /not relayed/],
      [{ type: ROLLOUTS.interventions, interventions: [{ ...applied(1, { type: CONTROL.excludePrompt, controlId: 'x-1', promptId: 'p' }), controlId: 'other' }] }, /must equal the line's controlId/],
    ];
    for (const [message, error] of hostBad) {
      const parsed = parseRolloutsHostToWebview(message);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.error, error);
    }
  });

  it('reads the live configuration and fixed options of a config.json', () => {
    const config = { estimator: 'durian', estimatorOptions: { weights: [0.6, 0.2, 0.2], reasoningBins: 4, band: [0.1, 0.9] }, lr: 0.001, klBeta: 0.01, clipLow: 0.2, clipHigh: 0.28, temperature: 1, groupSize: 4, batchSize: 8 };
    const live = liveConfigOfRunConfig(config, [0.1, 0.2, 0.7]);
    assert.deepEqual(live?.durianWeights, [0.6, 0.2, 0.2]);
    assert.equal(live?.reasoningBins, 4);
    assert.equal(live?.eps, 1e-6);
    assert.equal(live?.clipHigh, 0.28);
    assert.deepEqual(fixedOptionsOfRunConfig(config), { band: [0.1, 0.9] });
    assert.equal(liveConfigOfRunConfig({ estimator: 'nope' }, [0.1, 0.2, 0.7]), undefined);
    assert.equal(liveConfigOfRunConfig(undefined, [0.1, 0.2, 0.7]), undefined);
  });
});

describe('rollouts reducer and navigation', () => {
  it('shows the latest step, joins live chunks of a step, follows live and stops following when navigating back', () => {
    const groups = stepGroups();
    const model = reduce([runMessage(), { type: ROLLOUTS.step, step: 3, groups, skipped: 0 }]);
    assert.equal(model.shown?.step, 3);
    assert.equal(model.shown?.estimator, 'durian');
    assert.equal(model.shown?.source, 'file');
    applyMessage(model, { type: ROLLOUTS.live, step: 4, estimator: 'durian', groups: groups.slice(0, 2) });
    applyMessage(model, { type: ROLLOUTS.live, step: 4, estimator: 'durian', groups: groups.slice(2) });
    assert.equal(model.shown?.step, 4);
    assert.equal(model.shown?.groups.length, groups.length, 'the chunks of step 4 form one list');
    assert.deepEqual(model.steps, [1, 2, 3, 4]);
    assert.equal(model.latestStep, 4);

    assert.equal(navigate(model, 'previous'), 3, 'asks the host for step 3');
    assert.equal(model.followLive, false);
    // A live step arriving meanwhile does not move the view.
    applyMessage(model, { type: ROLLOUTS.live, step: 5, estimator: 'durian', groups: groups.slice(0, 1) });
    assert.equal(model.shown?.step, 4);
    applyMessage(model, { type: ROLLOUTS.step, step: 3, groups: groups.slice(0, 3), skipped: 0 });
    assert.equal(model.shown?.step, 3);
    assert.equal(model.shown?.groups.length, 3);
    assert.equal(navigate(model, 'first'), 1);
    assert.equal(navigate(model, 2), 2);
    assert.equal(navigate(model, 100), undefined, 'the live step (the nearest to 100) is shown from memory');
    assert.equal(model.shown?.step, 5);
    assert.equal(model.shown?.source, 'live');
    assert.equal(setFollowLive(model, true), undefined);
    applyMessage(model, { type: ROLLOUTS.live, step: 6, estimator: 'grpo', groups });
    assert.equal(model.shown?.step, 6);
    assert.equal(model.shown?.estimator, 'grpo');
  });

  it('marks a step without a file as missing and keeps it out of the step list', () => {
    const model = reduce([runMessage({ steps: [] })]);
    navigate(model, 1);
    model.wantedStep = 7;
    applyMessage(model, { type: ROLLOUTS.step, step: 7, groups: [], skipped: 0, missing: true });
    assert.equal(model.shown?.missing, true);
    assert.deepEqual(model.steps, []);
  });

  it('shows a revealed step (a click on a Dashboard chart) and keeps it while live steps arrive', () => {
    const groups = stepGroups();
    const model = reduce([runMessage({ steps: [10, 20] })]);
    applyMessage(model, { type: ROLLOUTS.live, step: 21, estimator: 'durian', groups });
    assert.equal(model.followLive, true);
    applyMessage(model, { type: ROLLOUTS.step, step: 10, groups, skipped: 0, reveal: true });
    assert.equal(model.shown?.step, 10);
    assert.equal(model.followLive, false);
    applyMessage(model, { type: ROLLOUTS.live, step: 22, estimator: 'durian', groups });
    assert.equal(model.shown?.step, 10, 'the next live step does not replace the revealed one');
    assert.equal(parseRolloutsHostToWebview({ type: ROLLOUTS.step, step: 10, groups: [], skipped: 0, reveal: 'yes' }).ok, false);
  });

  it('drops a step seen live whose groups were not kept on disk, but never the live step itself', () => {
    const groups = stepGroups();
    const model = reduce([runMessage({ steps: [10] })]);
    for (const step of [11, 12, 13]) applyMessage(model, { type: ROLLOUTS.live, step, estimator: 'durian', groups });
    assert.deepEqual(model.steps, [10, 11, 12, 13]);
    model.wantedStep = 12;
    applyMessage(model, { type: ROLLOUTS.step, step: 12, groups: [], skipped: 0, missing: true });
    assert.deepEqual(model.steps, [10, 11, 13]);
    applyMessage(model, { type: ROLLOUTS.step, step: 13, groups: [], skipped: 0, missing: true });
    assert.deepEqual(model.steps, [10, 11, 13], 'the live step stays: its groups are in memory');
  });

  it('keeps the view settings and pending controls across a reload, dropping junk', () => {
    const model = createModel();
    model.filters = { ...DEFAULT_FILTERS, search: 'circle', sort: 'absAdvantage', descending: true };
    model.followLive = false;
    sendControl(model, { type: CONTROL.excludePrompt, controlId: 'x-1', promptId: 'p-a' });
    const restored = restoreSavedState(JSON.parse(JSON.stringify(savedState(model))));
    assert.equal(restored.filters.search, 'circle');
    assert.equal(restored.filters.sort, 'absAdvantage');
    assert.equal(restored.followLive, false);
    assert.equal(restored.pending.length, 1);
    assert.deepEqual(restoreSavedState({ filters: { sort: 'bogus', bucket: 42 }, pending: [null, 3], followLive: 'yes' }), {
      followLive: true,
      filters: DEFAULT_FILTERS,
      draft: {},
      pending: [],
    });
  });
});

describe('rollout groups: extremes, filters, sort, search', () => {
  it('marks 3:1, 1:3 and zero-variance groups (7:1 and 1:7 with G = 8)', () => {
    assert.equal(summarizeGroup(group('a', [1, 1, 1, 0])).extreme, '3:1');
    assert.equal(summarizeGroup(group('b', [1, 0, 0, 0])).extreme, '1:3');
    assert.equal(summarizeGroup(group('c', [1, 1, 1, 1])).extreme, 'zero variance');
    assert.equal(summarizeGroup(group('d', [0, 0, 0, 0])).extreme, 'zero variance');
    assert.equal(summarizeGroup(group('e', [1, 0, 1, 0])).extreme, undefined);
    assert.equal(summarizeGroup(group('f', [1, 1, 1, 1, 1, 1, 1, 0])).extreme, '7:1');
    assert.equal(summarizeGroup(group('g', [0, 0, 0, 0, 0, 0, 1, 0])).extreme, '1:7');
  });

  it('filters by bucket, accuracy, extremes, interventions and text; sorts stably either way', () => {
    const groups = stepGroups();
    const ids = (rows: number[]) => rows.map((i) => groups[i].promptId);
    assert.deepEqual(ids(visibleGroups(groups, DEFAULT_FILTERS)), ['p-a', 'p-b', 'p-c', 'p-d', 'p-e', 'p-f']);
    assert.deepEqual(ids(visibleGroups(groups, { ...DEFAULT_FILTERS, bucket: 'high' })), ['p-c', 'p-f']);
    assert.deepEqual(ids(visibleGroups(groups, { ...DEFAULT_FILTERS, accuracy: 'all-wrong' })), ['p-e']);
    assert.deepEqual(ids(visibleGroups(groups, { ...DEFAULT_FILTERS, accuracy: 'all-right' })), ['p-c']);
    assert.deepEqual(ids(visibleGroups(groups, { ...DEFAULT_FILTERS, accuracy: 'mixed' })), ['p-a', 'p-b', 'p-d', 'p-f']);
    assert.deepEqual(ids(visibleGroups(groups, { ...DEFAULT_FILTERS, sort: 'visualEntropy' })), ['p-a', 'p-e', 'p-d', 'p-b', 'p-c', 'p-f']);
    assert.deepEqual(ids(visibleGroups(groups, { ...DEFAULT_FILTERS, sort: 'confidence', descending: true })), ['p-c', 'p-a', 'p-f', 'p-b', 'p-d', 'p-e']);
    const byAdvantage = ids(visibleGroups(groups, { ...DEFAULT_FILTERS, sort: 'absAdvantage', descending: true }));
    assert.deepEqual(byAdvantage.slice(-2).sort(), ['p-c', 'p-e'], 'zero-variance groups have advantage 0');
    assert.deepEqual(ids(visibleGroups(groups, { ...DEFAULT_FILTERS, search: 'P-D' })), ['p-d']);
    assert.deepEqual(ids(visibleGroups(groups, { ...DEFAULT_FILTERS, search: 'square' })), ['p-a', 'p-b', 'p-d', 'p-e', 'p-f'], 'searches responses');
    const reweighted = groups.map((g) => (g.promptId === 'p-b' ? { ...g, weight: 2 } : g));
    assert.deepEqual(ids(visibleGroups(reweighted, { ...DEFAULT_FILTERS, intervenedOnly: true }, new Map([['p-e', new Set(['relabel'])]]))), ['p-b', 'p-e']);
  });

  it('"Extremes only" keeps the groups with a rollout |A| > EXTREME_ADVANTAGE, the Dashboard\'s threshold', () => {
    assert.equal(EXTREME_ADVANTAGE, 2);
    const withAdvantages = (id: string, accuracies: number[], advantages: number[]) => {
      const g = group(id, accuracies);
      g.rollouts.forEach((r, i) => (r.advantage = advantages[i]));
      return g;
    };
    const groups = [
      withAdvantages('lone-but-mild', [1, 1, 1, 0], [0.5, 0.5, 0.5, -1.5]),
      withAdvantages('mixed-but-extreme', [1, 0, 1, 0], [2.5, -0.1, 0.1, -0.2]),
      withAdvantages('exactly-two', [1, 0, 1, 0], [2, -2, 0, 0]),
      withAdvantages('negative-extreme', [1, 0, 0, 1], [0, -2.01, 0, 0]),
    ];
    assert.deepEqual(visibleGroups(groups, { ...DEFAULT_FILTERS, extremesOnly: true }).map((i) => groups[i].promptId), ['mixed-but-extreme', 'negative-extreme']);
  });

  it('filters 512 prompts x 8 rollouts quickly', () => {
    const groups = Array.from({ length: 512 }, (_, p) => group(`p-${p}`, Array.from({ length: 8 }, (_, i) => ((p + i) % 3 === 0 ? 1 : 0)), {}, (p % 7) / 2, -(p % 11) / 5));
    const started = performance.now();
    visibleGroups(groups, { ...DEFAULT_FILTERS, search: 'circle', sort: 'absAdvantage', descending: true });
    const result = computeStepAdvantages(groups, 'durian', BASE, {});
    assert.ok(!('error' in result));
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  });
});

describe('configuration: timeline, editor, preview', () => {
  it('replays setConfig and undo as the trainer does, with the step each value holds from', () => {
    const lines = [
      applied(3, { type: CONTROL.setConfig, controlId: 'c-1', changes: { durianWeights: [0.6, 0.2, 0.2], lr: 0.002 } }),
      applied(5, { type: CONTROL.setConfig, controlId: 'c-2', changes: { lr: 0.005 } }),
      applied(7, { type: CONTROL.undo, controlId: 'u-1', targetControlId: 'c-2' }),
    ];
    const latest = configTimeline(BASE, lines);
    assert.deepEqual(latest.config.durianWeights, [0.6, 0.2, 0.2]);
    assert.equal(latest.config.lr, 0.002, 'undo restores what c-2 replaced');
    assert.equal(latest.since.durianWeights, 3);
    assert.equal(latest.since.lr, 7);
    assert.equal(latest.since.eps, undefined);
    assert.equal(configTimeline(BASE, lines, 2).config.lr, 0.001);
    assert.equal(configTimeline(BASE, lines, 5).config.lr, 0.005);
    assert.deepEqual(BASE.durianWeights, [0.1, 0.2, 0.7], 'the base is not changed');
  });

  it('shows the configuration the trainer reports as in force, and replays the log only for earlier steps', () => {
    const logged = applied(3, { type: CONTROL.setConfig, controlId: 'c-1', changes: { lr: 0.002 } });
    const model = reduce([runMessage({ interventions: [logged] })]);
    assert.equal(configAt(model)?.lr, 0.002, 'no report yet: config.json replayed with the log');
    // A control the log read with the run does not hold (another window, the inbox) changed lr and a weight.
    const reported: LiveConfig = { ...BASE, lr: 0.005, durianWeights: [0.5, 0.2, 0.3] };
    applyMessage(model, { type: ROLLOUTS.event, event: { type: EVENT.applied, controlId: 'other-1', kind: 'setConfig', step: 6, config: reported } });
    assert.deepEqual(configAt(model), reported, 'the trainer\'s report, not the replay');
    assert.equal(configAt(model, 8)?.lr, 0.005, 'in force from its step on');
    assert.equal(configAt(model, 4)?.lr, 0.002, 'earlier steps: the replayed history');
    assert.equal(configAt(model, 1)?.lr, 0.001);
    const timeline = currentConfigTimeline(model);
    assert.equal(timeline?.since.lr, 6, 'a setting the report changed holds from its step');
    assert.equal(timeline?.since.durianWeights, 6);
    assert.equal(timeline?.since.eps, undefined);
    // A panel opened later gets the host's last report with the run.
    const reopened = reduce([runMessage({ interventions: [logged], reportedConfig: { config: reported, step: 6 } })]);
    assert.deepEqual(configAt(reopened), reported);
    assert.ok(parseRolloutsHostToWebview(runMessage({ reportedConfig: { config: reported, step: 6 } })).ok);
    assert.equal(parseRolloutsHostToWebview(runMessage({ reportedConfig: { config: { ...reported, lr: -1 }, step: 6 } })).ok, false);
  });

  it('adds its own applied control to the log at once, undoable, without the host reading interventions.jsonl', () => {
    const model = reduce([runMessage()]);
    const config = { type: CONTROL.setConfig, controlId: 'c-9', changes: { klBeta: 0.05 } } as const;
    sendControl(model, config);
    applyMessage(model, { type: ROLLOUTS.event, event: { type: EVENT.applied, controlId: 'c-9', kind: 'setConfig', step: 4, config: { ...BASE, klBeta: 0.05 } } });
    assert.equal(model.pending.length, 0);
    assert.deepEqual(model.interventions.map((line) => [line.controlId, line.step, line.control]), [['c-9', 4, config]]);
    const [row] = interventionRows(model);
    assert.equal(row.statusText, 'applied at step 4');
    assert.equal(row.canUndo, true, 'undoable as soon as it is applied');
  });

  it('validates the draft as typed: ranges, whole numbers, sum of weights, unchanged fields', () => {
    const ok = checkDraft({ a_ori: '0.6', a_reas: '0.2', lr: '0.001', reasoningBins: '8', poolZeroVariance: 'false', estimator: 'grpo' }, BASE);
    assert.deepEqual(ok.errors, {});
    assert.deepEqual(ok.changes, { estimator: 'grpo', durianWeights: [0.6, 0.2, 0.2], reasoningBins: 8, poolZeroVariance: false });
    assert.ok(Math.abs(ok.weightSum - 1) < 1e-12);
    const bad = checkDraft({ a_ori: '-1', lr: '0', reasoningBins: '2.5', clipHigh: 'x', temperature: '11' }, BASE);
    assert.match(bad.errors.a_ori ?? '', />= 0/);
    assert.match(bad.errors.lr ?? '', /> 0 and <= 1/);
    assert.match(bad.errors.reasoningBins ?? '', /whole number/);
    assert.match(bad.errors.clipHigh ?? '', /not a number/);
    assert.match(bad.errors.temperature ?? '', /<= 10/);
    assert.deepEqual(bad.changes, {});
    assert.equal(checkDraft({ a_ori: '1' }, BASE).weightSum, 1.9);
  });

  it('previews with the same maths as the trainer: unchanged coefficients give its advantages, new weights give new ones', () => {
    const groups = stepGroups(BASE);
    const same = computeStepAdvantages(groups, 'durian', BASE, {});
    assert.ok(!('error' in same));
    groups.forEach((g, p) => g.rollouts.forEach((r, i) => assert.ok(Math.abs(same.advantages[p][i] - r.advantage) < 1e-12)));
    const edited = checkDraft({ a_ori: '0.6', a_reas: '0.2' }, BASE).config;
    const preview = computeStepAdvantages(groups, 'durian', edited, {});
    assert.ok(!('error' in preview));
    groups.forEach((g, p) =>
      g.rollouts.forEach((r, i) => {
        const c = r.components as { grpo: number; perceptual: number; reasoning: number };
        assert.ok(Math.abs(preview.advantages[p][i] - (0.6 * c.grpo + 0.2 * c.perceptual + 0.2 * c.reasoning)) < 1e-12);
      }),
    );
    // A group weight multiplies, weight 0 gives 0.
    const weighted = groups.map((g) => (g.promptId === 'p-a' ? { ...g, weight: 0 } : g.promptId === 'p-b' ? { ...g, weight: 2 } : g));
    const w = computeStepAdvantages(weighted, 'durian', BASE, {});
    assert.ok(!('error' in w));
    assert.deepEqual(w.advantages[0], [0, 0, 0, 0]);
  });
});

describe('interventions', () => {
  it('goes pending -> applied at step N (acknowledged, then logged) -> undone, and lists failures', () => {
    const model = reduce([runMessage()]);
    const weight = { type: CONTROL.setGroupWeight, controlId: newControlId('weight'), promptId: 'p-a', weight: 0 } as const;
    const message = sendControl(model, weight);
    assert.equal(message.type, ROLLOUTS.control);
    assert.ok(parseRolloutsWebviewToHost(message).ok);
    assert.equal(interventionRows(model)[0].status, 'pending');
    assert.ok(intervenedPrompts(model).get('p-a')?.has('weight'));
    applyMessage(model, { type: ROLLOUTS.controlResult, controlId: weight.controlId });
    applyMessage(model, { type: ROLLOUTS.event, event: { type: EVENT.applied, controlId: weight.controlId, kind: 'setGroupWeight', step: 9 } });
    assert.equal(interventionRows(model)[0].statusText, 'applied at step 9');
    applyMessage(model, { type: ROLLOUTS.interventions, interventions: [applied(9, weight)] });
    assert.equal(model.pending.length, 0, 'the log now holds it');
    let rows = interventionRows(model);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].canUndo, true);
    assert.equal(rows[0].description, 'weight of p-a = 0 (left out of the update)');
    assert.equal(rows[0].kind, 'weight');
    const undo = { type: CONTROL.undo, controlId: 'u-1', targetControlId: weight.controlId } as const;
    sendControl(model, undo);
    assert.equal(interventionRows(model).find((row) => row.controlId === weight.controlId)?.canUndo, false, 'no second undo while one is pending');
    const stop = { type: CONTROL.stop, controlId: 's-1' } as const;
    applyMessage(model, { type: ROLLOUTS.interventions, interventions: [applied(9, weight), applied(12, undo), applied(13, stop)] });
    assert.equal(interventionRows(model).some((row) => row.kind === 'stop'), false, 'pause/resume/stop are not listed');
    rows = interventionRows(model);
    assert.equal(rows.find((row) => row.controlId === weight.controlId)?.statusText, 'applied at step 9, undone at step 12');
    assert.equal(intervenedPrompts(model).has('p-a'), false);

    const refused = { type: CONTROL.excludePrompt, controlId: 'x-1', promptId: 'p-b' } as const;
    sendControl(model, refused);
    applyMessage(model, { type: ROLLOUTS.controlResult, controlId: 'x-1', error: 'no training run is active' });
    const relabel = { type: CONTROL.relabel, controlId: 'r-1', step: 99, promptId: 'p-c', rollout: 0, reward: 1 } as const;
    sendControl(model, relabel);
    applyMessage(model, { type: ROLLOUTS.event, event: { type: EVENT.error, message: 'relabel: no rollout 0', fatal: false, controlId: 'r-1' } });
    const failed = interventionRows(model).filter((row) => row.status === 'failed');
    assert.deepEqual(failed.map((row) => row.statusText), ['rejected by the trainer: relabel: no rollout 0', 'not sent: no training run is active']);
    assert.equal(model.notices.length, 0, 'a control error belongs to its row, not the notices');
  });
});

describe('interventions in the user\'s words', () => {
  it('names every control without the protocol\'s names or control ids; an undo says what it undoes', () => {
    const weight = { type: CONTROL.setGroupWeight, controlId: 'rg-weight-mx59f49q-2', promptId: 'train-006866', weight: 2 } as const;
    const exclude = { type: CONTROL.excludePrompt, controlId: 'rg-exclude-mx59f49q-3', promptId: 'train-000012' } as const;
    const relabel = { type: CONTROL.relabel, controlId: 'rg-relabel-mx59f49q-4', step: 7, promptId: 'train-000001', rollout: 3, reward: 0 } as const;
    const config = { type: CONTROL.setConfig, controlId: 'rg-config-mx59f49q-5', changes: { durianWeights: [0.6, 0.2, 0.2] as [number, number, number], klBeta: 0.02 } } as const;
    const undo = { type: CONTROL.undo, controlId: 'rg-undo-mx59f49q-6', targetControlId: weight.controlId } as const;
    const model = reduce([runMessage({ interventions: [applied(3, weight), applied(4, exclude), applied(5, relabel), applied(6, config)] })]);
    sendControl(model, undo);
    const rows = interventionRows(model);
    assert.deepEqual(
      rows.map((row) => [row.kind, row.description]),
      [
        ['undo', 'undo: weight of train-006866 = 2'],
        ['settings', 'set (a_ori, a_perc, a_reas) = (0.6, 0.2, 0.2), KL beta = 0.02'],
        ['reward override', 'reward override for this response to train-000001 (#3 at step 7) = 0'],
        ['exclude prompt', 'exclude prompt train-000012 (ground truth wrong)'],
        ['weight', 'weight of train-006866 = 2'],
      ],
    );
    for (const row of rows) {
      assert.doesNotMatch(`${row.kind} ${row.description} ${row.statusText}`, /setGroupWeight|excludePrompt|setConfig|control\/|rg-[a-z]+-/, row.description);
    }
    assert.equal(describeControl(undo), 'undo: an earlier intervention', 'an unknown target is not named by its id');
    for (const kind of ROLLOUTS_CONTROL_KINDS) assert.doesNotMatch(CONTROL_KIND_LABELS[kind], /[A-Z]/, `${kind} has a plain label`);
  });
});

describe('reward overrides (relabel)', () => {
  it('are listed per rollout of the step they were made on, pending then from step N, gone once undone', () => {
    const model = reduce([runMessage()]);
    const relabel = { type: CONTROL.relabel, controlId: 'r-1', step: 3, promptId: 'p-a', rollout: 2, reward: 0 } as const;
    sendControl(model, relabel);
    assert.deepEqual(rewardOverridesAt(model, 3).get(rolloutKey('p-a', 2)), { reward: 0 }, 'pending: no step yet');
    assert.equal(rewardOverridesAt(model, 4).size, 0, 'made on step 3 only');
    applyMessage(model, { type: ROLLOUTS.event, event: { type: EVENT.applied, controlId: 'r-1', kind: 'relabel', step: 9 } });
    assert.deepEqual(rewardOverridesAt(model, 3).get(rolloutKey('p-a', 2)), { reward: 0, fromStep: 9 });
    applyMessage(model, { type: ROLLOUTS.interventions, interventions: [applied(9, relabel)] });
    assert.deepEqual(rewardOverridesAt(model, 3).get(rolloutKey('p-a', 2)), { reward: 0, fromStep: 9 }, 'from the log');
    assert.equal(describeOverride(1, { reward: 0, fromStep: 9 }), 'reward 1.0 -> 0.0 from step 9');
    assert.equal(describeOverride(0.25, { reward: 1 }), 'reward 0.25 -> 1.0 from the next step (pending)');
    applyMessage(model, { type: ROLLOUTS.interventions, interventions: [applied(9, relabel), applied(11, { type: CONTROL.undo, controlId: 'u-1', targetControlId: 'r-1' })] });
    assert.equal(rewardOverridesAt(model, 3).size, 0, 'undone');
  });
});

describe('rollouts webview code', () => {
  it('never writes host data as HTML (textContent only)', () => {
    const folder = path.resolve('webview/rollouts');
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(path.join(folder, file), 'utf8');
      assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/, file);
    }
  });
});
