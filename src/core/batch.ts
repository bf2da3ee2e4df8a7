/**
 * The input every advantage estimator shares, its validation, and its grouping by prompt.
 *
 * One entry per sequence (rollout): the prompt it answers (`index`, verl's name), its scalar reward
 * (`scores`), its number of valid response tokens (`lengths`), and the difficulty inputs Durian needs.
 * User interventions travel with the batch: `relabels` replace rewards before any maths, and
 * `groupWeights` scale a prompt's final advantages (0 excludes the prompt from the maths entirely).
 */
import { DurianInputError, describeValue } from './errors.js';

/** Rewards and other per-sequence numbers must lie within this magnitude (squares stay finite). */
export const MAX_MAGNITUDE = 1e150;

export interface Relabel {
  /** Position of the sequence in the batch (0-based). */
  sequence: number;
  /** The reward that replaces the verifier's. */
  score: number;
}

export interface SequenceBatch {
  /** Prompt id of each sequence; sequences with the same id form a group. */
  index: readonly (string | number)[];
  /** Scalar reward of each sequence. */
  scores: readonly number[];
  /** Valid response tokens of each sequence (default 1 each); batch_std weights by it. */
  lengths?: readonly number[];
  /** Visual entropy of the sequence's image, repeated per sequence (durian). */
  visualEntropy?: readonly number[];
  /** Mean token log-prob of the sequence under the rollout policy (durian). */
  logprob?: readonly number[];
  /** Per-sequence accuracy in [0, 1] for the band filter (default: the scores). */
  accuracy?: readonly number[];
  /** Weight per prompt id, multiplying its final advantages; 0 excludes the prompt. Ids not in the batch are ignored. */
  groupWeights?: Readonly<Record<string, number>>;
  /** Rewards overridden by the user (e.g. the verifier was wrong). */
  relabels?: readonly Relabel[];
}

/** A prompt and its sequences, in order of first appearance in the batch. */
export interface PromptGroup {
  id: string;
  /** Positions of the group's sequences in the batch. */
  members: number[];
}

/** A validated batch with relabels applied, ready for the estimators. */
export interface PreparedBatch {
  size: number;
  ids: string[];
  scores: Float64Array;
  lengths: Float64Array;
  accuracy: Float64Array;
  visualEntropy?: Float64Array;
  logprob?: Float64Array;
  groups: PromptGroup[];
  /** Group position of each sequence. */
  groupOf: Int32Array;
  /** Weight of each group (1 unless set). */
  weights: Float64Array;
}

function finiteArray(
  raw: unknown,
  name: string,
  expectedLength: number,
  check?: (value: number) => string | undefined,
): Float64Array {
  if (!Array.isArray(raw)) throw new DurianInputError(name, `must be an array of numbers, got ${describeValue(raw)}`);
  if (raw.length !== expectedLength) {
    throw new DurianInputError(name, `has ${raw.length} entries but index has ${expectedLength} (one per sequence)`);
  }
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const value: unknown = raw[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new DurianInputError(`${name}[${i}]`, `must be a finite number, got ${describeValue(value)}`);
    }
    if (Math.abs(value) > MAX_MAGNITUDE) {
      throw new DurianInputError(`${name}[${i}]`, `${value} is outside the supported range ±${MAX_MAGNITUDE}`);
    }
    const problem = check?.(value);
    if (problem) throw new DurianInputError(`${name}[${i}]`, problem);
    out[i] = value;
  }
  return out;
}

/** Groups sequences by prompt id, keeping the order in which prompts first appear. */
function groupByPrompt(ids: readonly string[]): { groups: PromptGroup[]; groupOf: Int32Array } {
  const position = new Map<string, number>();
  const groups: PromptGroup[] = [];
  const groupOf = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    // Rollouts of a prompt usually sit together: skip the map lookup for a repeated id.
    let g = i > 0 && ids[i] === ids[i - 1] ? groupOf[i - 1] : position.get(ids[i]);
    if (g === undefined) {
      g = groups.length;
      position.set(ids[i], g);
      groups.push({ id: ids[i], members: [] });
    }
    groups[g].members.push(i);
    groupOf[i] = g;
  }
  return { groups, groupOf };
}

/**
 * Validates a batch and applies its relabels. Throws DurianInputError naming the field and position
 * of the first problem: empty batch, mismatched lengths, NaN/Infinity, bad ids, weights or relabels.
 */
