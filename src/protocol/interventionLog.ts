/**
 * One line of a run's interventions.jsonl (what src/trainer/run writes for every applied control) and its
 * check. Shared by the Rollout Groups panel's messages (./rolloutsWebview.ts) and the Dashboard's
 * (./webview.ts), which shows each line as a marker on its charts.
 */
import { CONTROL, CONTROL_KINDS, CONTROL_SCHEMAS, type Control, type ControlKind } from './controls.js';
import { MAX_ID_CHARS, MAX_LABEL_CHARS, STEP_RANGE } from './limits.js';
import type { LiveConfig, LiveConfigKey } from './liveConfig.js';
import { type Check, FieldError, childPath, finite, isPlainObject, object, oneOf, text } from './schema.js';

/** Most interventions sent in one list. */
export const MAX_INTERVENTIONS = 100_000;

/** One line of interventions.jsonl (what src/trainer/run writes). */
export interface InterventionLine {
  /** The step from which the control holds (as in `trainer/applied`). */
  step: number;
  /** ISO 8601 time it was applied. */
  at: string;
  kind: ControlKind;
  controlId: string;
  control: Control;
}

/** One interventions.jsonl line: its `control` must match its `kind` and `controlId`. */
export const interventionLine: Check<InterventionLine> = (value, path) => {
  const line = object({
    step: finite(STEP_RANGE),
    at: text({ max: MAX_LABEL_CHARS }),
    kind: oneOf(CONTROL_KINDS),
    controlId: text({ max: MAX_ID_CHARS, min: 1 }),
    control: (v, p) => {
      if (!isPlainObject(v)) throw new FieldError(p, 'must be an object');
      return v;
    },
  })(value, path);
  const control = CONTROL_SCHEMAS[line.kind](line.control, childPath(path, 'control')) as Control;
  if (control.controlId !== line.controlId) throw new FieldError(childPath(path, 'control.controlId'), `must equal the line's controlId ${JSON.stringify(line.controlId)}`);
  return { ...line, control };
};

/** One intervention replayed on the live configuration: what was in force before and after it. */
export interface ConfigStep {
  line: InterventionLine;
  before: LiveConfig;
  after: LiveConfig;
  /** The settings it changed: a setConfig's keys, or those an undo of one put back; [] for other controls. */
  changed: LiveConfigKey[];
}

/**
 * Replays interventions in order on `base`, as the trainer applies them: a setConfig sets its changes, the
 * undo of a setConfig puts back what that one replaced; other controls leave the configuration as it is.
 * `config` is the configuration in force after them all (a copy: `base` is never changed).
 */
export function replayConfig(base: LiveConfig, lines: readonly InterventionLine[]): { steps: ConfigStep[]; config: LiveConfig } {
  let config: LiveConfig = { ...base, durianWeights: [...base.durianWeights] as LiveConfig['durianWeights'] };
  const replaced = new Map<string, Partial<LiveConfig>>();
  const steps = lines.map((line) => {
    const before = config;
    const control = line.control;
    let restored: Partial<LiveConfig> | undefined;
    if (control.type === CONTROL.setConfig) {
      restored = control.changes;
      replaced.set(control.controlId, Object.fromEntries(Object.keys(control.changes).map((key) => [key, before[key as LiveConfigKey]])) as Partial<LiveConfig>);
    } else if (control.type === CONTROL.undo) {
      restored = replaced.get(control.targetControlId);
      replaced.delete(control.targetControlId);
    }
    if (restored) config = { ...config, ...restored } as LiveConfig;
    return { line, before, after: config, changed: restored ? (Object.keys(restored) as LiveConfigKey[]) : [] };
  });
  return { steps, config };
}
