/**
 * The trainer's state: exactly what a checkpoint saves and a resume restores. `state.json` holds the small
 * values (step, prompt cursor, random-generator states, the user's steering, inbox position, validation
 * bests, elapsed time, the policy's kind), `weights.bin` the policy's weights and `adam.bin` its optimiser
 * state (named arrays through the Policy interface, whatever the optimiser).
 */
import { ControlState, type ControlStateSnapshot } from '../controlState.js';
import type { TrainConfig } from '../config.js';
import type { ControlInbox } from '../inbox.js';
import type { Policy, PolicyArrays } from '../policy/policy.js';
import { allFinite, packArrays, unpackArrays } from '../policyIo.js';
import { Rng } from '../rng.js';
import { type CheckpointPart, type InboxPosition, type LoadedCheckpoint, checkInboxPosition } from '../run/index.js';

export interface TrainerState {
  /** Steps done (the next one is step + 1). */
  step: number;
  /** The train split's epoch (its seeded order) and the prompt cursor in it. */
  epoch: number;
  cursor: number;
  /** Draws every rollout token. */
  sampleRng: Rng;
  /** Shuffles the kept prompts into the update's mini-batches (draws nothing while the batch is one mini-batch). */
  updateRng: Rng;
  /** The live configuration and the user's steering (group weights, reward overrides, exclusions, undo). */
  controls: ControlState;
  /** The run's inbox.jsonl, read up to its `position`. */
  inbox: ControlInbox;
  /** interventions.jsonl holds lines up to this step (a stop's boundary acknowledges from step + 1). */
  acknowledgedThrough: number;
  /** Held-out accuracy at step 0 and the best so far (NaN until measured). */
  validationBefore: number;
  validationBest: number;
  /** Training time of earlier processes of this run, and when this one started training (Date.now()). */
  elapsedBeforeMs: number;
  startedAt: number;
  /** The weights and the optimiser state. */
  policy: Policy;
}

/** The state of a run before its first step (a resume then restores a checkpoint into it). */
export function startState(parts: Pick<TrainerState, 'sampleRng' | 'updateRng' | 'controls' | 'inbox' | 'policy'>): TrainerState {
  return {
    step: 0,
    epoch: 0,
    cursor: 0,
    sampleRng: parts.sampleRng,
    updateRng: parts.updateRng,
    controls: parts.controls,
    inbox: parts.inbox,
    acknowledgedThrough: 0,
    validationBefore: Number.NaN,
    validationBest: Number.NaN,
    elapsedBeforeMs: 0,
    startedAt: Date.now(),
    policy: parts.policy,
  };
}

export function elapsedMs(state: Pick<TrainerState, 'elapsedBeforeMs' | 'startedAt'>): number {
  return state.elapsedBeforeMs + (Date.now() - state.startedAt);
}

/** state.json of a checkpoint. */
export interface CheckpointStateJson {
  step: number;
  epoch: number;
  cursor: number;
  sampleRng: ReturnType<Rng['getState']>;
  /** The mini-batch shuffle's generator (absent in checkpoints of older versions: it starts from its seed). */
  updateRng?: ReturnType<Rng['getState']>;
  controls: ControlStateSnapshot;
  /** Where the inbox was read up to (absent in checkpoints of older versions: read from the start). */
  inbox?: InboxPosition;
  /** interventions.jsonl lines up to this step are held by the checkpoint (absent in older ones: up to `step`). */
  interventionsThrough?: number;
  validationBefore: number | null;
  validationBest: number | null;
  elapsedMs: number;
  /** The policy kind of the weights (absent in checkpoints made before there were kinds: counting). */
  policy?: string;
  weightsIndex: Record<string, [number, number]>;
  adamIndex: Record<string, [number, number]>;
}

/** The parts of a checkpoint of `state`. */
export function checkpointParts(state: TrainerState): Record<string, CheckpointPart> {
  const weights = packArrays(state.policy.getWeights());
  const optimizer = packArrays(state.policy.getOptimizerState());
  const json: CheckpointStateJson = {
    step: state.step,
    epoch: state.epoch,
    cursor: state.cursor,
    sampleRng: state.sampleRng.getState(),
    updateRng: state.updateRng.getState(),
    controls: state.controls.snapshot(),
    inbox: state.inbox.position,
    interventionsThrough: Math.max(state.step, state.acknowledgedThrough),
    validationBefore: state.validationBefore,
    validationBest: state.validationBest,
    elapsedMs: elapsedMs(state),
    policy: state.policy.kind,
    weightsIndex: weights.index,
    adamIndex: optimizer.index,
  };
  return { 'weights.bin': weights.bytes, 'adam.bin': optimizer.bytes, 'state.json': json };
}

