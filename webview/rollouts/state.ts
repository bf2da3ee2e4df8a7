/**
 * The Rollout Groups panel's model and the reducer that builds it from host messages, with no DOM:
 * the run, the steps on disk, the step shown (from a file or live, its `trainer/groups` chunks joined),
 * the interventions log and the controls this webview sent (pending until the trainer acknowledges them),
 * the coefficient editor's draft and its validation, the filters and sort of the list, and the local
 * recomputation of a step's advantages with src/core (the same maths the trainer runs) for the preview.
 *
 * `applyMessage` updates the model in place and bumps `revision`; the view redraws when it changes.
 */
import { type SequenceBatch } from '../../src/core/batch.js';
import { ESTIMATOR_NAMES, type EstimatorName, computeAdvantages } from '../../src/core/estimators/registry.js';
import { CONTROL, type Control } from '../../src/protocol/controls.js';
import { EVENT, type RolloutGroup, type TrainerEvent } from '../../src/protocol/events.js';
import { LIVE_RANGES } from '../../src/protocol/limits.js';
import { ESTIMATOR_CHOICES, type FixedEstimatorOptions, type LiveConfig, type LiveConfigKey, estimatorOptionsOf } from '../../src/protocol/liveConfig.js';

import {
  CONTROL_KIND_LABELS,
  type InterventionLine,
  type PromptHistoryPoint,
  ROLLOUTS,
  ROLLOUTS_CONTROL_KINDS,
  type RolloutsControlKind,
  describeControl,
  replayConfig,
  type RolloutsControlMessage,
  type RolloutsHostToWebviewMessage,
} from '../../src/protocol/rolloutsWebview.js';
import { type NumberRange, describeRange } from '../../src/protocol/schema.js';
import { type DashboardRunState, EXTREME_ADVANTAGE, lowerBound, nearestKeptStep } from '../../src/protocol/webview.js';

/** The options src/core's computeAdvantages takes for an estimator (the trainer's `estimatorOptionsOf`). */
export { estimatorOptionsOf as estimatorOptions } from '../../src/protocol/liveConfig.js';

/** A control the panel sends. */
export type PanelControl = RolloutsControlMessage['control'];

export type RunState = DashboardRunState | 'waiting';
export const MAX_NOTICES = 6;

export interface RunInfo {
  runName: string;
  runDir: string;
  state: RunState;
  message?: string;
  imageBase: string;
  totalSteps?: number;
  /** A trainer is running on this run: controls can be sent. */
  live: boolean;
}

export interface ShownStep {
  step: number;
  /** The estimator of the step's update (live: from the event; a file: from the configuration timeline). */
  estimator?: EstimatorName;
  groups: RolloutGroup[];
  source: 'file' | 'live';
  /** Unreadable lines of the file. */
  skipped: number;
  /** No rollouts were found for this step. */
  missing?: boolean;
}

export type SortKey = 'order' | 'visualEntropy' | 'confidence' | 'perceptualBucket' | 'reasoningBin' | 'accuracy' | 'absAdvantage' | 'groupStd';
export const SORT_KEYS: readonly SortKey[] = ['order', 'visualEntropy', 'confidence', 'perceptualBucket', 'reasoningBin', 'accuracy', 'absAdvantage', 'groupStd'];
export const SORT_LABELS: Record<SortKey, string> = {
  order: 'Batch order',
  visualEntropy: 'Visual entropy',
  confidence: 'Confidence',
  perceptualBucket: 'Perceptual bucket',
  reasoningBin: 'Reasoning bin',
  accuracy: 'Accuracy',
  absAdvantage: '|Advantage|',
  groupStd: 'Group std',
};

export type AccuracyFilter = 'all' | 'all-wrong' | 'mixed' | 'all-right';
export type BucketFilter = 'all' | 'low' | 'mid' | 'high';

export interface Filters {
  /** Case-insensitive text searched in questions, ground truths, prompt ids and responses. */
  search: string;
  bucket: BucketFilter;
  accuracy: AccuracyFilter;
  /** Only groups with a rollout whose |advantage| (the trainer's) exceeds EXTREME_ADVANTAGE, as the Dashboard counts. */
  extremesOnly: boolean;
  /** Only groups the user relabelled, reweighted or excluded. */
  intervenedOnly: boolean;
  sort: SortKey;
  descending: boolean;
}

export const DEFAULT_FILTERS: Filters = {
  search: '',
  bucket: 'all',
  accuracy: 'all',
  extremesOnly: false,
  intervenedOnly: false,
  sort: 'order',
  descending: false,
};

