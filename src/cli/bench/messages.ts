/**
 * Messages benchmark: the real protocol path of a training step, per side, with realistic payloads.
 *
 * Payloads are built as src/trainer/trainer.ts builds them, from the real pieces: 32 built-in tasks
 * (questions, answers, image paths), 8 rollouts each with responses in the task vocabulary scored by the
 * task reward, advantages from src/core under the active estimator (durian, the default) and grpo, Durian's
 * buckets, bins and components; a `trainer/step` with the verl-named metrics the trainer sends; the controls
 * the Rollout Groups panel sends (setConfig from its draft, setGroupWeight).
 *
 * - trainer: `encodeLine` per event (what goes down stdout), against JSON.stringify of the same event;
 * - host: 64 KiB byte chunks through `LineDecoder` + `parseEvent` (framing, UTF-8, validation), events/s and
 *   MB/s, against JSON.parse of the same lines; plus the steps/s that leaves against the trainer's peak
 *   rate (TRAINER_PEAK_STEPS_PER_S), the host's headroom;
 * - webview: `parseHostToWebview` (dashboard/event) and `parseRolloutsHostToWebview` (rollouts/live) per
 *   message, against JSON.parse of the message's text;
 * - controls: `parseControl`, and `parseRolloutsWebviewToHost` for the panel's `rollouts/control`, against
 *   JSON.parse.
 * Ratios are value / baseline in the row's unit (times: > 1 = slower than raw JSON; rates: < 1 = slower).
 * Before timing, the suite checks that every payload validates and that a corrupted one in the stream is
 * rejected, so it never times a validator that lets everything through.
 */
import { computeAdvantages } from '../../core/index.js';
import {
  CONTROL,
  DASHBOARD,
  EVENT,
  LineDecoder,
  ROLLOUTS,
  type DashboardEventMessage,
  type GroupsEvent,
  type RolloutsControlMessage,
  type RolloutsLiveMessage,
  type SetConfigControl,
  type SetGroupWeightControl,
  type StepEvent,
  type TrainerEvent,
  encodeLine,
  groupsEvents,
  parseControl,
  parseEvent,
  parseHostToWebview,
  parseRolloutsHostToWebview,
  parseRolloutsWebviewToHost,
  splitFiniteMetrics,
} from '../../protocol/index.js';
import type { TrainStepMetrics } from '../../trainer/policy/update.js';
import { buildRolloutGroups, stepMetrics } from '../../trainer/stepRecords.js';
import { generateTask, taskLevelsAt } from '../../trainer/tasks/generate.js';
import { taskImagePath } from '../../trainer/tasks/png.js';
import { scoreResponse, targetResponse } from '../../trainer/tasks/reward.js';
import { decodeResponse, numberTokenId } from '../../trainer/tasks/vocab.js';
import { seededRandom } from '../syntheticBatch.js';
import { type BenchRow, type BenchSuite, timeMediansInterleaved } from './types.js';

/** The most steps per second the built-in trainer reaches (about 5-10 on a small default run). */
const TRAINER_PEAK_STEPS_PER_S = 10;
/** The host reads the trainer's stdout in chunks of this size (a pipe's typical high-water mark). */
export const CHUNK_BYTES = 64 * 1024;

export interface MessagesFixture {
  step: StepEvent;
  groups: GroupsEvent;
  /** Host -> webview: the step event relayed to the Dashboard. */
  dashboardEvent: DashboardEventMessage;
  /** Host -> webview: the groups event relayed to the Rollout Groups panel. */
  rolloutsLive: RolloutsLiveMessage;
  setConfig: SetConfigControl;
  setGroupWeight: SetGroupWeightControl;
  /** Webview -> host: the panel's setGroupWeight. */
  rolloutsControl: RolloutsControlMessage;
}

/**
 * One default training step's messages (batchSize 32, groupSize 8, estimator durian), deterministic in
 * `seed`. The payloads are built by the trainer's own buildRolloutGroups and stepMetrics (trainer/stepRecords.ts).
 */
