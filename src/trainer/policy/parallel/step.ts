/**
 * Data-parallel gradient steps of the general policy on two threads: the batch is split into shards
 * (shards.ts, a fixed function of the batch), the gradient worker computes the second shard while this thread
 * computes the first, the shard gradients are summed in shard order (each loss is normalised for the whole
 * batch, so the sum is the batch's gradient), then clipped and applied once by Adam. When the worker is not
 * there (still starting, broken, another backend than wasm) or has lately been slower than one thread
 * (modeChooser.ts: busy cores), this thread computes every shard itself, in the same order, with the same
 * result: a seed gives the same update on one thread or two.
 */
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import type { Adam } from '../adam.js';
import type { BatchShape, PolicyBatch } from '../batch.js';
import type { PolicyArrays } from '../policy.js';
import type { GeneralConfig } from '../general/config.js';
import { GradientWorker, defaultWorkerScript } from './gradientWorker.js';
import { type GradientMode, ModeChooser } from './modeChooser.js';
import { type ShardJob, gradientLayout, shardGradient } from './shardGradient.js';
import { type ShardRange, shardRanges, sliceBatch } from './shards.js';

/** The worker waits at least this long, and at least WAIT_FACTOR times this thread's own shard. */
const MIN_WAIT_MS = 60_000;
const WAIT_FACTOR = 20;

export interface ParallelOptions {
  /**
   * 'auto' (default): start the worker where it may help and use it on the steps where it has been faster
   * (modeChooser.ts); 'always': use it on every step it is ready for; 'never': every shard on this thread.
   */
  worker?: 'auto' | 'always' | 'never';
  /** The worker's script (default: defaultWorkerScript()). */
  script?: string | null;
  /** Where the worker's failures are reported (default: a warning line on stderr). */
  log?: (line: string) => void;
}

/** What a step needs of the policy: its config, variables (by weight name), Adam and current weights. */
export interface ParallelTrainable {
  config: GeneralConfig;
  variables: Record<string, tf.Variable>;
  optimizer: Adam;
  getWeights(): PolicyArrays;
}

/** Whether batches are split into shards: on the wasm backend (the one the worker runs), where a second core helps. */
function splitsBatches(): boolean {
  return tf.getBackend() === 'wasm';
}

/** The policy's gradient worker, started on first use where it can help. */
export class ParallelGradients {
  private worker: GradientWorker | null = null;
  private started = false;
  private readonly chooser = new ModeChooser();
  /** The first step the worker takes warms up its kernels: not a measure of its speed. */
  private workerWarm = false;
  private lastThreads = 1;

  constructor(private readonly config: GeneralConfig, private readonly options: ParallelOptions = {}) {}

  private log(line: string): void {
    (this.options.log ?? ((text: string) => process.stderr.write(`warning: ${text}\n`)))(line);
  }

  /** The worker, starting it on the first call when it is wanted and may help (wasm backend, >= 2 cores). */
  private ensureWorker(): GradientWorker | null {
    if (!this.started) {
      this.started = true;
      if (this.options.worker !== 'never' && splitsBatches() && availableParallelism() >= 2) {
        const script = this.options.script === undefined ? defaultWorkerScript() : this.options.script;
        this.worker = GradientWorker.start(this.config, script, (line) => this.log(line));
      }
    }
    return this.worker;
  }

  /** Starts the worker now and resolves once it is ready (true) or cannot be (false). */
  async prepare(): Promise<boolean> {
    const worker = this.ensureWorker();
    return worker ? worker.whenReady() : false;
  }

  /** Whether the worker is started and ready for a shard. */
  get workerReady(): boolean {
    return this.worker?.ready ?? false;
  }

  /** Threads the last step's gradient was computed on: 2 when the worker took a shard, else 1. */
  get threads(): number {
    return this.lastThreads;
  }

  /** Shards the worker has computed so far. */
  get workerShards(): number {
    return this.worker?.jobsDone ?? 0;
  }

  /**
   * One step on a checked batch (`shape`: its checkBatch result): the gradient of `jobOf(shard batch)` over every
   * shard, summed in shard order, applied by Adam at `learningRate` with global-norm clip `maxGradNorm`. Returns
   * the shards' terms summed and the gradient norm before clipping.
   */
  step(policy: ParallelTrainable, batch: PolicyBatch, shape: BatchShape, jobOf: (shard: PolicyBatch, range: ShardRange) => ShardJob, termCount: number, learningRate: number, maxGradNorm: number): { terms: number[]; gradNorm: number } {
    const ranges = splitsBatches() ? shardRanges(batch.promptIndex, shape.prompts, shape.sequences) : [{ from: 0, to: shape.sequences }];
    const jobs = ranges.map((range) => jobOf(ranges.length === 1 ? batch : sliceBatch(batch, range), range));
    const { size, offsets } = gradientLayout(this.config);
    const terms = new Array<number>(termCount).fill(0);
    const addTerms = (values: readonly number[]) => values.forEach((v, i) => (terms[i] += v));
    // The worker takes the last shard while this thread computes the others (with two shards: one each).
    const worker = jobs.length > 1 ? this.ensureWorker() : null;
    const mode: GradientMode = worker?.ready && (this.options.worker === 'always' || this.chooser.choose() === 'worker') ? 'worker' : 'local';
    const started = performance.now();
    const delegated = mode === 'worker' && worker !== null && worker.submit(policy.getWeights(), jobs[jobs.length - 1], termCount);
    const gradients: Float32Array[] = [];
    let answered = false;
    try {
      for (const job of delegated ? jobs.slice(0, -1) : jobs) {
        const gradient = new Float32Array(size);
        addTerms(shardGradient(this.config, policy.variables, job, gradient));
        gradients.push(gradient);
      }
    } finally {
      // Collected even when this thread's shard failed: the worker must not be left with an answer pending.
      if (delegated && worker) {
        const answer = worker.collect(Math.max(MIN_WAIT_MS, WAIT_FACTOR * (performance.now() - started)));
        if (answer) {
          addTerms(answer.terms);
          gradients.push(answer.gradient);
          answered = true;
        }
      }
    }
    if (gradients.length < jobs.length) {
      // The worker failed or timed out: its shard on this thread, with the same result.
      const gradient = new Float32Array(size);
      addTerms(shardGradient(this.config, policy.variables, jobs[jobs.length - 1], gradient));
      gradients.push(gradient);
    }
    const total = gradients[0];
    for (const gradient of gradients.slice(1)) for (let i = 0; i < size; i++) total[i] += gradient[i];
    this.lastThreads = answered ? 2 : 1;
    if (answered && !this.workerWarm) this.workerWarm = true;
    else if (worker?.ready) this.chooser.record(answered ? 'worker' : 'local', performance.now() - started, shape.sequences);
    const byName = new Map<string, Float32Array>();
    for (const [name, offset] of offsets) byName.set(name, total.subarray(offset, offset + policy.variables[name].size));
    return { terms, gradNorm: policy.optimizer.applyArrays(byName, learningRate, maxGradNorm) };
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.started = true;
    if (worker) await worker.terminate();
  }
}
