/**
 * Speed of the general policy at P prompts x G samples (default 128 x 8): rollouts/s (ONNX) and update
 * samples/s (tfjs wasm), one JSON line per onnxruntime thread count.
 * Usage: node --import tsx scripts/bench-general-policy.ts [prompts] [group] [threads,threads...]
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/trainer/backend/index.js';
import { benchGeneralPolicy } from '../src/trainer/policy/general/bench.js';

async function main(): Promise<void> {
  const [prompts = '128', group = '8', threadList = '1,2'] = process.argv.slice(2);
  const backend = await selectBackend({ backend: 'wasm' });
  const wasmThreads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  for (const threads of threadList.split(',').map(Number)) {
    const result = await benchGeneralPolicy({ prompts: Number(prompts), samplesPerPrompt: Number(group), threads });
    console.log(JSON.stringify({ backend: backend.device, wasmMultithread: wasmThreads, ...result }));
  }
}

void main();
