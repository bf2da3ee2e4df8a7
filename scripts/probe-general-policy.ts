/**
 * Learning sanity of the general policy: supervised warm-up on gold responses of the built-in tasks (the
 * warm-up split), with greedy held-out accuracy on the validation split every `evalEvery` seconds of
 * training, beside the blind score (the most common answer of each question text in the training draws).
 * Prints one JSON line per check. Times are wall-clock seconds of training (evaluation excluded) and the
 * process's CPU seconds (the machine may be shared).
 * Usage: node --import tsx scripts/probe-general-policy.ts [seconds=120] [evalEvery=20] [lr=0.002] [batch=64]
 */
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '../src/trainer/backend/index.js';
import { BuiltInTasks } from '../src/trainer/builtInTasks.js';
import { loadEncoder } from '../src/trainer/encoder/index.js';
import { evaluate } from '../src/trainer/evaluate.js';
import { GENERAL_POLICY } from '../src/trainer/policy/general/index.js';
import { Rng } from '../src/trainer/rng.js';

async function main(): Promise<void> {
  const [seconds = 120, evalEvery = 20, learningRate = 0.002, batchSize = 64] = process.argv.slice(2).map(Number);
  await selectBackend({ backend: 'wasm' });
  const encoder = await loadEncoder();
  const source = new BuiltInTasks(1, encoder, { cacheDirectory: path.join(os.homedir(), '.cache', 'durian-rl', 'features'), trainSize: 1000, validationSize: 512 });
  const validation = await source.get('validation', Array.from({ length: 512 }, (_, i) => i));
  const draws = 20_000;
  const rng = new Rng(5);
  // Blind score: the most common answer per question text, from the first 4096 training draws.
  const seen = await source.get('warmup', Array.from({ length: 4096 }, (_, i) => i));
  const counts = new Map<string, Map<string, number>>();
  for (const task of seen) {
    const answers = counts.get(task.question) ?? new Map<string, number>();
    answers.set(task.answer, (answers.get(task.answer) ?? 0) + 1);
    counts.set(task.question, answers);
  }
  let blind = 0;
  for (const task of validation) {
    const answers = counts.get(task.question);
    const best = answers ? [...answers].sort((a, b) => b[1] - a[1])[0][0] : null;
    if (best === task.answer) blind += 1;
  }
  const policy = await GENERAL_POLICY.create(source.shape, { seed: 1 });
  console.log(JSON.stringify({ policy: policy.describe().summary, parameters: policy.describe().parameters, blindScore: blind / validation.length, learningRate, batchSize }));
  const length = source.shape.maxResponseLength;
  let trainMs = 0;
  let samples = 0;
  let steps = 0;
  let nextCheck = 0;
  const cpuStart = process.cpuUsage();
  while (true) {
    if (trainMs >= nextCheck * 1000) {
      const result = await evaluate(policy, source, validation);
      const cpu = process.cpuUsage(cpuStart);
      console.log(JSON.stringify({ trainSeconds: +(trainMs / 1000).toFixed(1), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1), steps, samples, accuracy: result.accuracy, perLevel: result.perLevel }));
      nextCheck += evalEvery;
      if (trainMs >= seconds * 1000) break;
    }
    const tasks = await source.get('warmup', Array.from({ length: batchSize }, () => rng.int(draws)));
    const responses = new Int32Array(tasks.length * length);
    tasks.forEach((task, p) => responses.set(source.target(task), p * length));
    const start = performance.now();
    policy.supervisedStep({ ...source.inputs(tasks), responses, responseLength: length }, { learningRate, maxGradNorm: 1 });
    trainMs += performance.now() - start;
    samples += tasks.length;
    steps += 1;
  }
  await policy.dispose();
}

void main();