export function messagesFixture(options: { prompts?: number; groupSize?: number; seed?: number; step?: number } = {}): MessagesFixture {
  const { prompts = 32, groupSize: G = 8, seed = 1, step = 120 } = options;
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const tasks = Array.from({ length: prompts }, (_, i) => generateTask(seed, 'train', 1000 + i, taskLevelsAt(seed, 'train', 1000 + i)));

  // Rollouts: the gold response, or one whose final answer is off, more often for harder tasks.
  const n = prompts * G;
  const index: string[] = [];
  const scores: number[] = [];
  const accuracy: number[] = [];
  const format: number[] = [];
  const lengths: number[] = [];
  const logprob: number[] = [];
  const visualEntropy: number[] = [];
  const tokens: number[][] = [];
  for (const task of tasks) {
    const entropy = 1.6 + 0.7 * task.perceptualLevel + 0.25 * gaussian();
    const pCorrect = 1 / (1 + Math.exp(-(2.5 - 0.9 * task.perceptualLevel - 0.9 * task.reasoningLevel + 0.6 * gaussian())));
    for (let i = 0; i < G; i++) {
      const response = targetResponse(task);
      if (random() >= pCorrect) response[response.length - 2] = numberTokenId(Math.floor(random() * 16));
      if (random() < 0.03) response.pop(); // no <eos>: format 0
      const score = scoreResponse(response, task);
      index.push(task.id);
      scores.push(score.reward);
      accuracy.push(score.accuracy);
      format.push(score.format);
      lengths.push(response.length);
      logprob.push(-(0.08 + 0.2 * task.reasoningLevel + 0.5 * (1 - score.accuracy)) * (0.8 + 0.4 * random()));
      visualEntropy.push(entropy);
      tokens.push(response);
    }
  }
  const groupWeights = Object.fromEntries(tasks.map((t, p) => [t.id, p === 3 ? 0.5 : p === 11 ? 0 : 1]));
  const batch = { index, scores, lengths, visualEntropy, logprob, accuracy, groupWeights };
  const active = computeAdvantages('durian', batch);
  const grpo = computeAdvantages('grpo', batch);

  const groups = buildRolloutGroups({
    prompts: tasks.map((task, p) => ({ task, visualEntropy: visualEntropy[p * G] })),
    G,
    texts: tokens.map((t) => decodeResponse(t)),
    tokens: (s) => tokens[s],
    scores,
    format,
    accuracy,
    meanLogprobs: logprob,
    image: (p) => taskImagePath(tasks[p]),
    weight: (id) => groupWeights[id],
    active,
    grpo,
    durian: active,
  });
  const split = groupsEvents(step, 'durian', groups);
  if (split.events.length !== 1 || split.tooLarge.length > 0) throw new Error(`messages bench: expected one groups event, got ${split.events.length}`);

  // The trainer's metrics: its own (Trainer.stepMetrics) and the policy update's, `loss` left out.
  const update: Omit<TrainStepMetrics, 'loss'> = { pg_loss: -0.0123, kl_loss: 0.00412, entropy: 0.731, pg_clipfrac: 0.0186, ppo_kl: 0.00093, grad_norm: 0.412 };
  const timing = { rollout: 0.0412, scoring: 0.0031, update: 0.0874 };
  const stepSeconds = timing.rollout + timing.scoring + timing.update + 0.0052;
  const metrics = stepMetrics({ scores, accuracy, format, lengths, active, grpo, G, update, timings: timing, stepMs: stepSeconds * 1000, sequences: n });
  const stepEvent: StepEvent = { type: EVENT.step, step, totalSteps: 1000, metrics: splitFiniteMetrics(metrics).finite, elapsedMs: 16_734.5 };
  const groupsEvent = split.events[0];

  const promptId = groups[5].promptId;
  const setGroupWeight: SetGroupWeightControl = { type: CONTROL.setGroupWeight, controlId: 'rg-weight-m3x1q2ab-17', promptId, weight: 0.5 };
  return {
    step: stepEvent,
    groups: groupsEvent,
    dashboardEvent: { type: DASHBOARD.event, event: stepEvent },
    rolloutsLive: { type: ROLLOUTS.live, step: groupsEvent.step, estimator: groupsEvent.estimator, groups: groupsEvent.groups },
    setConfig: { type: CONTROL.setConfig, controlId: 'rg-config-m3x1q2ab-16', changes: { lr: 2e-4, klBeta: 0.02, durianWeights: [0.2, 0.3, 0.5] } },
    setGroupWeight,
    rolloutsControl: { type: ROLLOUTS.control, control: setGroupWeight },
  };
}