/** `sending`: posted to the host; `sent`: the host forwarded it; `refused`: the host did not; `rejected`: the trainer did not. */
export type PendingStatus = 'sending' | 'sent' | 'refused' | 'rejected';

export interface PendingControl {
  control: PanelControl;
  status: PendingStatus;
  /** The step from which it holds, once the trainer acknowledged it. */
  appliedStep?: number;
  error?: string;
}

/** The coefficient editor's fields, as typed (text), keyed by what they edit. */
export const DRAFT_FIELDS = ['estimator', 'a_ori', 'a_perc', 'a_reas', 'reasoningBins', 'minPromptsPerBin', 'eps', 'poolZeroVariance', 'lr', 'klBeta', 'clipLow', 'clipHigh', 'temperature'] as const;
export type DraftField = (typeof DRAFT_FIELDS)[number];
export type ConfigDraft = Partial<Record<DraftField, string>>;

export interface Notice {
  level: 'error' | 'warning' | 'info';
  text: string;
}

export interface RolloutsModel {
  run: RunInfo;
  /** Steps that have rollouts (on disk or live), ascending. */
  steps: number[];
  /** The newest step known. */
  latestStep?: number;
  /** Show each new step as it arrives. */
  followLive: boolean;
  /** The step asked for (its groups may still be on the way). */
  wantedStep?: number;
  shown?: ShownStep;
  /** The latest live step, its chunks joined. */
  live?: { step: number; estimator: EstimatorName; groups: RolloutGroup[] };
  baseConfig?: LiveConfig;
  fixedOptions: FixedEstimatorOptions;
  interventions: InterventionLine[];
  /** Controls sent from this webview that are not in the interventions log yet (or failed). */
  pending: PendingControl[];
  filters: Filters;
  draft: ConfigDraft;
  /** Show the preview (edited coefficients) beside the trainer's advantages. */
  previewOn: boolean;
  selectedPromptId?: string;
  history?: { promptId: string; points: PromptHistoryPoint[] };
  notices: Notice[];
  revision: number;
}

/** What the webview saves with `setState` (and restores after being hidden or reloaded). */
export interface SavedState {
  followLive: boolean;
  lastStep?: number;
  filters: Filters;
  draft: ConfigDraft;
  pending: PendingControl[];
  selectedPromptId?: string;
}

export function createModel(saved?: unknown): RolloutsModel {
  const restored = restoreSavedState(saved);
  return {
    run: { runName: '', runDir: '', state: 'waiting', imageBase: '', live: false },
    steps: [],
    followLive: restored.followLive,
    ...(restored.followLive || restored.lastStep === undefined ? {} : { wantedStep: restored.lastStep }),
    fixedOptions: {},
    interventions: [],
    pending: restored.pending,
    filters: restored.filters,
    draft: restored.draft,
    previewOn: false,
    ...(restored.selectedPromptId ? { selectedPromptId: restored.selectedPromptId } : {}),
    notices: [],
    revision: 0,
  };
}

export function savedState(model: RolloutsModel): SavedState {
  return {
    followLive: model.followLive,
    ...(model.shown ? { lastStep: model.shown.step } : {}),
    filters: model.filters,
    draft: model.draft,
    pending: model.pending,
    ...(model.selectedPromptId ? { selectedPromptId: model.selectedPromptId } : {}),
  };
}

/** Reads back a saved state, keeping only well-formed parts (it was written by an older version, maybe). */
export function restoreSavedState(raw: unknown): SavedState {
  const saved = (raw && typeof raw === 'object' ? raw : {}) as Partial<SavedState>;
  const filters = { ...DEFAULT_FILTERS };
  const f = (saved.filters && typeof saved.filters === 'object' ? saved.filters : {}) as Partial<Filters>;
  if (typeof f.search === 'string') filters.search = f.search.slice(0, 500);
  if (f.bucket && ['all', 'low', 'mid', 'high'].includes(f.bucket)) filters.bucket = f.bucket;
  if (f.accuracy && ['all', 'all-wrong', 'mixed', 'all-right'].includes(f.accuracy)) filters.accuracy = f.accuracy;
  if (typeof f.extremesOnly === 'boolean') filters.extremesOnly = f.extremesOnly;
  if (typeof f.intervenedOnly === 'boolean') filters.intervenedOnly = f.intervenedOnly;
  if (f.sort && SORT_KEYS.includes(f.sort)) filters.sort = f.sort;
  if (typeof f.descending === 'boolean') filters.descending = f.descending;
  const draft: ConfigDraft = {};
  if (saved.draft && typeof saved.draft === 'object') {
    for (const field of DRAFT_FIELDS) {
      const value = (saved.draft as Record<string, unknown>)[field];
      if (typeof value === 'string') draft[field] = value.slice(0, 100);
    }
  }
  const pending = Array.isArray(saved.pending)
    ? saved.pending.filter((p): p is PendingControl => !!p && typeof p === 'object' && !!p.control && typeof p.control.controlId === 'string').slice(-200)
    : [];
  return {
    followLive: typeof saved.followLive === 'boolean' ? saved.followLive : true,
    ...(typeof saved.lastStep === 'number' && Number.isInteger(saved.lastStep) && saved.lastStep >= 0 ? { lastStep: saved.lastStep } : {}),
    filters,
    draft,
    pending,
    ...(typeof saved.selectedPromptId === 'string' ? { selectedPromptId: saved.selectedPromptId } : {}),
  };
}

