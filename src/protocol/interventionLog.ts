/**
 * One line of a run's interventions.jsonl (what src/trainer/run writes for every applied control) and its
 * check. Shared by the Rollout Groups panel's messages (./rolloutsWebview.ts) and the Dashboard's
 * (./webview.ts), which shows each line as a marker on its charts.
 */
import { CONTROL_KINDS, CONTROL_SCHEMAS, type Control, type ControlKind } from './controls.js';
import { MAX_ID_CHARS, MAX_LABEL_CHARS, STEP_RANGE } from './limits.js';
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
