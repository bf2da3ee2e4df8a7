/**
 * The main thread's handle on the gradient worker (worker.ts): starts it, hands it one shard per step and waits
 * for the answer in shared memory (Atomics.wait), so `trainStep` stays synchronous. The worker is a thread of
 * this process, unref'd (it never keeps the process alive) and terminated by `terminate`; it is declared broken,
 * and never used again, when it fails to start, fails a job, exits or does not answer in time. The caller then
 * computes the shard itself: the result is the same, only slower.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { resolveAtRuntime } from '../../backend/index.js';
import type { PolicyArrays } from '../policy.js';
import type { GeneralConfig } from '../general/config.js';
import { CONTROL, CONTROL_SLOTS, MAX_TERMS, type WorkerJob, type WorkerNotice, type WorkerSetup } from './protocol.js';
import { type ShardJob, gradientLayout } from './shardGradient.js';

/** The worker's script: the bundle's dist/gradientWorker.js, or worker.ts when running from source (tsx). */
export function defaultWorkerScript(): string | null {
  for (const candidate of [path.join(__dirname, 'gradientWorker.js'), path.join(__dirname, 'worker.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * A worker on `script`. From source (worker.ts) the thread does not inherit tsx's loader hooks (Node 20), so it
 * first installs tsx's require hook, then requires the script.
 */
function spawn(script: string, options: WorkerOptions): Worker {
  if (!script.endsWith('.ts')) return new Worker(script, options);
  const bootstrap = `require(${JSON.stringify(resolveAtRuntime('tsx/cjs'))}); require(${JSON.stringify(script)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}

export interface WorkerAnswer {
  /** The shard's flat gradient (a view on shared memory: read it before the next job). */
  gradient: Float32Array;
  terms: number[];
}

export class GradientWorker {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  private readonly gradient: Float32Array;
  private readonly terms: Float64Array;
  private nextId = 1;
  private pending: { id: number; terms: number } | null = null;
  private broken: string | null = null;
  /** Jobs the worker finished successfully. */
  jobsDone = 0;

  private constructor(script: string, config: GeneralConfig, private readonly log: (line: string) => void) {
    const setup: WorkerSetup = {
      config,
      control: new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT),
      gradient: new SharedArrayBuffer(gradientLayout(config).size * Float32Array.BYTES_PER_ELEMENT),
      terms: new SharedArrayBuffer(MAX_TERMS * Float64Array.BYTES_PER_ELEMENT),
    };
    this.control = new Int32Array(setup.control);
    this.gradient = new Float32Array(setup.gradient);
    this.terms = new Float64Array(setup.terms);
    this.worker = spawn(script, { workerData: setup });
    this.worker.on('message', (notice: WorkerNotice) => this.log(notice.error));
    this.worker.on('error', (error) => this.fail(`gradient worker error: ${error.message.split('\n')[0]}`));
    this.worker.on('exit', (code) => this.fail(`gradient worker exited (code ${code})`));
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  /** Starts a worker for `config`, or returns null (with the reason logged) when none can start. */
  static start(config: GeneralConfig, script: string | null, log: (line: string) => void): GradientWorker | null {
    if (!script || !existsSync(script)) {
      log(`gradient worker: no script${script ? ` at ${script}` : ''}; gradients on one thread`);
      return null;
    }
    try {
      return new GradientWorker(script, config, log);
    } catch (error) {
      log(`gradient worker could not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; gradients on one thread`);
      return null;
    }
  }

  /** Ready for a job (started, not broken, nothing pending). */
  get ready(): boolean {
    if (Atomics.load(this.control, CONTROL.ready) === -1) this.fail('gradient worker failed to start');
    return this.broken === null && this.pending === null && Atomics.load(this.control, CONTROL.ready) === 1;
  }

  /** Resolves once the worker is ready (true) or cannot be (false), waiting at most `timeoutMs`. */
  async whenReady(timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.broken === null && Atomics.load(this.control, CONTROL.ready) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.ready;
  }

  /** Hands the worker one shard with these weights (transferred: do not reuse them); false when it is not ready. */
  submit(weights: PolicyArrays, job: ShardJob, terms: number): boolean {
    if (!this.ready) return false;
    const id = this.nextId++;
    const request: WorkerJob = { id, weights, job };
    try {
      this.worker.postMessage(request, Object.values(weights).map((w) => w.buffer as ArrayBuffer));
    } catch (error) {
      this.fail(`gradient worker: could not send a job: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
    this.pending = { id, terms };
    return true;
  }

  /** Waits (blocking this thread, at most `timeoutMs`) for the submitted job; null when it failed or timed out. */
  collect(timeoutMs: number): WorkerAnswer | null {
    const pending = this.pending;
    if (!pending) return null;
    this.pending = null;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const finished = Atomics.load(this.control, CONTROL.finished);
      if (finished === pending.id) break;
      const left = deadline - Date.now();
      if (left <= 0 || this.broken !== null) {
        this.fail(`gradient worker did not answer within ${Math.round(timeoutMs / 1000)} s`);
        return null;
      }
      Atomics.wait(this.control, CONTROL.finished, finished, Math.min(left, 1000));
    }
    if (Atomics.load(this.control, CONTROL.succeeded) !== 1) {
      this.fail('gradient worker failed a job');
      return null;
    }
    this.jobsDone++;
    return { gradient: this.gradient, terms: Array.from(this.terms.subarray(0, pending.terms)) };
  }

  private fail(reason: string): void {
    if (this.broken !== null) return;
    this.broken = reason;
    this.log(`${reason}; gradients on one thread from now on`);
    void this.worker.terminate();
  }

  /** Stops the worker (idempotent). */
  async terminate(): Promise<void> {
    if (this.broken === null) this.broken = 'terminated';
    await this.worker.terminate();
  }
}