export function addNotice(model: RolloutsModel, text: string, level: Notice['level'] = 'error'): void {
  model.notices.push({ level, text });
  if (model.notices.length > MAX_NOTICES) model.notices.splice(0, model.notices.length - MAX_NOTICES);
  model.revision++;
}

function removeStep(steps: number[], step: number): void {
  const index = steps.indexOf(step);
  if (index >= 0) steps.splice(index, 1);
}

function insertStep(steps: number[], step: number): void {
  if (steps.length === 0 || steps[steps.length - 1] < step) {
    steps.push(step);
    return;
  }
  const low = lowerBound(steps, step);
  if (steps[low] !== step) steps.splice(low, 0, step);
}

/** Folds messages, in order, into `model` (a new one by default). */
export function reduce(messages: Iterable<RolloutsHostToWebviewMessage>, model: RolloutsModel = createModel()): RolloutsModel {
  for (const message of messages) applyMessage(model, message);
  return model;
}

/** Applies one checked host message, in place; returns the model. */
export function applyMessage(model: RolloutsModel, message: RolloutsHostToWebviewMessage): RolloutsModel {
  switch (message.type) {
    case ROLLOUTS.run: {
      // The first run message after a reload is the same run the saved state was about.
      const sameRun = model.run.runDir === message.runDir || model.run.state === 'waiting';
      model.run = {
        runName: message.runName,
        runDir: message.runDir,
        state: message.state,
        ...(message.message ? { message: message.message } : {}),
        imageBase: message.imageBase,
        ...(message.totalSteps !== undefined ? { totalSteps: message.totalSteps } : {}),
        live: message.live,
      };
      model.steps = [...message.steps];
      model.latestStep = message.steps.length > 0 ? message.steps[message.steps.length - 1] : undefined;
      model.baseConfig = message.baseConfig;
      model.fixedOptions = message.fixedOptions ?? {};
      model.shown = undefined;
      model.history = undefined;
      if (!sameRun) {
        model.live = undefined;
        model.pending = [];
        model.wantedStep = undefined;
        model.selectedPromptId = undefined;
      } else if (model.live && model.live.step >= (model.latestStep ?? -1)) {
        insertStep(model.steps, model.live.step);
        model.latestStep = model.live.step;
      }
      setInterventions(model, message.interventions);
      break;
    }
    case ROLLOUTS.state:
      model.run.runName = message.runName;
      model.run.runDir = message.runDir;
      model.run.state = message.state;
      model.run.message = message.message;
      model.run.live = message.live;
      break;
    case ROLLOUTS.step:
      if (!message.missing) insertStep(model.steps, message.step);
      // A step seen live whose groups were not kept on disk (the trainer keeps every rolloutsEvery-th step, the
      // last one and the steps intervened on) leaves the list, so stepping back lands on kept steps.
      else if (message.step !== model.live?.step) removeStep(model.steps, message.step);
      if (model.latestStep === undefined || message.step > model.latestStep) model.latestStep = message.step;
      // A step asked for elsewhere (a click on a Dashboard chart) is shown and stays: following live stops.
      if (message.reveal) {
        model.followLive = false;
        model.wantedStep = message.step;
      }
      // Show it if it is the step asked for, or nothing was asked and we follow the newest.
      if (message.step === model.wantedStep || (model.wantedStep === undefined && (model.followLive || !model.shown))) {
        const estimator = configAt(model, message.step)?.estimator;
        model.shown = { step: message.step, ...(estimator ? { estimator } : {}), groups: message.groups, source: 'file', skipped: message.skipped, ...(message.missing ? { missing: true } : {}) };
        if (message.step === model.wantedStep) model.wantedStep = undefined;
      }
      break;
    case ROLLOUTS.live: {
      if (model.live?.step === message.step) model.live.groups.push(...message.groups);
      else model.live = { step: message.step, estimator: message.estimator, groups: [...message.groups] };
      insertStep(model.steps, message.step);
      if (model.latestStep === undefined || message.step >= model.latestStep) model.latestStep = message.step;
      const live = model.live;
      if ((model.followLive && model.wantedStep === undefined) || model.shown?.step === message.step) {
        model.shown = { step: live.step, estimator: live.estimator, groups: live.groups, source: 'live', skipped: 0 };
      }
      break;
    }
    case ROLLOUTS.event:
      applyEvent(model, message.event);
      break;
    case ROLLOUTS.interventions:
      setInterventions(model, message.interventions);
      break;
    case ROLLOUTS.promptHistory:
      if (message.promptId === model.selectedPromptId) model.history = { promptId: message.promptId, points: message.points };
      break;
    case ROLLOUTS.controlResult: {
      const pending = model.pending.find((p) => p.control.controlId === message.controlId);
      if (pending) {
        if (message.error) {
          pending.status = 'refused';
          pending.error = message.error;
        } else if (pending.status === 'sending') {
          pending.status = 'sent';
        }
      }
      break;
    }
  }
  model.revision++;
  return model;
}