/** `count` copies of an event at consecutive steps, as the trainer would send them over a run. */
export function eventsAtSteps<E extends StepEvent | GroupsEvent>(event: E, count: number): E[] {
  return Array.from({ length: count }, (_, i) => ({ ...event, step: event.step + i }));
}

/** The events as the trainer's stdout bytes (`encodeLine` each), cut into `chunkBytes` chunks. */
export function encodeStream(events: readonly TrainerEvent[], chunkBytes = CHUNK_BYTES): { chunks: Uint8Array[]; lines: string[]; bytes: number } {
  const lines = events.map(encodeLine);
  const bytes = Buffer.from(lines.join(''), 'utf8');
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(bytes.subarray(at, at + chunkBytes));
  return { chunks, lines: lines.map((line) => line.slice(0, -1)), bytes: bytes.length };
}

/** The host's read path: a fresh LineDecoder with `parseEvent` over the chunks. Errors are kept (few). */
export function decodeStream(chunks: readonly Uint8Array[], validate = true): { ok: number; errors: string[] } {
  const decoder = validate ? new LineDecoder<TrainerEvent>({ parse: parseEvent }) : new LineDecoder<unknown>();
  let ok = 0;
  const errors: string[] = [];
  const take = (lines: { ok: boolean; error?: string }[]) => {
    for (const line of lines) {
      if (line.ok) ok++;
      else errors.push(line.error as string);
    }
  };
  for (const chunk of chunks) take(decoder.push(chunk));
  take(decoder.end());
  return { ok, errors };
}

/** Guards against timing a no-op: every payload must pass, and a corrupted one must be refused. */
export function checkValidators(fixture: MessagesFixture): void {
  const must = (what: string, result: { ok: boolean; error?: string }) => {
    if (!result.ok) throw new Error(`messages bench: the ${what} payload does not validate: ${result.error}`);
  };
  must('step', parseEvent(fixture.step));
  must('groups', parseEvent(fixture.groups));
  must('dashboard/event', parseHostToWebview(fixture.dashboardEvent));
  must('rollouts/live', parseRolloutsHostToWebview(fixture.rolloutsLive));
  must('setConfig', parseControl(fixture.setConfig));
  must('setGroupWeight', parseControl(fixture.setGroupWeight));
  must('rollouts/control', parseRolloutsWebviewToHost(fixture.rolloutsControl));
  const corrupted = corruptGroups(fixture.groups);
  const decoded = decodeStream(encodeStream([fixture.step, corrupted, fixture.groups]).chunks);
  if (decoded.ok !== 2 || decoded.errors.length !== 1) {
    throw new Error(`messages bench: the host path accepted a corrupted groups event (${decoded.ok} ok, ${decoded.errors.length} refused)`);
  }
  const live = parseRolloutsHostToWebview({ ...fixture.rolloutsLive, groups: corrupted.groups });
  const control = parseControl({ ...fixture.setGroupWeight, weight: -1 });
  if (live.ok || control.ok) throw new Error('messages bench: a webview or control validator accepted a corrupted message');
}

/** A copy of the event, still valid JSON, with one rollout's accuracy out of its [0, 1] range. */
export function corruptGroups(event: GroupsEvent): GroupsEvent {
  const groups = event.groups.map((group) => ({ ...group }));
  const last = groups.length - 1;
  groups[last].rollouts = groups[last].rollouts.map((rollout, i) => (i === groups[last].rollouts.length - 1 ? { ...rollout, accuracy: 2 } : rollout));
  return { ...event, groups };
}

/** Runs `fn` over `items`, so that one timed call covers many small messages. */
function each<T>(items: readonly T[], fn: (item: T) => unknown): () => void {
  return () => {
    for (const item of items) sink(fn(item));
  };
}

let sinkCount = 0;
/** Keeps results alive (and checks them) so that no call can be optimised away. */
function sink(value: unknown): void {
  if (value === undefined) throw new Error('messages bench: a measured call returned nothing');
  sinkCount++;
}

const kb = (chars: number) => `${(chars / 1024).toFixed(1)} KB`;

