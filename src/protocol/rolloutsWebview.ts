/**
 * Host <-> webview messages of the Rollout Groups panel, in GitLens's style (as ./webview.ts for the
 * Dashboard): every message is a named constant (`ROLLOUTS.step === 'rollouts/step'`), commands flow
 * webview -> host, notifications host -> webview, and both sides check what arrives with
 * `parseRolloutsWebviewToHost` / `parseRolloutsHostToWebview` (they never throw).
 *
 * The handshake: the webview posts `webview/ready`; the host answers with one `rollouts/run` (who the run
 * is, the steps that have a rollouts file, the live configuration from config.json and the interventions
 * log) and then the groups of the latest step in one `rollouts/step`. The webview asks for any other step
 * with `rollouts/requestStep` (the host reads `rollouts/step-N.jsonl`: history is never kept in memory)
 * and for a prompt's history across steps with `rollouts/requestPromptHistory`. Live `trainer/groups`
 * events arrive as `rollouts/live` (several per step: the webview joins those of the same step), other
 * trainer events that matter to the panel (applied, error, step, done, paused, resumed) as
 * `rollouts/event`. Interventions go out as `rollouts/control` carrying a full `Control` whose id the
 * webview chose; the host answers `rollouts/controlResult` (sent, or refused with the reason) and the
 * trainer's `trainer/applied` / `trainer/error` follow as events, then a fresh `rollouts/interventions`.
 *
 * Images are not in the messages: `rollouts/run` carries `imageBase`, the webview URI of the run
 * directory, and a group's `image` (a checked relative path) is appended to it.
 */
import type { EstimatorName } from '../core/estimators/registry.js';
import { CONTROL, type Control, type ControlKind } from './controls.js';
import { type InterventionLine, MAX_INTERVENTIONS, interventionLine } from './interventionLog.js';
import { EVENT, type RolloutGroup, type TrainerEvent, rolloutGroup } from './events.js';
import { MAX_CONTROL_CHARS, MAX_DEPTH, MAX_GROUPS, MAX_ID_CHARS, MAX_PATH_CHARS, MAX_TEXT_CHARS, STEP_RANGE } from './limits.js';
import { type FixedEstimatorOptions, type LiveConfig, type LiveConfigKey, ESTIMATOR_CHOICES, fixedEstimatorOptions, fixedEstimatorOptionsOf, liveConfig } from './liveConfig.js';
import { type ParseResult, parseControl, parseEvent, parseTypedMessage } from './parse.js';
import { type Check, FieldError, arrayOf, bool, childPath, finite, measureJson, object, oneOf, text } from './schema.js';
import { DASHBOARD_RUN_STATES, type DashboardRunState, type ReportedConfig, WEBVIEW, reportedConfig } from './webview.js';

/** The Rollout Groups panel's messages. */
export const ROLLOUTS = {
  /** Host -> webview: the run (identity, steps on disk, configuration, interventions log); replaces everything. */
  run: 'rollouts/run',
  /** Host -> webview: the run's state changed. */
  state: 'rollouts/state',
  /** Host -> webview: every group of one step, read from its rollouts file (the answer to `requestStep`). */
  step: 'rollouts/step',
  /** Host -> webview: one live `trainer/groups` event; those of the same step form one list, in order. */
  live: 'rollouts/live',
  /** Host -> webview: a relayed trainer event (applied, error, step, done, paused, resumed). */
  event: 'rollouts/event',
  /** Host -> webview: interventions.jsonl, read again after a control was applied. */
  interventions: 'rollouts/interventions',
  /** Host -> webview: one prompt across the steps on disk (the answer to `requestPromptHistory`). */
  promptHistory: 'rollouts/promptHistory',
  /** Host -> webview: a `rollouts/control` was sent to the trainer, or refused (`error`). */
  controlResult: 'rollouts/controlResult',
  /** Webview -> host: send the groups of this step. */
  requestStep: 'rollouts/requestStep',
  /** Webview -> host: send this prompt's history. */
  requestPromptHistory: 'rollouts/requestPromptHistory',
  /** Webview -> host: send this control to the trainer. */
  control: 'rollouts/control',
} as const;

/** Controls the panel may send (pause/resume/stop belong to the Dashboard and the commands). */
export const ROLLOUTS_CONTROL_KINDS = ['setConfig', 'setGroupWeight', 'relabel', 'excludePrompt', 'undo'] as const satisfies readonly ControlKind[];
export type RolloutsControlKind = (typeof ROLLOUTS_CONTROL_KINDS)[number];

/** Trainer events relayed in `rollouts/event`. */
export const ROLLOUTS_RELAYED_EVENTS = [EVENT.applied, EVENT.error, EVENT.step, EVENT.done, EVENT.paused, EVENT.resumed] as const;