function setInterventions(model: RolloutsModel, lines: InterventionLine[]): void {
  model.interventions = lines;
  const logged = new Set(lines.map((line) => line.controlId));
  // Applied controls are in the log now; failed ones stay listed until dismissed.
  model.pending = model.pending.filter((p) => !logged.has(p.control.controlId));
}

export function applyEvent(model: RolloutsModel, event: TrainerEvent): void {
  switch (event.type) {
    case EVENT.applied: {
      const pending = model.pending.find((p) => p.control.controlId === event.controlId);
      if (pending) {
        pending.appliedStep = event.step;
        pending.status = 'sent';
      }
      break;
    }
    case EVENT.error: {
      const pending = event.controlId ? model.pending.find((p) => p.control.controlId === event.controlId) : undefined;
      if (pending) {
        pending.status = 'rejected';
        pending.error = event.message;
      } else {
        addNotice(model, `Trainer ${event.fatal ? 'error' : 'warning'}${event.where ? ` (${event.where})` : ''}: ${event.message}`, event.fatal ? 'error' : 'warning');
      }
      break;
    }
    case EVENT.step:
      break;
    case EVENT.paused:
      model.run.state = 'paused';
      break;
    case EVENT.resumed:
      model.run.state = 'running';
      break;
    case EVENT.done:
      model.run.state = event.reason === 'completed' ? 'completed' : 'stopped';
      model.run.live = false;
      break;
    default:
      break;
  }
}

// ---- navigation ----

export type NavigationTarget = 'latest' | 'previous' | 'next' | 'first' | number;

/**
 * Moves the view: returns the step whose groups must be asked of the host, or undefined when nothing
 * needs asking (already shown, the live step, or no such step). Leaving the latest step stops following.
 */
export function navigate(model: RolloutsModel, target: NavigationTarget): number | undefined {
  const { steps } = model;
  if (steps.length === 0) return undefined;
  const current = model.wantedStep ?? model.shown?.step ?? steps[steps.length - 1];
  let step: number;
  if (target === 'latest') step = steps[steps.length - 1];
  else if (target === 'first') step = steps[0];
  else if (target === 'previous') step = [...steps].reverse().find((s) => s < current) ?? steps[0];
  else if (target === 'next') step = steps.find((s) => s > current) ?? steps[steps.length - 1];
  else step = nearestKeptStep(steps, target) ?? target;
  model.followLive = target === 'latest' || (model.followLive && step === steps[steps.length - 1]);
  model.revision++;
  if (model.live?.step === step) {
    model.wantedStep = undefined;
    model.shown = { step, estimator: model.live.estimator, groups: model.live.groups, source: 'live', skipped: 0 };
    return undefined;
  }
  if (model.shown?.step === step && model.wantedStep === undefined) return undefined;
  model.wantedStep = step;
  return step;
}

export function setFollowLive(model: RolloutsModel, follow: boolean): number | undefined {
  model.followLive = follow;
  model.revision++;
  return follow ? navigate(model, 'latest') : undefined;
}

// ---- groups: summaries, filters, sort ----

export interface GroupSummary {
  total: number;
  /** Rollouts whose accuracy is at least 0.5. */
  correct: number;
  meanAccuracy: number;
  meanReward: number;
  /** `7:1` (all right but one), `1:7` (all wrong but one) or `zero variance` (every reward equal); G >= 3. */
  extreme?: string;
  maxAbsAdvantage: number;
  relabeled: boolean;
}

