/**
 * Host -> trainer controls: one named type each (`CONTROL.setConfig === 'control/setConfig'`), every one
 * carrying a `controlId` the trainer echoes in `trainer/applied` or `trainer/error`, and which `undo`
 * refers to. The webviews send the same shapes to the host, which validates and forwards them.
 */
import { type LiveConfig, liveConfigChanges } from './liveConfig.js';
import { CONTROL_ID_PATTERN, GROUP_WEIGHT_RANGE, LIVE_RANGES, MAX_ID_CHARS, MAX_TEXT_CHARS, RELABEL_REWARD_RANGE, STEP_RANGE } from './limits.js';
import { type Check, finite, object, oneOf, text } from './schema.js';

export const CONTROL = {
  pause: 'control/pause',
  resume: 'control/resume',
  stop: 'control/stop',
  setConfig: 'control/setConfig',
  setGroupWeight: 'control/setGroupWeight',
  relabel: 'control/relabel',
  excludePrompt: 'control/excludePrompt',
  undo: 'control/undo',
} as const;

export type ControlKind = keyof typeof CONTROL;
export const CONTROL_KINDS = Object.keys(CONTROL) as ControlKind[];

export interface PauseControl {
  type: typeof CONTROL.pause;
  controlId: string;
}

export interface ResumeControl {
  type: typeof CONTROL.resume;
  controlId: string;
}

/** Stop after the current step, write a checkpoint, then `done` with reason `stopped`. */
export interface StopControl {
  type: typeof CONTROL.stop;
  controlId: string;
}

export interface SetConfigControl {
  type: typeof CONTROL.setConfig;
  controlId: string;
  changes: Partial<LiveConfig>;
}

/** Multiply a prompt's advantages by `weight` (0 leaves it out) from the next update on. */
export interface SetGroupWeightControl {
  type: typeof CONTROL.setGroupWeight;
  controlId: string;
  promptId: string;
  weight: number;
}

/**
 * A reward override for this response to this prompt, from step N: the rule "this exact response to prompt
 * `promptId` earns `reward`", applied from the next step on (N, acknowledged in `trainer/applied`) whenever the
 * policy gives that response to that prompt again; the rollout already trained on keeps its reward. The
 * response is the one of rollout `rollout` seen at `step`; `response` carries its text (the trainer then needs
 * no copy of that step's rollouts), else the trainer looks it up in the step's rollouts.
 */
export interface RelabelControl {
  type: typeof CONTROL.relabel;
  controlId: string;
  step: number;
  promptId: string;
  /** Index of the rollout within its group (0-based). */
  rollout: number;
  reward: number;
  /** The response text the override is for (what the user saw at `step`). */
  response?: string;
}

/** Leave a prompt out of every later update (and out of sampling). */
export interface ExcludePromptControl {
  type: typeof CONTROL.excludePrompt;
  controlId: string;
  promptId: string;
}

/** Revert an earlier control (setConfig, setGroupWeight, relabel or excludePrompt). */
export interface UndoControl {
  type: typeof CONTROL.undo;
  controlId: string;
  targetControlId: string;
}

export type Control =
  | PauseControl
  | ResumeControl
  | StopControl
  | SetConfigControl
  | SetGroupWeightControl
  | RelabelControl
  | ExcludePromptControl
  | UndoControl;

export type ControlOf<K extends ControlKind> = Extract<Control, { type: (typeof CONTROL)[K] }>;

/** `control/setConfig` -> `setConfig`. */
export function controlKindOf(control: Pick<Control, 'type'>): ControlKind {
  return control.type.slice('control/'.length) as ControlKind;
}

// ---- schemas ----

export const controlId: Check<string> = text({
  max: MAX_ID_CHARS,
  min: 1,
  pattern: { regex: CONTROL_ID_PATTERN, says: 'letters, digits and . _ : # - only' },
});
const promptId = text({ max: MAX_ID_CHARS, min: 1 });

function controlSchema<K extends ControlKind>(kind: K, fields: Record<string, Check<unknown>> = {}, optional: Record<string, Check<unknown>> = {}) {
  return object({ type: oneOf([CONTROL[kind]]), controlId, ...fields }, optional) as unknown as Check<ControlOf<K>>;
}

export const CONTROL_SCHEMAS: { [K in ControlKind]: Check<ControlOf<K>> } = {
  pause: controlSchema('pause'),
  resume: controlSchema('resume'),
  stop: controlSchema('stop'),
  setConfig: controlSchema('setConfig', { changes: liveConfigChanges }),
  setGroupWeight: controlSchema('setGroupWeight', { promptId, weight: finite(GROUP_WEIGHT_RANGE) }),
  relabel: controlSchema('relabel', {
    step: finite(STEP_RANGE),
    promptId,
    rollout: finite({ min: 0, max: LIVE_RANGES.groupSize.max - 1, integer: true }),
    reward: finite(RELABEL_REWARD_RANGE),
  }, { response: text({ max: MAX_TEXT_CHARS }) }),
  excludePrompt: controlSchema('excludePrompt', { promptId }),
  undo: controlSchema('undo', { targetControlId: controlId }),
};