/** Largest host -> webview message: a step of MAX_GROUPS prompts with long responses. */
export const MAX_ROLLOUTS_MESSAGE_CHARS = 256 * 1024 * 1024;
/** Most steps listed in `rollouts/run` and in a prompt history. */
export const MAX_ROLLOUT_STEPS = 1_000_000;
export type { InterventionLine } from './interventionLog.js';
export { replayConfig } from './interventionLog.js';

export interface RolloutsIdentity {
  runName: string;
  runDir: string;
  state: DashboardRunState;
  message?: string;
}

export interface RolloutsRunMessage extends RolloutsIdentity {
  type: typeof ROLLOUTS.run;
  /** `webview.asWebviewUri` of the run directory, or '' when there is none; images are `${imageBase}/${group.image}`. */
  imageBase: string;
  /** Steps with a rollouts file, ascending. */
  steps: number[];
  totalSteps?: number;
  /** The live configuration config.json started with (before any `setConfig`). */
  baseConfig?: LiveConfig;
  /**
   * The effective live configuration the trainer last reported (its `hello`, or an `applied`), with the step
   * from which it holds: what the panel shows as in force now. Absent when the host saw no report.
   */
  reportedConfig?: ReportedConfig;
  fixedOptions?: FixedEstimatorOptions;
  interventions: InterventionLine[];
  /** A training session is running on this run (controls can be sent). */
  live: boolean;
}

export interface RolloutsStateMessage extends RolloutsIdentity {
  type: typeof ROLLOUTS.state;
  live: boolean;
}

export interface RolloutsStepMessage {
  type: typeof ROLLOUTS.step;
  step: number;
  groups: RolloutGroup[];
  /** Lines of the file that could not be read (torn or invalid), skipped. */
  skipped: number;
  /** Set when the step has no rollouts file (nor live groups). */
  missing?: boolean;
  /** Show this step and stop following live (the user asked for it elsewhere, e.g. a click on a Dashboard chart). */
  reveal?: boolean;
}

export interface RolloutsLiveMessage {
  type: typeof ROLLOUTS.live;
  step: number;
  estimator: EstimatorName;
  groups: RolloutGroup[];
}

export interface RolloutsEventMessage {
  type: typeof ROLLOUTS.event;
  event: TrainerEvent;
}

export interface RolloutsInterventionsMessage {
  type: typeof ROLLOUTS.interventions;
  interventions: InterventionLine[];
}

/** One step of a prompt's history. */
export interface PromptHistoryPoint {
  step: number;
  /** Mean accuracy of its rollouts, in [0, 1]. */
  accuracy: number;
  /** Mean reward. */
  reward: number;
  /** Advantage of each rollout under the step's estimator (weight applied). */
  advantages: number[];
  /** Plain GRPO advantage of each rollout. */
  advantagesGrpo: number[];
  weight: number;
  excluded: boolean;
}

export interface RolloutsPromptHistoryMessage {
  type: typeof ROLLOUTS.promptHistory;
  promptId: string;
  points: PromptHistoryPoint[];
}

export interface RolloutsControlResultMessage {
  type: typeof ROLLOUTS.controlResult;
  controlId: string;
  /** Why the host did not send it (no session, invalid); absent when sent. */
  error?: string;
}

export type RolloutsHostToWebviewMessage =
  | RolloutsRunMessage
  | RolloutsStateMessage
  | RolloutsStepMessage
  | RolloutsLiveMessage
  | RolloutsEventMessage
  | RolloutsInterventionsMessage
  | RolloutsPromptHistoryMessage
  | RolloutsControlResultMessage;

export interface RolloutsReadyMessage {
  type: typeof WEBVIEW.ready;
  /** The step the webview showed before it was hidden or reloaded. */
  lastStep?: number;
}

export interface RolloutsRequestStepMessage {
  type: typeof ROLLOUTS.requestStep;
  step: number;
}

export interface RolloutsRequestPromptHistoryMessage {
  type: typeof ROLLOUTS.requestPromptHistory;
  promptId: string;
}

export interface RolloutsControlMessage {
  type: typeof ROLLOUTS.control;
  control: Extract<Control, { type: `control/${RolloutsControlKind}` }>;
}

export type RolloutsWebviewToHostMessage =
  | RolloutsReadyMessage
  | RolloutsRequestStepMessage
  | RolloutsRequestPromptHistoryMessage
  | RolloutsControlMessage;

// ---- schemas ----

const step = finite(STEP_RANGE);
const promptId = text({ max: MAX_ID_CHARS, min: 1 });
const anyFinite = finite();
const unit = finite({ min: 0, max: 1 });
const identity = {
  runName: text({ max: MAX_PATH_CHARS, min: 1 }),
  runDir: text({ max: MAX_PATH_CHARS }),
  state: oneOf(DASHBOARD_RUN_STATES),
};
const identityOptional = { message: text({ max: MAX_TEXT_CHARS }) };

