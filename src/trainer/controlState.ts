/**
 * What the user has steered, as the trainer applies it at step boundaries: the live configuration
 * (estimator, Durian weights, bins, eps, lr, KL, clip, temperature, G, B), group weights, relabel rules
 * and excluded prompts, each change remembered so that `undo` can revert it: an undo puts back what that
 * control replaced (undoing an older change to a setting after a newer one goes back past both, as the
 * Rollout Groups panel's replay of the log does). Serialisable for checkpoints, so a resumed run keeps
 * every intervention; `restore` checks a snapshot field by field before using it.
 *
 * A relabel names one rollout of a past step; the rule it creates is "this response to this prompt earns
 * this reward", applied to every later rollout of that prompt with the same response (the verifier was
 * wrong about that answer).
 */
import {
  type Control,
  type LiveConfig,
  GROUP_WEIGHT_RANGE,
  MAX_ID_CHARS,
  MAX_TEXT_CHARS,
  RELABEL_REWARD_RANGE,
  controlId,
  estimatorOptionsOf,
  fixedEstimatorOptionsOf,
  liveConfig,
  liveConfigCandidate,
  liveConfigChanges,
} from '../protocol/index.js';
import { type Check, FieldError, arrayOf, bool, childPath, finite, isPlainObject, object, oneOf, recordOf, text } from '../protocol/schema.js';
import type { TrainConfig } from './config.js';
import { DURIAN_DEFAULT_WEIGHTS } from '../core/index.js';

export interface RelabelRule {
  promptId: string;
  response: string;
  reward: number;
  controlId: string;
}

type UndoRecord =
  | { kind: 'setConfig'; previous: Partial<LiveConfig> }
  // `previous` is absent (dropped from the JSON) when there was none.
  | { kind: 'setGroupWeight'; promptId: string; previous?: number }
  | { kind: 'relabel'; key: string; previous?: RelabelRule }
  | { kind: 'excludePrompt'; promptId: string; wasExcluded: boolean };

export interface ControlStateSnapshot {
  live: LiveConfig;
  groupWeights: Record<string, number>;
  relabels: RelabelRule[];
  excluded: string[];
  undo: Record<string, UndoRecord>;
}

// ---- the snapshot's schema (a checkpoint's state.json is read back through it) ----

/** Most prompts, rules or undoable controls a snapshot holds (the train pool has at most 1 000 000 prompts). */
const MAX_SNAPSHOT_ENTRIES = 1_000_000;
const promptId = text({ max: MAX_ID_CHARS, min: 1 });
const entries = { maxKeys: MAX_SNAPSHOT_ENTRIES, maxKeyLength: MAX_ID_CHARS };
const relabelRule: Check<RelabelRule> = object({
  promptId,
  response: text({ max: MAX_TEXT_CHARS }),
  reward: finite(RELABEL_REWARD_RANGE),
  controlId,
});
const kind = <K extends UndoRecord['kind']>(name: K): Check<K> => oneOf([name]);
const undoRecordOfKind: { [K in UndoRecord['kind']]: Check<Extract<UndoRecord, { kind: K }>> } = {
  setConfig: object({ kind: kind('setConfig'), previous: liveConfigChanges }),
  setGroupWeight: object({ kind: kind('setGroupWeight'), promptId }, { previous: finite(GROUP_WEIGHT_RANGE) }),
  relabel: object({ kind: kind('relabel'), key: text({ max: 2 * MAX_ID_CHARS + MAX_TEXT_CHARS, min: 1 }) }, { previous: relabelRule }),
  excludePrompt: object({ kind: kind('excludePrompt'), promptId, wasExcluded: bool }),
};
const undoKind = oneOf(Object.keys(undoRecordOfKind) as UndoRecord['kind'][]);
const undoRecord: Check<UndoRecord> = (value, path) => {
  if (!isPlainObject(value)) throw new FieldError(path, 'must be an object');
  return undoRecordOfKind[undoKind(value.kind, childPath(path, 'kind'))](value, path);
};

/** A snapshot as a checkpoint stores it, checked field by field (throws FieldError naming the first bad one). */
const controlStateSnapshot: Check<ControlStateSnapshot> = object({
  live: liveConfig,
  groupWeights: recordOf(finite(GROUP_WEIGHT_RANGE), entries),
  relabels: arrayOf(relabelRule, { max: MAX_SNAPSHOT_ENTRIES }),
  excluded: arrayOf(promptId, { max: MAX_SNAPSHOT_ENTRIES }),
  undo: recordOf(undoRecord, entries),
});

/** The live configuration a (checked) training config starts with. */
export function liveConfigFrom(config: TrainConfig): LiveConfig {
  return liveConfigCandidate(config, DURIAN_DEFAULT_WEIGHTS) as LiveConfig;
}

const relabelKey = (promptId: string, response: string) => `${promptId}\u0000${response}`;

export class ControlState {
  live: LiveConfig;
  private readonly groupWeights = new Map<string, number>();
  private readonly relabels = new Map<string, RelabelRule>();
  private readonly excluded = new Set<string>();
  private readonly undoRecords = new Map<string, UndoRecord>();