export function prepareBatch(batch: SequenceBatch, needs: { visualEntropy?: boolean; logprob?: boolean } = {}): PreparedBatch {
  if (batch === null || typeof batch !== 'object') {
    throw new DurianInputError('batch', `must be an object, got ${describeValue(batch)}`);
  }
  const rawIndex: unknown = batch.index;
  if (!Array.isArray(rawIndex)) throw new DurianInputError('index', `must be an array of prompt ids, got ${describeValue(rawIndex)}`);
  if (rawIndex.length === 0) throw new DurianInputError('index', 'the batch is empty: at least one sequence is needed');
  const size = rawIndex.length;
  const ids = new Array<string>(size);
  for (let i = 0; i < size; i++) {
    const id: unknown = rawIndex[i];
    if (typeof id === 'string') ids[i] = id;
    else if (typeof id === 'number' && Number.isInteger(id)) ids[i] = String(id);
    else throw new DurianInputError(`index[${i}]`, `must be a string or an integer prompt id, got ${describeValue(id)}`);
  }

  const scores = finiteArray(batch.scores, 'scores', size);
  const lengths =
    batch.lengths === undefined
      ? new Float64Array(size).fill(1)
      : finiteArray(batch.lengths, 'lengths', size, (v) =>
          Number.isInteger(v) && v >= 0 ? undefined : `must be a whole number of valid tokens >= 0, got ${v}`,
        );
  const accuracy = batch.accuracy === undefined ? undefined : finiteArray(batch.accuracy, 'accuracy', size);
  const visualEntropy = batch.visualEntropy === undefined ? undefined : finiteArray(batch.visualEntropy, 'visualEntropy', size);
  const logprob = batch.logprob === undefined ? undefined : finiteArray(batch.logprob, 'logprob', size);
  if (needs.visualEntropy && !visualEntropy) {
    throw new DurianInputError('visualEntropy', 'is required by this estimator (the image entropy of each sequence)');
  }
  if (needs.logprob && !logprob) {
    throw new DurianInputError('logprob', 'is required by this estimator (the mean token log-prob of each sequence)');
  }

  if (batch.relabels !== undefined) {
    if (!Array.isArray(batch.relabels)) throw new DurianInputError('relabels', `must be an array, got ${describeValue(batch.relabels)}`);
    batch.relabels.forEach((relabel: unknown, k) => {
      const where = `relabels[${k}]`;
      if (relabel === null || typeof relabel !== 'object') throw new DurianInputError(where, 'must be {sequence, score}');
      const { sequence, score } = relabel as Partial<Relabel>;
      if (typeof sequence !== 'number' || !Number.isInteger(sequence) || sequence < 0 || sequence >= size) {
        throw new DurianInputError(`${where}.sequence`, `must be a sequence position in [0, ${size - 1}], got ${describeValue(sequence)}`);
      }
      if (typeof score !== 'number' || !Number.isFinite(score) || Math.abs(score) > MAX_MAGNITUDE) {
        throw new DurianInputError(`${where}.score`, `must be a finite reward, got ${describeValue(score)}`);
      }
      scores[sequence] = score;
    });
  }

  const { groups, groupOf } = groupByPrompt(ids);

  if (visualEntropy) {
    for (const group of groups) {
      const first = visualEntropy[group.members[0]];
      for (const member of group.members) {
        if (Math.abs(visualEntropy[member] - first) > 1e-9 * Math.max(1, Math.abs(first))) {
          throw new DurianInputError(
            `visualEntropy[${member}]`,
            `is ${visualEntropy[member]} but sequence ${group.members[0]} of the same prompt ${JSON.stringify(group.id)} has ${first}: one image entropy per prompt`,
          );
        }
      }
    }
  }

  const weights = new Float64Array(groups.length).fill(1);
  if (batch.groupWeights !== undefined) {
    const raw: unknown = batch.groupWeights;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new DurianInputError('groupWeights', `must be an object {promptId: weight}, got ${describeValue(raw)}`);
    }
    const position = new Map(groups.map((g, i) => [g.id, i]));
    for (const [id, weight] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > MAX_MAGNITUDE) {
        throw new DurianInputError(`groupWeights[${JSON.stringify(id)}]`, `must be a finite weight >= 0, got ${describeValue(weight)}`);
      }
      const g = position.get(id);
      if (g !== undefined) weights[g] = weight;
    }
  }

  return {
    size,
    ids,
    scores,
    lengths,
    accuracy: accuracy ?? scores,
    visualEntropy,
    logprob,
    groups,
    groupOf,
    weights,
  };
}

/** The batch restricted to the given groups (positions into `batch.groups`), with a map back. */
export function selectGroups(batch: PreparedBatch, keep: readonly number[]): { batch: PreparedBatch; sequences: Int32Array } {
  const sequences: number[] = [];
  for (const g of keep) for (const member of batch.groups[g].members) sequences.push(member);
  const pick = (values: Float64Array) => Float64Array.from(sequences, (s) => values[s]);
  const ids = sequences.map((s) => batch.ids[s]);
  const { groups, groupOf } = groupByPrompt(ids);
  return {
    batch: {
      size: sequences.length,
      ids,
      scores: pick(batch.scores),
      lengths: pick(batch.lengths),
      accuracy: pick(batch.accuracy),
      visualEntropy: batch.visualEntropy && pick(batch.visualEntropy),
      logprob: batch.logprob && pick(batch.logprob),
      groups,
      groupOf,
      weights: Float64Array.from(keep, (g) => batch.weights[g]),
    },
    sequences: Int32Array.from(sequences),
  };
}