/** What a resume needs from a checkpoint, decoded and checked. */
export interface ResumedState {
  step: number;
  state: CheckpointStateJson;
  weights: PolicyArrays;
  optimizer: PolicyArrays;
}

/** Puts a decoded checkpoint into `state` (its policy was created with the checkpoint's weights). */
export function restoreState(state: TrainerState, resumed: ResumedState): void {
  const saved = resumed.state;
  state.step = resumed.step;
  state.epoch = saved.epoch;
  state.cursor = saved.cursor;
  state.sampleRng.setState(saved.sampleRng);
  if (saved.updateRng) state.updateRng.setState(saved.updateRng);
  state.controls.restore(saved.controls);
  state.validationBefore = saved.validationBefore ?? Number.NaN;
  state.validationBest = saved.validationBest ?? Number.NaN;
  state.elapsedBeforeMs = saved.elapsedMs;
  state.policy.setOptimizerState(resumed.optimizer);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The policy kind of checkpoints made before there were kinds. */
const LEGACY_POLICY_KIND = 'counting';

/**
 * Decodes a checkpoint whose parts match their manifest; throws (naming the part) when it still cannot be
 * used: state.json lacks a field, an array index points outside weights.bin / adam.bin, a weight is not
 * finite, the random-generator or control state does not restore, the weights are another policy kind's.
 * The resume then falls back to an older one.
 */
export function decodeCheckpoint(checkpoint: Omit<LoadedCheckpoint, 'skipped'>, config: TrainConfig): ResumedState {
  const state = checkpoint.json['state.json'];
  if (!isObject(state)) throw new Error('state.json is missing or not an object');
  for (const field of ['step', 'epoch', 'cursor', 'elapsedMs'] as const) {
    const value = state[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`state.json: ${field} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  }
  if (state.step !== checkpoint.step) throw new Error(`state.json: step ${String(state.step)} differs from the checkpoint's step ${checkpoint.step}`);
  for (const field of ['weightsIndex', 'adamIndex', 'controls', 'sampleRng'] as const) {
    if (!isObject(state[field])) throw new Error(`state.json: ${field} is missing`);
  }
  const kind = state.policy ?? LEGACY_POLICY_KIND;
  if (kind !== config.policy) throw new Error(`state.json: the weights are the ${JSON.stringify(kind)} policy's, and this run trains the ${JSON.stringify(config.policy)} policy`);
  for (const part of ['weights.bin', 'adam.bin']) if (!checkpoint.bytes[part]) throw new Error(`${part} is missing`);
  const typed = state as unknown as CheckpointStateJson;
  if (state.inbox !== undefined) typed.inbox = checkInboxPosition(state.inbox, 'state.json: inbox');
  const through = state.interventionsThrough;
  if (through !== undefined && (typeof through !== 'number' || !Number.isInteger(through) || through < checkpoint.step || through > checkpoint.step + 1)) {
    throw new Error(`state.json: interventionsThrough must be the checkpoint's step or the next, got ${JSON.stringify(through)}`);
  }
  const weights = unpackArrays(checkpoint.bytes['weights.bin'], typed.weightsIndex, 'weights.bin');
  if (Object.keys(weights).length === 0) throw new Error('weights.bin holds no weights');
  if (!allFinite(weights)) throw new Error('weights.bin holds a non-finite weight');
  const optimizer = unpackArrays(checkpoint.bytes['adam.bin'], typed.adamIndex, 'adam.bin');
  // Checkpoints made before the policy seam kept Adam's step count in state.json.
  const legacyStep = state.adamStep;
  if (optimizer.step === undefined && typeof legacyStep === 'number' && Number.isInteger(legacyStep) && legacyStep >= 0) optimizer.step = Float32Array.of(legacyStep);
  new Rng(0).setState(typed.sampleRng);
  if (state.updateRng !== undefined) {
    if (!isObject(state.updateRng)) throw new Error('state.json: updateRng must be a random-generator state');
    new Rng(0).setState(typed.updateRng as ReturnType<Rng['getState']>);
  }
  try {
    new ControlState(config).restore(typed.controls);
  } catch (error) {
    throw new Error(`state.json: controls do not restore (${error instanceof Error ? error.message : String(error)})`);
  }
  return { step: checkpoint.step, state: typed, weights, optimizer };
}