export function summarizeGroup(group: RolloutGroup): GroupSummary {
  const total = group.rollouts.length;
  let correct = 0;
  let accuracy = 0;
  let reward = 0;
  let maxAbs = 0;
  let relabeled = false;
  const first = group.rollouts[0]?.reward;
  let allSame = true;
  for (const rollout of group.rollouts) {
    if (rollout.accuracy >= 0.5) correct++;
    accuracy += rollout.accuracy;
    reward += rollout.reward;
    maxAbs = Math.max(maxAbs, Math.abs(rollout.advantage));
    if (rollout.relabeled) relabeled = true;
    if (rollout.reward !== first) allSame = false;
  }
  let extreme: string | undefined;
  if (total >= 2 && allSame) extreme = 'zero variance';
  else if (total >= 3 && correct === total - 1) extreme = `${total - 1}:1`;
  else if (total >= 3 && correct === 1) extreme = `1:${total - 1}`;
  return {
    total,
    correct,
    meanAccuracy: total > 0 ? accuracy / total : 0,
    meanReward: total > 0 ? reward / total : 0,
    ...(extreme ? { extreme } : {}),
    maxAbsAdvantage: maxAbs,
    relabeled,
  };
}

/** Prompts the user acted on (applied and not undone, or pending): relabelled, reweighted or excluded. */
export function intervenedPrompts(model: RolloutsModel): Map<string, Set<'relabel' | 'weight' | 'exclude'>> {
  const out = new Map<string, Set<'relabel' | 'weight' | 'exclude'>>();
  const add = (promptId: string, what: 'relabel' | 'weight' | 'exclude') => {
    let set = out.get(promptId);
    if (!set) out.set(promptId, (set = new Set()));
    set.add(what);
  };
  const undone = new Set(model.interventions.flatMap((line) => (line.control.type === CONTROL.undo ? [line.control.targetControlId] : [])));
  const controls = [
    ...model.interventions.filter((line) => !undone.has(line.controlId)).map((line) => line.control),
    ...model.pending.filter((p) => p.status === 'sending' || p.status === 'sent').map((p) => p.control as Control),
  ];
  for (const control of controls) {
    if (control.type === CONTROL.relabel) add(control.promptId, 'relabel');
    else if (control.type === CONTROL.setGroupWeight) add(control.promptId, 'weight');
    else if (control.type === CONTROL.excludePrompt) add(control.promptId, 'exclude');
  }
  return out;
}

function bucketRank(bucket: RolloutGroup['perceptualBucket']): number {
  return bucket === 'low' ? 0 : bucket === 'mid' ? 1 : 2;
}

/** The positions in `groups` to show, filtered and sorted by `filters` (stable). */
export function visibleGroups(groups: readonly RolloutGroup[], filters: Filters, intervened: ReadonlyMap<string, unknown> = new Map()): number[] {
  const needle = filters.search.trim().toLowerCase();
  const summaries = groups.map(summarizeGroup);
  const rows: number[] = [];
  groups.forEach((group, i) => {
    const summary = summaries[i];
    if (filters.bucket !== 'all' && group.perceptualBucket !== filters.bucket) return;
    if (filters.accuracy === 'all-wrong' && summary.correct !== 0) return;
    if (filters.accuracy === 'all-right' && summary.correct !== summary.total) return;
    if (filters.accuracy === 'mixed' && (summary.correct === 0 || summary.correct === summary.total)) return;
    if (filters.extremesOnly && !(summary.maxAbsAdvantage > EXTREME_ADVANTAGE)) return;
    if (filters.intervenedOnly && !(summary.relabeled || group.weight !== 1 || intervened.has(group.promptId))) return;
    if (needle && !matchesSearch(group, needle)) return;
    rows.push(i);
  });
  if (filters.sort !== 'order') {
    const key = (i: number): number => {
      const group = groups[i];
      switch (filters.sort) {
        case 'visualEntropy':
          return group.visualEntropy;
        case 'confidence':
          return group.confidence;
        case 'perceptualBucket':
          return bucketRank(group.perceptualBucket);
        case 'reasoningBin':
          return group.reasoningBin;
        case 'accuracy':
          return summaries[i].meanAccuracy;
        case 'absAdvantage':
          return summaries[i].maxAbsAdvantage;
        case 'groupStd':
          return group.groupStd;
        default:
          return i;
      }
    };
    const sign = filters.descending ? -1 : 1;
    rows.sort((a, b) => sign * (key(a) - key(b)) || a - b);
  } else if (filters.descending) {
    rows.reverse();
  }
  return rows;
}

/** Whether a lower-case needle occurs in the group's question, ground truth, id or any response. */
export function matchesSearch(group: RolloutGroup, needle: string): boolean {
  if (group.question.toLowerCase().includes(needle)) return true;
  if (group.groundTruth.toLowerCase().includes(needle)) return true;
  if (group.promptId.toLowerCase().includes(needle)) return true;
  return group.rollouts.some((rollout) => rollout.response.toLowerCase().includes(needle));
}