/** Ascending, distinct whole steps. */
const stepList: Check<number[]> = (value, path) => {
  const steps = arrayOf(step, { max: MAX_ROLLOUT_STEPS })(value, path);
  for (let i = 1; i < steps.length; i++) {
    if (steps[i] <= steps[i - 1]) throw new FieldError(`${path}[${i}]`, `steps must be ascending and distinct, got ${steps[i]} after ${steps[i - 1]}`);
  }
  return steps;
};

/** A control, checked by `parseControl`, its errors prefixed with `path`. */
function controlOf(kinds: readonly ControlKind[]): Check<Control> {
  return (value, path) => {
    const parsed = parseControl(value);
    if (!parsed.ok) throw new FieldError(path, parsed.error);
    const kind = parsed.value.type.slice('control/'.length) as ControlKind;
    if (!kinds.includes(kind)) throw new FieldError(childPath(path, 'type'), `the Rollout Groups panel does not send ${parsed.value.type} (it sends ${kinds.join(', ')})`);
    return parsed.value;
  };
}


const relayedEvent: Check<TrainerEvent> = (value, path) => {
  const parsed = parseEvent(value);
  if (!parsed.ok) throw new FieldError(path, parsed.error);
  if (!(ROLLOUTS_RELAYED_EVENTS as readonly string[]).includes(parsed.value.type)) {
    throw new FieldError(childPath(path, 'type'), `${parsed.value.type} is not relayed to the Rollout Groups panel`);
  }
  return parsed.value;
};

const groups = arrayOf(rolloutGroup, { max: MAX_GROUPS });
const interventions = arrayOf(interventionLine, { max: MAX_INTERVENTIONS });
const numbers = arrayOf(anyFinite, { max: 64 });

const HOST_TO_WEBVIEW: Record<RolloutsHostToWebviewMessage['type'], Check<RolloutsHostToWebviewMessage>> = {
  [ROLLOUTS.run]: object(
    { type: oneOf([ROLLOUTS.run]), ...identity, imageBase: text({ max: MAX_PATH_CHARS * 2 }), steps: stepList, interventions, live: bool },
    { ...identityOptional, totalSteps: step, baseConfig: liveConfig, reportedConfig, fixedOptions: fixedEstimatorOptions },
  ) as Check<RolloutsRunMessage>,
  [ROLLOUTS.state]: object({ type: oneOf([ROLLOUTS.state]), ...identity, live: bool }, identityOptional) as Check<RolloutsStateMessage>,
  [ROLLOUTS.step]: object({ type: oneOf([ROLLOUTS.step]), step, groups, skipped: finite({ min: 0, integer: true }) }, { missing: bool, reveal: bool }) as Check<RolloutsStepMessage>,
  [ROLLOUTS.live]: object({ type: oneOf([ROLLOUTS.live]), step, estimator: oneOf(ESTIMATOR_CHOICES), groups }) as Check<RolloutsLiveMessage>,
  [ROLLOUTS.event]: object({ type: oneOf([ROLLOUTS.event]), event: relayedEvent }) as Check<RolloutsEventMessage>,
  [ROLLOUTS.interventions]: object({ type: oneOf([ROLLOUTS.interventions]), interventions }) as Check<RolloutsInterventionsMessage>,
  [ROLLOUTS.promptHistory]: object({
    type: oneOf([ROLLOUTS.promptHistory]),
    promptId,
    points: arrayOf(
      object({ step, accuracy: unit, reward: anyFinite, advantages: numbers, advantagesGrpo: numbers, weight: finite({ min: 0 }), excluded: bool }),
      { max: MAX_ROLLOUT_STEPS },
    ),
  }) as Check<RolloutsPromptHistoryMessage>,
  [ROLLOUTS.controlResult]: object({ type: oneOf([ROLLOUTS.controlResult]), controlId: text({ max: MAX_ID_CHARS, min: 1 }) }, { error: text({ max: MAX_TEXT_CHARS }) }) as Check<RolloutsControlResultMessage>,
};

const WEBVIEW_TO_HOST: Record<RolloutsWebviewToHostMessage['type'], Check<RolloutsWebviewToHostMessage>> = {
  [WEBVIEW.ready]: object({ type: oneOf([WEBVIEW.ready]) }, { lastStep: step }) as Check<RolloutsReadyMessage>,
  [ROLLOUTS.requestStep]: object({ type: oneOf([ROLLOUTS.requestStep]), step }) as Check<RolloutsRequestStepMessage>,
  [ROLLOUTS.requestPromptHistory]: object({ type: oneOf([ROLLOUTS.requestPromptHistory]), promptId }) as Check<RolloutsRequestPromptHistoryMessage>,
  [ROLLOUTS.control]: object({ type: oneOf([ROLLOUTS.control]), control: controlOf(ROLLOUTS_CONTROL_KINDS) }) as Check<RolloutsControlMessage>,
};