  constructor(
    config: TrainConfig,
    /** Options the live config does not carry (band, confidence, maxPromptsPerBin), kept from the config. */
    private readonly fixedOptions: Record<string, unknown> = {},
  ) {
    this.live = liveConfigFrom(config);
    // Every estimator option the live config does not carry (the settings table's non-live ones).
    Object.assign(this.fixedOptions, fixedEstimatorOptionsOf(config.estimatorOptions));
  }

  /** The options src/core's computeAdvantages takes for the active (or another) estimator. */
  estimatorOptions(estimator: string = this.live.estimator): Record<string, unknown> {
    return estimatorOptionsOf(estimator, this.live, this.fixedOptions);
  }

  groupWeight(promptId: string): number {
    return this.excluded.has(promptId) ? 0 : (this.groupWeights.get(promptId) ?? 1);
  }

  isExcluded(promptId: string): boolean {
    return this.excluded.has(promptId);
  }

  /** The relabelled reward of this response to this prompt, if the user set one. */
  relabel(promptId: string, response: string): number | undefined {
    return this.relabels.get(relabelKey(promptId, response))?.reward;
  }

  /**
   * Applies a control (not pause/resume/stop, which the loop handles). `responseOf` finds the text of a
   * past rollout for a relabel. Returns an error message instead of changing anything when it cannot apply.
   */
  apply(control: Control, responseOf: (step: number, promptId: string, rollout: number) => string | undefined): string | undefined {
    switch (control.type) {
      case 'control/setConfig': {
        const previous: Partial<LiveConfig> = {};
        for (const key of Object.keys(control.changes) as (keyof LiveConfig)[]) {
          (previous as Record<string, unknown>)[key] = this.live[key];
        }
        this.live = { ...this.live, ...control.changes } as LiveConfig;
        this.undoRecords.set(control.controlId, { kind: 'setConfig', previous });
        return undefined;
      }
      case 'control/setGroupWeight':
        this.undoRecords.set(control.controlId, { kind: 'setGroupWeight', promptId: control.promptId, previous: this.groupWeights.get(control.promptId) });
        this.groupWeights.set(control.promptId, control.weight);
        return undefined;
      case 'control/relabel': {
        const response = control.response ?? responseOf(control.step, control.promptId, control.rollout);
        if (response === undefined) {
          return `relabel: no rollout ${control.rollout} of prompt ${JSON.stringify(control.promptId)} at step ${control.step} in this run`;
        }
        const key = relabelKey(control.promptId, response);
        this.undoRecords.set(control.controlId, { kind: 'relabel', key, previous: this.relabels.get(key) });
        this.relabels.set(key, { promptId: control.promptId, response, reward: control.reward, controlId: control.controlId });
        return undefined;
      }
      case 'control/excludePrompt':
        this.undoRecords.set(control.controlId, { kind: 'excludePrompt', promptId: control.promptId, wasExcluded: this.excluded.has(control.promptId) });
        this.excluded.add(control.promptId);
        return undefined;
      case 'control/undo':
        return this.undo(control.targetControlId);
      default:
        return `${control.type} is not applied at a step boundary`;
    }
  }

  private undo(target: string): string | undefined {
    const record = this.undoRecords.get(target);
    if (!record) return `undo: no applied control ${JSON.stringify(target)} to undo (already undone, or never applied)`;
    this.undoRecords.delete(target);
    switch (record.kind) {
      case 'setConfig':
        this.live = { ...this.live, ...record.previous } as LiveConfig;
        break;
      case 'setGroupWeight':
        if (record.previous === undefined) this.groupWeights.delete(record.promptId);
        else this.groupWeights.set(record.promptId, record.previous);
        break;
      case 'relabel':
        if (record.previous === undefined) this.relabels.delete(record.key);
        else this.relabels.set(record.key, record.previous);
        break;
      case 'excludePrompt':
        if (!record.wasExcluded) this.excluded.delete(record.promptId);
        break;
    }
    return undefined;
  }

  snapshot(): ControlStateSnapshot {
    return {
      live: { ...this.live, durianWeights: [...this.live.durianWeights] as [number, number, number] },
      groupWeights: Object.fromEntries(this.groupWeights),
      relabels: [...this.relabels.values()],
      excluded: [...this.excluded],
      undo: Object.fromEntries(this.undoRecords),
    };
  }

  /**
   * Replaces the whole state with a snapshot (from `snapshot()`, usually read back from a checkpoint).
   * A malformed snapshot throws a FieldError naming the first bad field (`controls.relabels[0].reward: ...`)
   * and changes nothing.
   */
  restore(untrusted: unknown): void {
    const snapshot = controlStateSnapshot(untrusted, 'controls');
    this.live = snapshot.live;
    this.groupWeights.clear();
    for (const [id, weight] of Object.entries(snapshot.groupWeights)) this.groupWeights.set(id, weight);
    this.relabels.clear();
    for (const rule of snapshot.relabels) this.relabels.set(relabelKey(rule.promptId, rule.response), rule);
    this.excluded.clear();
    for (const id of snapshot.excluded) this.excluded.add(id);
    this.undoRecords.clear();
    for (const [id, record] of Object.entries(snapshot.undo)) this.undoRecords.set(id, record);
  }
}