// ---- configuration: timeline, draft, preview ----

export interface ConfigTimeline {
  config: LiveConfig;
  /** The step from which each setting holds (absent: since the run started). */
  since: Partial<Record<LiveConfigKey, number>>;
}

/**
 * The live configuration after the interventions that hold at `step` (all of them when undefined):
 * config.json's, then each `setConfig` in log order, an `undo` of one restoring what it replaced
 * (as the trainer's control state does).
 */
export function configTimeline(base: LiveConfig, interventions: readonly InterventionLine[], step?: number): ConfigTimeline {
  const since: Partial<Record<LiveConfigKey, number>> = {};
  const { steps, config } = replayConfig(base, step === undefined ? interventions : interventions.filter((line) => line.step <= step));
  for (const { line, changed } of steps) for (const key of changed) since[key] = line.step;
  return { config, since };
}

/** The configuration in force at `step` (undefined before the run said what it started with). */
export function configAt(model: RolloutsModel, step?: number): LiveConfig | undefined {
  return model.baseConfig ? configTimeline(model.baseConfig, model.interventions, step).config : undefined;
}

export interface DraftCheck {
  /** The settings the draft changes (valid fields only). */
  changes: Partial<LiveConfig>;
  /** Why a field is not valid, by field. */
  errors: Partial<Record<DraftField, string>>;
  /** The configuration with the valid changes. */
  config: LiveConfig;
  /** a_ori + a_perc + a_reas of `config`. */
  weightSum: number;
}

const NUMBER_FIELDS: Partial<Record<DraftField, { key: LiveConfigKey; range: NumberRange }>> = {
  reasoningBins: { key: 'reasoningBins', range: LIVE_RANGES.reasoningBins },
  minPromptsPerBin: { key: 'minPromptsPerBin', range: LIVE_RANGES.minPromptsPerBin },
  eps: { key: 'eps', range: LIVE_RANGES.eps },
  lr: { key: 'lr', range: LIVE_RANGES.lr },
  klBeta: { key: 'klBeta', range: LIVE_RANGES.klBeta },
  clipLow: { key: 'clipLow', range: LIVE_RANGES.clipLow },
  clipHigh: { key: 'clipHigh', range: LIVE_RANGES.clipHigh },
  temperature: { key: 'temperature', range: LIVE_RANGES.temperature },
};
const WEIGHT_FIELDS = ['a_ori', 'a_perc', 'a_reas'] as const;

/** The range of a numeric field (for the editor's min/max/step and its hint). */
export function fieldRange(field: DraftField): NumberRange | undefined {
  if ((WEIGHT_FIELDS as readonly string[]).includes(field)) return LIVE_RANGES.durianWeight;
  return NUMBER_FIELDS[field]?.range;
}

/** A number typed in a field, or why not: within the range, whole when it must be. */
export function checkNumber(text: string, range: NumberRange): { value: number } | { error: string } {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value)) return { error: `not a number: ${JSON.stringify(text.slice(0, 20))}` };
  if (range.integer && !Number.isInteger(value)) return { error: `must be a whole number ${describeRange(range)}` };
  const tooLow = range.min !== undefined && (range.exclusiveMin ? value <= range.min : value < range.min);
  if (tooLow || (range.max !== undefined && value > range.max)) return { error: `must be ${describeRange(range)}` };
  return { value };
}

/** Validates the editor's draft against `current`: an empty or unchanged field changes nothing. */
export function checkDraft(draft: ConfigDraft, current: LiveConfig): DraftCheck {
  const changes: Partial<LiveConfig> = {};
  const errors: Partial<Record<DraftField, string>> = {};
  const estimator = draft.estimator;
  if (estimator !== undefined && estimator !== '') {
    if ((ESTIMATOR_CHOICES as readonly string[]).includes(estimator)) {
      if (estimator !== current.estimator) changes.estimator = estimator as EstimatorName;
    } else {
      errors.estimator = `unknown estimator (known: ${ESTIMATOR_CHOICES.join(', ')})`;
    }
  }
  const weights = [...current.durianWeights] as [number, number, number];
  let weightsChanged = false;
  WEIGHT_FIELDS.forEach((field, i) => {
    const text = draft[field];
    if (text === undefined || text.trim() === '') return;
    const checked = checkNumber(text, LIVE_RANGES.durianWeight);
    if ('error' in checked) errors[field] = checked.error;
    else if (checked.value !== weights[i]) {
      weights[i] = checked.value;
      weightsChanged = true;
    }
  });
  if (weightsChanged && !WEIGHT_FIELDS.some((field) => errors[field])) changes.durianWeights = weights;
  for (const [field, spec] of Object.entries(NUMBER_FIELDS) as [DraftField, { key: LiveConfigKey; range: NumberRange }][]) {
    const text = draft[field];
    if (text === undefined || text.trim() === '') continue;
    const checked = checkNumber(text, spec.range);
    if ('error' in checked) errors[field] = checked.error;
    else if (checked.value !== current[spec.key]) (changes as Record<string, unknown>)[spec.key] = checked.value;
  }
  const pool = draft.poolZeroVariance;
  if (pool === 'true' || pool === 'false') {
    if ((pool === 'true') !== current.poolZeroVariance) changes.poolZeroVariance = pool === 'true';
  } else if (pool !== undefined && pool !== '') {
    errors.poolZeroVariance = 'must be true or false';
  }
  const config = { ...current, ...changes } as LiveConfig;
  return { changes, errors, config, weightSum: config.durianWeights[0] + config.durianWeights[1] + config.durianWeights[2] };
}

