/**
 * The gradient worker (a worker_thread with its own tfjs wasm backend): holds a copy of the general policy's
 * variables, and for each job sets them to the job's weights, computes the shard's gradient (shardGradient.ts)
 * and writes it to the shared memory of protocol.ts. Bundled as dist/gradientWorker.js.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../../backend/index.js';
import { generalParameterSpecs } from '../general/parameters.js';
import { CONTROL, type WorkerJob, type WorkerNotice, type WorkerSetup } from './protocol.js';
import { shardGradient } from './shardGradient.js';

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

async function serve(setup: WorkerSetup): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const control = new Int32Array(setup.control);
  const gradient = new Float32Array(setup.gradient);
  const terms = new Float64Array(setup.terms);
  const variables: Record<string, tf.Variable> = {};
  try {
    await selectBackend({ backend: 'wasm' });
    for (const [name, spec] of generalParameterSpecs(setup.config)) variables[name] = tf.variable(tf.zeros(spec.shape, 'float32'), true);
  } catch (error) {
    port.postMessage({ error: `gradient worker could not start tfjs wasm: ${message(error)}` } satisfies WorkerNotice);
    Atomics.store(control, CONTROL.ready, -1);
    Atomics.notify(control, CONTROL.ready);
    return;
  }
  port.on('message', (request: WorkerJob) => {
    let ok = 1;
    try {
      for (const [name, variable] of Object.entries(variables)) tf.tidy(() => variable.assign(tf.tensor(request.weights[name], variable.shape, 'float32')));
      const values = shardGradient(setup.config, variables, request.job, gradient);
      terms.fill(0);
      terms.set(values);
    } catch (error) {
      ok = 0;
      port.postMessage({ error: `gradient worker job ${request.id} failed: ${message(error)}` } satisfies WorkerNotice);
    }
    Atomics.store(control, CONTROL.succeeded, ok);
    Atomics.store(control, CONTROL.finished, request.id);
    Atomics.notify(control, CONTROL.finished);
  });
  Atomics.store(control, CONTROL.ready, 1);
  Atomics.notify(control, CONTROL.ready);
}

void serve(workerData as WorkerSetup);