/** Checks a Rollout Groups webview -> host command (at most MAX_CONTROL_CHARS of JSON). Returns a fresh copy. */
export function parseRolloutsWebviewToHost(input: unknown): ParseResult<RolloutsWebviewToHostMessage> {
  return parseTypedMessage(input, WEBVIEW_TO_HOST, MAX_CONTROL_CHARS, 'from the Rollout Groups webview');
}

/** Checks a host -> Rollout Groups webview notification. Returns a fresh copy. */
export function parseRolloutsHostToWebview(input: unknown): ParseResult<RolloutsHostToWebviewMessage> {
  return parseTypedMessage(input, HOST_TO_WEBVIEW, MAX_ROLLOUTS_MESSAGE_CHARS, 'from the host to the Rollout Groups webview');
}

/** Checks one interventions.jsonl line, for the host reading a run directory. */
export function parseInterventionLine(input: unknown, path = 'intervention'): ParseResult<InterventionLine> {
  try {
    const size = measureJson(input, MAX_CONTROL_CHARS * 2, MAX_DEPTH);
    if (!('size' in size)) return { ok: false, error: `${path}: is too large or too deeply nested` };
    return { ok: true, value: interventionLine(input, path) };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, error: error.message };
    return { ok: false, error: `${path}: could not be read` };
  }
}

/** config.json's estimator options that are fixed for the run (the settings table's non-live ones, each valid). */
export function fixedOptionsOfRunConfig(config: Record<string, unknown> | undefined): FixedEstimatorOptions {
  return fixedEstimatorOptionsOf(config?.estimatorOptions);
}

// ---- how interventions are named to the user ----

/** What each kind of control is called in the panels and messages (never the protocol's names). */
export const CONTROL_KIND_LABELS: Record<ControlKind, string> = {
  pause: 'pause',
  resume: 'resume',
  stop: 'stop',
  setConfig: 'settings',
  setGroupWeight: 'weight',
  relabel: 'reward override',
  excludePrompt: 'exclude prompt',
  undo: 'undo',
};

/** What each live setting is called in the panels (the coefficient editor's labels). */
export const LIVE_SETTING_LABELS: Record<LiveConfigKey, string> = {
  estimator: 'estimator',
  durianWeights: '(a_ori, a_perc, a_reas)',
  reasoningBins: 'reasoning bins b',
  minPromptsPerBin: 'min prompts per bin',
  eps: 'eps',
  poolZeroVariance: 'pool zero-variance',
  lr: 'learning rate',
  klBeta: 'KL beta',
  clipLow: 'clip low',
  clipHigh: 'clip high',
  temperature: 'temperature',
  groupSize: 'rollouts per prompt G',
  batchSize: 'prompts per step',
};

/** A setting's value as the interventions list and the chart markers write it: `0.0005`, `(0.1, 0.2, 0.7)`. */
export function shortValue(value: unknown): string {
  if (Array.isArray(value)) return `(${value.map(shortValue).join(', ')})`;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  return String(value);
}

/**
 * One line saying what a control does, in the user's words: `weight of train-006866 = 2`,
 * `exclude prompt train-000012 (ground truth wrong)`, `undo: weight of train-006866 = 2`. `find` looks up
 * the control an undo reverts (by id); without it, or when unknown, the undo says "an earlier intervention".
 */
export function describeControl(control: Control, find?: (controlId: string) => Control | undefined): string {
  switch (control.type) {
    case CONTROL.setConfig:
      return `set ${Object.entries(control.changes)
        .map(([key, value]) => `${LIVE_SETTING_LABELS[key as LiveConfigKey] ?? key} = ${shortValue(value)}`)
        .join(', ')}`;
    case CONTROL.setGroupWeight:
      return `weight of ${control.promptId} = ${shortValue(control.weight)}${control.weight === 0 ? ' (left out of the update)' : ''}`;
    case CONTROL.relabel:
      return `reward override for this response to ${control.promptId} (#${control.rollout} at step ${control.step}${control.response === undefined ? '' : `: ${JSON.stringify(control.response.length > 40 ? `${control.response.slice(0, 40)}...` : control.response)}`}) = ${shortValue(control.reward)}`;
    case CONTROL.excludePrompt:
      return `exclude prompt ${control.promptId} (ground truth wrong)`;
    case CONTROL.undo: {
      const target = find?.(control.targetControlId);
      return `undo: ${target && target.type !== CONTROL.undo ? describeControl(target) : 'an earlier intervention'}`;
    }
    default:
      return CONTROL_KIND_LABELS[control.type.slice('control/'.length) as ControlKind] ?? 'control';
  }
}
