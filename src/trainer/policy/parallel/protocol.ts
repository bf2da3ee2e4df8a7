/**
 * What the main thread and the gradient worker share: the worker's start-up data, one job message, and the
 * shared memory the worker answers through (the main thread waits on it with Atomics.wait, so a training step
 * stays synchronous).
 */
import type { PolicyArrays } from '../policy.js';
import type { GeneralConfig } from '../general/config.js';
import type { ShardJob } from './shardGradient.js';

/** Slots of the shared control array (Int32). */
export const CONTROL = {
  /** 0 while starting, 1 ready, -1 failed to start. */
  ready: 0,
  /** Id of the last job the worker finished (successfully or not); the main thread waits on this slot. */
  finished: 1,
  /** 1 when that job succeeded, 0 when it failed. */
  succeeded: 2,
} as const;
export const CONTROL_SLOTS = 3;

/** Terms a job may report (the longest of POLICY_GRADIENT_TERMS and SUPERVISED_TERMS). */
export const MAX_TERMS = 8;

export interface WorkerSetup {
  config: GeneralConfig;
  /** Int32 [CONTROL_SLOTS]. */
  control: SharedArrayBuffer;
  /** Float32 [weights]: the job's gradient. */
  gradient: SharedArrayBuffer;
  /** Float64 [MAX_TERMS]: the job's terms. */
  terms: SharedArrayBuffer;
}

export interface WorkerJob {
  id: number;
  weights: PolicyArrays;
  job: ShardJob;
}

/** What the worker posts besides the shared memory: why it failed (for the log). */
export interface WorkerNotice {
  error: string;
}