/** The batch src/core sees for a step's groups (rewards already relabelled; each group's weight). */
export function batchOfGroups(groups: readonly RolloutGroup[]): SequenceBatch {
  const index: string[] = [];
  const scores: number[] = [];
  const lengths: number[] = [];
  const visualEntropy: number[] = [];
  const logprob: number[] = [];
  const accuracy: number[] = [];
  const groupWeights: Record<string, number> = {};
  for (const group of groups) {
    groupWeights[group.promptId] = group.weight;
    for (const rollout of group.rollouts) {
      index.push(group.promptId);
      scores.push(rollout.reward);
      lengths.push(Math.max(1, rollout.tokens?.length ?? 1));
      visualEntropy.push(group.visualEntropy);
      logprob.push(rollout.meanLogprob);
      accuracy.push(rollout.accuracy);
    }
  }
  return { index, scores, lengths, visualEntropy, logprob, accuracy, groupWeights };
}

/** Per group, per rollout: advantages (weight applied) and, for durian, the three unweighted terms. */
export interface StepAdvantages {
  estimator: EstimatorName;
  advantages: number[][];
  components?: { grpo: number[][]; perceptual: number[][]; reasoning: number[][] };
}

function perGroup(groups: readonly RolloutGroup[], values: Float64Array): number[][] {
  const out: number[][] = [];
  let s = 0;
  for (const group of groups) {
    const row: number[] = [];
    for (let i = 0; i < group.rollouts.length; i++) row.push(values[s++]);
    out.push(row);
  }
  return out;
}

