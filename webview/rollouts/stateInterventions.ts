/**
 * The controls: sending them, the interventions section's rows (the log's lines and this webview's pending
 * or failed controls), the reward overrides on a step's rollouts, and the prompts acted on.
 */
import { CONTROL, type Control } from '../../src/protocol/controls.js';
import {
  CONTROL_KIND_LABELS,
  ROLLOUTS,
  ROLLOUTS_CONTROL_KINDS,
  type RolloutsControlKind,
  type RolloutsControlMessage,
  describeControl,
} from '../../src/protocol/rolloutsWebview.js';
import type { PanelControl, RolloutsModel } from './stateModel.js';

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

