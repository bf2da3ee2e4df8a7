/**
 * The estimator registry, by name (as verl's ADV_ESTIMATOR_REGISTRY), and `computeAdvantages`, the one
 * entry point every caller uses: it validates the batch and options, applies relabels, drops groups
 * excluded by weight 0 or by the band filter, runs the estimator on the rest, and scales each prompt's
 * advantages by its weight.
 */
import { type PreparedBatch, type SequenceBatch, prepareBatch, selectGroups } from '../batch.js';
import { DurianInputError, describeValue } from '../errors.js';
import { bandOption, parseOptions } from '../options.js';
import { bandKeeps } from './band.js';
import { batchStd } from './batchStd.js';
import { drGrpo } from './drGrpo.js';
import { durian } from './durian.js';
import { grpo } from './grpo.js';
import { rloo } from './rloo.js';
import type { Estimator } from './types.js';

// Each estimator is typed by its own options; the registry erases them (parsing restores them at run time).
export const ESTIMATORS: Readonly<Record<string, Estimator<never>>> = Object.freeze({
  grpo: grpo as unknown as Estimator<never>,
  dr_grpo: drGrpo as unknown as Estimator<never>,
  rloo: rloo as unknown as Estimator<never>,
  batch_std: batchStd as unknown as Estimator<never>,
  durian: durian as unknown as Estimator<never>,
});

export type EstimatorName = 'grpo' | 'dr_grpo' | 'rloo' | 'batch_std' | 'durian';
export const ESTIMATOR_NAMES = Object.keys(ESTIMATORS) as EstimatorName[];

function getEstimator(name: unknown): Estimator<never> {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(ESTIMATORS, name)) {
    throw new DurianInputError('estimator', `unknown estimator ${describeValue(name)} (known: ${ESTIMATOR_NAMES.join(', ')})`);
  }
  return ESTIMATORS[name];
}

export interface GroupResult {
  id: string;
  size: number;
  weight: number;
  kept: boolean;
  /** Why a group was left out of the maths. */
  dropped?: 'weight' | 'band';
}

export interface AdvantageResult {
  estimator: string;
  /** One advantage per sequence, in input order (0 for dropped groups). */
  advantages: Float64Array;
  /** Rewards after relabels. */
  scores: Float64Array;
  /** Whether each sequence takes part in the update. */
  kept: boolean[];
  groups: GroupResult[];
  /** The estimator's further per-sequence arrays (unweighted), in input order. */
  perSequence: Record<string, Float64Array>;
  explanation: Record<string, unknown>;
}

/** Options every estimator accepts beside its own. */
const COMMON_OPTIONS = { band: bandOption };

/** Splits raw options into the common ones and the estimator's own, validating both. */
function splitOptions(estimator: Estimator<never>, raw: unknown): { band: [number, number] | null; own: unknown } {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new DurianInputError('options', `must be an object, got ${describeValue(raw)}`);
  const { band, ...own } = raw as Record<string, unknown>;
  const common = parseOptions(COMMON_OPTIONS, { band }, 'options', `every estimator`);
  const ownOptions = parseOptions(estimator.options, own, 'options', `estimator ${estimator.name} (or common: band)`);
  return { band: common.band, own: ownOptions };
}

/** Validates an estimator's options ahead of use (e.g. a training config before the run starts). */
export function validateEstimatorOptions(name: string, options: unknown, where = 'options'): Record<string, unknown> {
  const estimator = getEstimator(name);
  try {
    const { band, own } = splitOptions(estimator, options);
    return { ...(own as Record<string, unknown>), band };
  } catch (error) {
    if (error instanceof DurianInputError && where !== 'options') {
      throw new DurianInputError(error.where.replace(/^options/, where), error.message.slice(error.where.length + 2));
    }
    throw error;
  }
}

export function computeAdvantages(name: string, batch: SequenceBatch, options?: unknown): AdvantageResult {
  const estimator = getEstimator(name);
  const { band, own } = splitOptions(estimator, options);
  const prepared: PreparedBatch = prepareBatch(batch, estimator.needs);

  const inBand = bandKeeps(prepared, band);
  const groups: GroupResult[] = prepared.groups.map((group, g) => {
    const weight = prepared.weights[g];
    const dropped = weight === 0 ? 'weight' : inBand[g] ? undefined : 'band';
    return { id: group.id, size: group.members.length, weight, kept: dropped === undefined, ...(dropped ? { dropped } : {}) };
  });
  const keep = groups.flatMap((group, g) => (group.kept ? [g] : []));

  const advantages = new Float64Array(prepared.size);
  const kept = new Array<boolean>(prepared.size).fill(false);
  const perSequence: Record<string, Float64Array> = {};
  let explanation: Record<string, unknown> = {};
  if (keep.length === prepared.groups.length) {
    // Every group takes part: no subset to build or map back.
    const output = estimator.compute(prepared, own as never);
    for (let s = 0; s < prepared.size; s++) advantages[s] = output.advantages[s] * prepared.weights[prepared.groupOf[s]];
    kept.fill(true);
    Object.assign(perSequence, output.perSequence);
    explanation = output.explanation ?? {};
  } else if (keep.length > 0) {
    const subset = selectGroups(prepared, keep);
    const output = estimator.compute(subset.batch, own as never);
    for (let k = 0; k < subset.batch.size; k++) {
      const s = subset.sequences[k];
      advantages[s] = output.advantages[k] * prepared.weights[prepared.groupOf[s]];
      kept[s] = true;
    }
    for (const [key, values] of Object.entries(output.perSequence ?? {})) {
      const full = new Float64Array(prepared.size);
      for (let k = 0; k < values.length; k++) full[subset.sequences[k]] = values[k];
      perSequence[key] = full;
    }
    explanation = output.explanation ?? {};
  }
  return { estimator: estimator.name, advantages, scores: prepared.scores, kept, groups, perSequence, explanation };
}