/** Recomputes a step's advantages under `estimator` with `config` (src/core, as the trainer does). */
export function computeStepAdvantages(groups: readonly RolloutGroup[], estimator: EstimatorName, config: LiveConfig, fixed: FixedEstimatorOptions): StepAdvantages | { error: string } {
  if (groups.length === 0) return { estimator, advantages: [] };
  try {
    const result = computeAdvantages(estimator, batchOfGroups(groups), estimatorOptionsOf(estimator, config, fixed));
    const { grpo, perceptual, reasoning } = result.perSequence;
    return {
      estimator,
      advantages: perGroup(groups, result.advantages),
      ...(grpo && perceptual && reasoning ? { components: { grpo: perGroup(groups, grpo), perceptual: perGroup(groups, perceptual), reasoning: perGroup(groups, reasoning) } } : {}),
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Every estimator's advantages for a step (the detail view's chart), with `config`. */
export function allEstimatorAdvantages(groups: readonly RolloutGroup[], config: LiveConfig, fixed: FixedEstimatorOptions): Partial<Record<EstimatorName, number[][]>> {
  const out: Partial<Record<EstimatorName, number[][]>> = {};
  for (const name of ESTIMATOR_NAMES) {
    const result = computeStepAdvantages(groups, name, config, fixed);
    if (!('error' in result)) out[name] = result.advantages;
  }
  return out;
}

// ---- interventions ----

let controlCounter = 0;
/** A fresh control id (letters, digits and `-` only, as CONTROL_ID_PATTERN wants). */
export function newControlId(kind: string, now: number = Date.now()): string {
  controlCounter = (controlCounter + 1) % 1_000_000;
  return `rg-${kind}-${now.toString(36)}-${controlCounter}`;
}

/** Records a control about to be posted; returns the message to post. */
export function sendControl(model: RolloutsModel, control: PanelControl): RolloutsControlMessage {
  model.pending.push({ control, status: 'sending' });
  model.revision++;
  return { type: ROLLOUTS.control, control };
}

export function dismissFailed(model: RolloutsModel): void {
  model.pending = model.pending.filter((p) => p.status !== 'refused' && p.status !== 'rejected');
  model.revision++;
}

export type InterventionStatus = 'pending' | 'applied' | 'undone' | 'failed';

export interface InterventionRow {
  controlId: string;
  kind: string;
  description: string;
  status: InterventionStatus;
  /** `pending`, `applied at step 12`, `undone at step 15`, `rejected: ...`. */
  statusText: string;
  /** The step from which it holds. */
  step?: number;
  canUndo: boolean;
}

/** A reward override the user made on one rollout of a step (applied and not undone, or on its way). */
export interface RewardOverride {
  reward: number;
  /** The step from which it holds, once the trainer acknowledged it. */
  fromStep?: number;
}

/** The key of a rollout in `rewardOverridesAt`'s map. */
export function rolloutKey(promptId: string, rollout: number): string {
  return `${promptId}\u0000${rollout}`;
}

/** The reward overrides made on the rollouts shown at `step`, by `rolloutKey`; the latest one wins. */
export function rewardOverridesAt(model: RolloutsModel, step: number): Map<string, RewardOverride> {
  const out = new Map<string, RewardOverride>();
  const undone = new Set(model.interventions.flatMap((line) => (line.control.type === CONTROL.undo ? [line.control.targetControlId] : [])));
  for (const line of model.interventions) {
    const control = line.control;
    if (control.type === CONTROL.relabel && control.step === step && !undone.has(control.controlId)) {
      out.set(rolloutKey(control.promptId, control.rollout), { reward: control.reward, fromStep: line.step });
    }
  }
  for (const p of model.pending) {
    const control = p.control;
    if (control.type === CONTROL.relabel && control.step === step && (p.status === 'sending' || p.status === 'sent')) {
      out.set(rolloutKey(control.promptId, control.rollout), { reward: control.reward, ...(p.appliedStep !== undefined ? { fromStep: p.appliedStep } : {}) });
    }
  }
  return out;
}

/** The interventions section: the log's lines and this webview's pending or failed controls, newest first. */
export function interventionRows(model: RolloutsModel): InterventionRow[] {
  const byId = new Map<string, Control>();
  for (const line of model.interventions) byId.set(line.controlId, line.control);
  for (const p of model.pending) byId.set(p.control.controlId, p.control as Control);
  const find = (controlId: string) => byId.get(controlId);
  const undoneAt = new Map<string, number>();
  const pendingUndo = new Set<string>();
  for (const line of model.interventions) if (line.control.type === CONTROL.undo) undoneAt.set(line.control.targetControlId, line.step);
  for (const p of model.pending) if (p.control.type === CONTROL.undo && (p.status === 'sending' || p.status === 'sent')) pendingUndo.add(p.control.targetControlId);
  // Pause, resume and stop are logged too; they belong to the Dashboard.
  const panelKinds: readonly string[] = ROLLOUTS_CONTROL_KINDS;
  const rows: InterventionRow[] = model.interventions.filter((line) => panelKinds.includes(line.kind)).map((line) => {
    const undone = undoneAt.get(line.controlId);
    return {
      controlId: line.controlId,
      kind: CONTROL_KIND_LABELS[line.kind],
      description: describeControl(line.control, find),
      status: undone !== undefined ? 'undone' : 'applied',
      statusText: undone !== undefined ? `applied at step ${line.step}, undone at step ${undone}` : `applied at step ${line.step}${pendingUndo.has(line.controlId) ? ' (undo pending)' : ''}`,
      step: line.step,
      canUndo: model.run.live && undone === undefined && line.kind !== 'undo' && !pendingUndo.has(line.controlId),
    };
  });
  for (const p of model.pending) {
    const failed = p.status === 'refused' || p.status === 'rejected';
    rows.push({
      controlId: p.control.controlId,
      kind: CONTROL_KIND_LABELS[p.control.type.slice('control/'.length) as RolloutsControlKind],
      description: describeControl(p.control as Control, find),
      status: failed ? 'failed' : p.appliedStep !== undefined ? 'applied' : 'pending',
      statusText: failed
        ? `${p.status === 'refused' ? 'not sent' : 'rejected by the trainer'}: ${p.error ?? ''}`
        : p.appliedStep !== undefined
          ? `applied at step ${p.appliedStep}`
          : 'pending: applies at the next step boundary',
      ...(p.appliedStep !== undefined ? { step: p.appliedStep } : {}),
      canUndo: false,
    });
  }
  return rows.reverse();
}

/** The estimator names offered in the editor. */
export const ESTIMATOR_OPTIONS: readonly EstimatorName[] = ESTIMATOR_CHOICES;