export const messagesSuite: BenchSuite = {
  name: 'messages',
  description: 'protocol path of a default step (32 x 8): trainer encode, host decode + validate, webview and control validation',
  async run({ repeats }) {
    const fixture = messagesFixture();
    checkValidators(fixture);
    const rows: BenchRow[] = [];
    const stepChars = JSON.stringify(fixture.step).length;
    const groupsChars = JSON.stringify(fixture.groups).length;
    const metricCount = Object.keys(fixture.step.metrics).length;
    const shape = `${fixture.groups.groups.length} x ${fixture.groups.groups[0].rollouts.length}`;

    // Trainer: encodeLine per event vs JSON.stringify.
    const steps = eventsAtSteps(fixture.step, 200);
    const groupsList = eventsAtSteps(fixture.groups, 4);
    const encode = timeMediansInterleaved(
      {
        stepLine: each(steps, encodeLine),
        stepJson: each(steps, (e) => JSON.stringify(e)),
        groupsLine: each(groupsList, encodeLine),
        groupsJson: each(groupsList, (e) => JSON.stringify(e)),
      },
      repeats,
    );
    const perStepUs = (ms: number) => (ms * 1000) / steps.length;
    const perGroupsMs = (ms: number) => ms / groupsList.length;
    rows.push(row(`trainer: encodeLine, step event (${metricCount} metrics)`, perStepUs(encode.stepLine), 'µs/event', 'JSON.stringify', perStepUs(encode.stepJson), kb(stepChars)));
    rows.push(row(`trainer: encodeLine, groups event (${shape})`, perGroupsMs(encode.groupsLine), 'ms/event', 'JSON.stringify', perGroupsMs(encode.groupsJson), kb(groupsChars)));

    // Host: 64 KiB chunks -> LineDecoder + parseEvent, vs JSON.parse of the same lines; framing alone for the note.
    const host = (events: TrainerEvent[]) => {
      const stream = encodeStream(events);
      const expect = (result: { ok: number; errors: string[] }) => {
        if (result.ok !== events.length || result.errors.length > 0) throw new Error(`messages bench: host decoded ${result.ok}/${events.length} events (${result.errors[0] ?? ''})`);
      };
      const times = timeMediansInterleaved(
        {
          validated: () => expect(decodeStream(stream.chunks)),
          framing: () => expect(decodeStream(stream.chunks, false)),
          json: each(stream.lines, (line) => JSON.parse(line)),
        },
        repeats,
      );
      const rate = (ms: number) => events.length / (ms / 1000);
      return { times, bytes: stream.bytes, count: events.length, rate: rate(times.validated), jsonRate: rate(times.json), framingRate: rate(times.framing) };
    };
    const hostSteps = host(steps);
    const hostGroups = host(groupsList);
    const framingNote = (h: typeof hostSteps) => `time vs JSON.parse: framing ${formatRatio(h.times.framing / h.times.json)}, + parseEvent ${formatRatio(h.times.validated / h.times.json)}`;
    rows.push(row('host: LineDecoder + parseEvent, step events', hostSteps.rate, 'events/s', 'JSON.parse', hostSteps.jsonRate, framingNote(hostSteps)));
    rows.push(row(`host: LineDecoder + parseEvent, groups events (${shape})`, hostGroups.rate, 'events/s', 'JSON.parse', hostGroups.jsonRate, framingNote(hostGroups)));
    // One training step = one step event + one groups event.
    const stepSeconds = (h: typeof hostSteps, ms: number) => ms / 1000 / h.count;
    const perStep = (key: 'validated' | 'json') => stepSeconds(hostSteps, hostSteps.times[key]) + stepSeconds(hostGroups, hostGroups.times[key]);
    const stepBytes = hostSteps.bytes / hostSteps.count + hostGroups.bytes / hostGroups.count;
    rows.push(row('host: the trainer stream (step + groups per step), 64 KiB chunks', stepBytes / perStep('validated') / 1e6, 'MB/s', 'JSON.parse', stepBytes / perStep('json') / 1e6, `${kb(stepBytes)} per step`));
    const hostStepsPerS = 1 / perStep('validated');
    const headroom: BenchRow = {
      suite: 'messages',
      name: 'host: training steps/s it can take (step + groups events)',
      value: hostStepsPerS,
      unit: 'steps/s',
      baseline: { name: 'trainer peak steps/s', value: TRAINER_PEAK_STEPS_PER_S },
      ratio: hostStepsPerS / TRAINER_PEAK_STEPS_PER_S,
      target: '>= 10x trainer peak',
      pass: hostStepsPerS / TRAINER_PEAK_STEPS_PER_S >= 10,
      note: `host busy ${((100 * TRAINER_PEAK_STEPS_PER_S) / hostStepsPerS).toFixed(2)}% at the peak`,
    };
    rows.push(headroom);

    // Webview: validation of the relayed messages, vs JSON.parse of their text.
    // Each message a fresh object, as a webview gets from postMessage's structured clone.
    const dashboardText = JSON.stringify(fixture.dashboardEvent);
    const dashboards = copies<DashboardEventMessage>(dashboardText, 200);
    const liveText = JSON.stringify(fixture.rolloutsLive);
    const lives = copies<RolloutsLiveMessage>(liveText, 4);
    const web = timeMediansInterleaved(
      {
        dashboard: each(dashboards, (m) => ok(parseHostToWebview(m))),
        dashboardJson: each(dashboards, () => JSON.parse(dashboardText)),
        live: each(lives, (m) => ok(parseRolloutsHostToWebview(m))),
        liveJson: each(lives, () => JSON.parse(liveText)),
      },
      repeats,
    );
    const perDashboardUs = (ms: number) => (ms * 1000) / dashboards.length;
    const perLiveMs = (ms: number) => ms / lives.length;
    rows.push(row('webview: parseHostToWebview, dashboard/event (step)', perDashboardUs(web.dashboard), 'µs/message', 'JSON.parse', perDashboardUs(web.dashboardJson)));
    rows.push(row(`webview: parseRolloutsHostToWebview, rollouts/live (${shape})`, perLiveMs(web.live), 'ms/message', 'JSON.parse', perLiveMs(web.liveJson)));

    // Controls: parseControl (host before sending, trainer on arrival) and the panel's rollouts/control.
    const controls = 1000;
    const many = (message: object) => ({ list: copies<unknown>(JSON.stringify(message), controls), text: JSON.stringify(message) });
    const setConfig = many(fixture.setConfig);
    const setWeight = many(fixture.setGroupWeight);
    const panel = many(fixture.rolloutsControl);
    const ctl = timeMediansInterleaved(
      {
        setConfig: each(setConfig.list, (m) => ok(parseControl(m))),
        setConfigJson: each(setConfig.list, () => JSON.parse(setConfig.text)),
        setWeight: each(setWeight.list, (m) => ok(parseControl(m))),
        setWeightJson: each(setWeight.list, () => JSON.parse(setWeight.text)),
        panel: each(panel.list, (m) => ok(parseRolloutsWebviewToHost(m))),
        panelJson: each(panel.list, () => JSON.parse(panel.text)),
      },
      repeats,
    );
    const perControlUs = (ms: number) => (ms * 1000) / controls;
    rows.push(row('control: parseControl, setConfig (lr, klBeta, durianWeights)', perControlUs(ctl.setConfig), 'µs/control', 'JSON.parse', perControlUs(ctl.setConfigJson)));
    rows.push(row('control: parseControl, setGroupWeight', perControlUs(ctl.setWeight), 'µs/control', 'JSON.parse', perControlUs(ctl.setWeightJson)));
    rows.push(row('control: parseRolloutsWebviewToHost, rollouts/control (setGroupWeight)', perControlUs(ctl.panel), 'µs/control', 'JSON.parse', perControlUs(ctl.panelJson)));
    if (sinkCount === 0) throw new Error('messages bench: nothing was measured');
    return rows;
  },
};

/** `count` distinct objects parsed from the same JSON text. */
function copies<T>(text: string, count: number): T[] {
  return Array.from({ length: count }, () => JSON.parse(text) as T);
}

function ok<T>(result: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!result.ok) throw new Error(`messages bench: a payload stopped validating: ${result.error}`);
  return result.value;
}

function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}x`;
}

/** A row with its same-process baseline; ratio = value / baseline in the row's unit. */
function row(name: string, value: number, unit: string, baselineName: string, baseline: number, note?: string): BenchRow {
  return { suite: 'messages', name, value, unit, baseline: { name: baselineName, value: baseline }, ratio: value / baseline, ...(note ? { note } : {}) };
}
