/** What every advantage estimator is: a named function from a prepared batch to one advantage per sequence. */
import type { PreparedBatch } from '../batch.js';
import type { OptionSchema } from '../options.js';

export interface EstimatorOutput {
  /** One advantage per sequence of the batch. */
  advantages: Float64Array;
  /** Further per-sequence arrays that explain the result (e.g. Durian's three components). */
  perSequence?: Record<string, Float64Array>;
  /** Prompt- and bucket-level explanation, JSON-serialisable. */
  explanation?: Record<string, unknown>;
}

export interface Estimator<O = Record<string, unknown>> {
  name: string;
  /** One line: what it computes. */
  summary: string;
  /** Paper or code it reproduces. */
  reference: string;
  needs: { visualEntropy?: boolean; logprob?: boolean };
  options: OptionSchema<O>;
  compute(batch: PreparedBatch, options: O): EstimatorOutput;
}

/** Per-group statistics most estimators start from. */
export interface GroupStats {
  size: Int32Array;
  mean: Float64Array;
  /** Unbiased std; 0 for singletons and zero-variance groups. */
  std: Float64Array;
  /** 1 when every reward of the group is equal (singletons included). */
  zeroVariance: Uint8Array;
}
