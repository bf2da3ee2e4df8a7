/**
 * General-policy benchmark (issue 14 item 5): the general transformer policy at P prompts x G samples (default
 * 128 x 8, random patch features and questions of the built-in suite's shape, every sequence running to Lr
 * tokens), side by side in one run with its PyTorch twin (bench/pytorch/general_step_bench.py, same shape and
 * parameter count, spawned on /usr/bin/python3):
 *   - rollouts/s (onnxruntime sampler, KV cache);
 *   - update samples/s (one tfjs trainStep, GRPO defaults with the k3 KL term);
 *   - one whole RL step, samples/s: rollouts, reward (the built-in suite's scoreResponse), difficulty
 *     (confidence = the sampler's mean token log-prob; visual entropy per prompt), advantages (src/core,
 *     'durian'), update.
 * The two sides alternate, `rounds` rounds each, medians compared; PyTorch runs at 1 and 2 torch threads and each
 * measure is compared with its faster setting. The TypeScript side rolls out at 1 and 2 onnxruntime threads and
 * uses the faster for the whole step; its update runs on two threads (tfjs wasm on this one plus the gradient
 * worker, src/trainer/policy/parallel) when the worker starts. The rows name the threads of each side. Targets: rollouts >= 1.0x, update >= 0.5x,
 * whole step >= 0.5x PyTorch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { computeAdvantages, median } from '../../core/index.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { Rng } from '../../trainer/rng.js';
import { BUILT_IN_SHAPE } from '../../trainer/policy/general/bench.js';
import { GeneralPolicy, generalParameterCount, resolveGeneralConfig } from '../../trainer/policy/general/index.js';
import { timed } from '../../trainer/policy/bench.js';
import { repeatPrompts } from '../../trainer/policy/sampler.js';
import { GRPO_TRAIN_DEFAULTS } from '../../trainer/policy/update.js';
import { scoreResponse } from '../../trainer/tasks/index.js';
import type { BenchRow, BenchSuite } from './types.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'general_step_bench.py';
const ANSWERS = [...Array.from({ length: 16 }, (_, n) => String(n)), 'yes', 'no'];

/** Per-second rates of one side, and what it ran on. */
export interface GeneralSpeed {
  rolloutPerSecond: number;
  updatePerSecond: number;
  stepPerSecond: number;
  framework: string;
  /** Threads of the rollouts (TypeScript: onnxruntime intra-op threads; PyTorch: torch threads). */
  threads: number;
  /** TypeScript only: tfjs threads of the update (2 with the gradient worker). */
  updateThreads?: number;
  parameters: number;
}

export interface GeneralBenchShape {
  prompts: number;
  group: number;
  /** onnxruntime intra-op thread counts tried for the TypeScript sampler; the fastest rolls out the whole step. */
  samplerThreads: number[];
  /** torch thread counts tried; each measure is compared with the fastest (on a loaded machine 1 thread can win). */
  torchThreads: number[];
  /** Timed repetitions of each measure per round. */
  repeats: number;
  /** Rounds of each side, alternating; medians over the rounds are compared. */
  rounds: number;
}

/** The default shape (the paper's regime) and the quick one (`durian bench --quick`). */
export function generalBenchShape(quick: boolean): GeneralBenchShape {
  return quick
    ? { prompts: 16, group: 8, samplerThreads: [1, 2], torchThreads: [1, 2], repeats: 2, rounds: 1 }
    : { prompts: 128, group: 8, samplerThreads: [1, 2], torchThreads: [1, 2], repeats: 3, rounds: 2 };
}


/** One round of the TypeScript side: rollouts at each sampler thread count, then update and whole step with the fastest. */
async function measureTypescript(shape: GeneralBenchShape, tfjsDevice: string, log: (line: string) => void): Promise<GeneralSpeed> {
  const policyShape = BUILT_IN_SHAPE;
  const config = resolveGeneralConfig(policyShape, { seed: 7 });
  const policies = shape.samplerThreads.map((threads) => ({ threads, policy: GeneralPolicy.create(config, undefined, { samplerThreads: threads }) }));
  try {
    const rng = new Rng(11);
    const q = policyShape.maxQuestionLength;
    const prompts = {
      patches: Float32Array.from({ length: shape.prompts * policyShape.patchCount * policyShape.patchDim }, () => rng.next()),
      questions: Int32Array.from({ length: shape.prompts * q }, (_, i) => (i % q < 9 ? 1 + rng.int(policyShape.questionVocabSize - 1) : 0)),
      questionLength: q,
    };
    const answers = Array.from({ length: shape.prompts }, (_, p) => ({ answer: ANSWERS[p % ANSWERS.length] }));
    const entropy = Array.from({ length: shape.prompts }, () => rng.next());
    const promptIndex = repeatPrompts(shape.prompts, shape.group);
    const b = promptIndex.length;
    const trainConfig = { ...GRPO_TRAIN_DEFAULTS, learningRate: 1e-5 };
    const rolloutWith = (policy: GeneralPolicy) => () => policy.sample(prompts, { random: () => rng.next(), promptIndex, ignoreEos: true });
    const rolloutMs = new Map<number, number>();
    for (const { threads, policy } of policies) rolloutMs.set(threads, await timed(rolloutWith(policy), 1, shape.repeats));
    const fastest = policies.reduce((best, entry) => ((rolloutMs.get(entry.threads) as number) < (rolloutMs.get(best.threads) as number) ? entry : best));
    log(`general-policy bench, TypeScript rollouts: ${policies.map(({ threads }) => `${((b / (rolloutMs.get(threads) as number)) * 1000).toFixed(1)}/s with ${threads} onnxruntime thread${threads === 1 ? '' : 's'}`).join(', ')}`);
    const policy = fastest.policy;
    await policy.prepareTraining();
    const rollout = rolloutWith(policy);
    const fixed = await rollout();
    const fixedBatch = { ...prompts, responses: fixed.responses, responseLength: fixed.responseLength, promptIndex };
    const fixedAdvantages = Float64Array.from({ length: b }, () => rng.normal());
    const wholeStep = async () => {
      const out = await rollout();
      const scores: number[] = [];
      for (let s = 0; s < b; s++) {
        scores.push(scoreResponse(out.responses.subarray(s * out.responseLength, (s + 1) * out.responseLength), answers[promptIndex[s]]).reward);
      }
      const index = Array.from(promptIndex);
      const { advantages } = computeAdvantages('durian', { index, scores, visualEntropy: index.map((p) => entropy[p]), logprob: Array.from(out.sequenceLogprobs) });
      const batch = { ...prompts, responses: out.responses, responseLength: out.responseLength, promptIndex };
      policy.trainStep(batch, advantages, out.tokenLogprobs, out.tokenLogprobs, trainConfig);
    };
    const shardsBefore = policy.parallel.workerShards;
    const updateMs = await timed(() => policy.trainStep(fixedBatch, fixedAdvantages, fixed.tokenLogprobs, fixed.tokenLogprobs, trainConfig), 1, shape.repeats);
    const updateThreads = policy.parallel.threads;
    const stepMs = await timed(wholeStep, 1, shape.repeats);
    log(`general-policy bench, TypeScript: the gradient worker (${policy.parallel.workerReady ? 'ready' : 'not running'}) took a shard in ${policy.parallel.workerShards - shardsBefore} of ${2 * (1 + shape.repeats)} updates (it is used where it has been faster)`);
    return {
      rolloutPerSecond: (b / (rolloutMs.get(fastest.threads) as number)) * 1000,
      updatePerSecond: (b / updateMs) * 1000,
      stepPerSecond: (b / stepMs) * 1000,
      framework: `onnxruntime, tfjs ${tfjsDevice}`,
      threads: fastest.threads,
      updateThreads,
      parameters: generalParameterCount(config),
    };
  } finally {
    for (const { policy } of policies) await policy.dispose();
  }
}

function pytorchScript(): string | null {
  for (const candidate of [path.join(__dirname, '..', 'bench', 'pytorch', SCRIPT), path.join(process.cwd(), 'bench', 'pytorch', SCRIPT)]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** One round of the PyTorch side, or why it cannot run. */
function measurePytorch(script: string, shape: GeneralBenchShape, threads: number): GeneralSpeed | string {
  if (!existsSync(PYTHON)) return `no ${PYTHON} (apt-get install python3-torch libopenblas0-openmp)`;
  const args = [script, '--prompts', String(shape.prompts), '--group', String(shape.group), '--threads', String(threads), '--repeats', String(shape.repeats)];
  const result = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 900_000 });
  if (result.status !== 0) {
    if (/No module named 'torch'/.test(result.stderr ?? '')) return `python3-torch is not installed for ${PYTHON} (apt-get install python3-torch libopenblas0-openmp)`;
    return `${PYTHON} ${SCRIPT} failed: ${(result.stderr ?? '').trim().split('\n').pop() ?? `exit code ${result.status}`}`;
  }
  return JSON.parse(result.stdout.trim().split('\n').pop() as string) as GeneralSpeed;
}

const MEASURES = [
  { key: 'rolloutPerSecond', name: 'rollouts', unit: 'sequences/s', target: 1.0 },
  { key: 'updatePerSecond', name: 'update (PG step with KL)', unit: 'samples/s', target: 0.5 },
  { key: 'stepPerSecond', name: 'whole RL step', unit: 'samples/s', target: 0.5 },
] as const;

/**
 * The suite's rows from the medians of each side (pure: the format is tested without timing anything). `pytorch`
 * holds one entry per torch thread count; each measure is compared with the fastest of them.
 */
export function generalBenchRows(shape: GeneralBenchShape, ours: GeneralSpeed, pytorch: readonly GeneralSpeed[], missing: string | null): BenchRow[] {
  const size = `${shape.prompts} x ${shape.group}`;
  return MEASURES.map(({ key, name, unit, target }) => {
    const tfjs = key === 'rolloutPerSecond' || ours.updateThreads === undefined ? '' : `, tfjs ${ours.updateThreads} thread${ours.updateThreads === 1 ? '' : 's'}`;
    const row: BenchRow = { suite: 'general-policy', name: `${name}, ${size} (onnxruntime ${ours.threads} thread${ours.threads === 1 ? '' : 's'}${tfjs})`, value: ours[key], unit };
    const theirs = pytorch.length === 0 ? null : pytorch.reduce((best, speed) => (speed[key] > best[key] ? speed : best));
    if (theirs) {
      row.baseline = { name: `${theirs.framework}, ${theirs.threads} thread${theirs.threads === 1 ? '' : 's'}`, value: theirs[key] };
      row.ratio = ours[key] / theirs[key];
      row.target = `>= ${target}x PyTorch`;
      row.pass = row.ratio >= target;
      if (theirs.parameters !== ours.parameters) row.note = `parameters differ: ${ours.parameters} vs ${theirs.parameters}`;
    } else {
      row.target = `>= ${target}x PyTorch`;
      row.note = `no PyTorch baseline: ${missing}`;
    }
    return row;
  });
}

function medianSpeed(rounds: GeneralSpeed[]): GeneralSpeed {
  return {
    ...rounds[0],
    rolloutPerSecond: median(rounds.map((r) => r.rolloutPerSecond)),
    updatePerSecond: median(rounds.map((r) => r.updatePerSecond)),
    stepPerSecond: median(rounds.map((r) => r.stepPerSecond)),
  };
}

export const generalPolicySuite: BenchSuite = {
  name: 'general-policy',
  description: 'general policy, 128 prompts x 8 (16 x 8 with --quick): rollouts, update, whole RL step vs its PyTorch twin',
  async run({ quick, log }) {
    const shape = generalBenchShape(quick);
    const backend = await selectBackend({});
    const script = pytorchScript();
    let missing: string | null = script ? null : `bench/pytorch/${SCRIPT} not found`;
    const ours: GeneralSpeed[] = [];
    const theirs = new Map<number, GeneralSpeed[]>(shape.torchThreads.map((t) => [t, []]));
    for (let round = 0; round < shape.rounds; round++) {
      const speed = await measureTypescript(shape, backend.device, log);
      log(`general-policy bench, TypeScript round ${round + 1}: update ${speed.updatePerSecond.toFixed(1)}/s (tfjs ${speed.updateThreads} thread(s)), whole step ${speed.stepPerSecond.toFixed(1)}/s`);
      ours.push(speed);
      for (const threads of shape.torchThreads) {
        if (missing || !script) break;
        const result = measurePytorch(script, shape, threads);
        if (typeof result === 'string') missing = result;
        else theirs.get(threads)?.push(result);
      }
    }
    const pytorch = missing ? [] : [...theirs.values()].filter((rounds) => rounds.length > 0).map(medianSpeed);
    for (const speed of pytorch) {
      log(`general-policy bench: PyTorch, torch threads ${speed.threads}: rollouts ${speed.rolloutPerSecond.toFixed(1)}/s, update ${speed.updatePerSecond.toFixed(1)}/s, whole step ${speed.stepPerSecond.toFixed(1)}/s`);
    }
    if (missing) log(`general-policy bench: PyTorch side skipped: ${missing}`);
    const ourSpeed = medianSpeed(ours);
    log(`general-policy bench, ${shape.prompts} prompts x ${shape.group}: TypeScript ${ourSpeed.parameters} parameters, onnxruntime intra-op threads ${ourSpeed.threads} (fastest of ${shape.samplerThreads.join(', ')}), tfjs ${backend.device} + gradient worker: ${ourSpeed.updateThreads ?? 1} thread(s) computing the update` +
      (pytorch.length ? `; PyTorch ${pytorch[0].parameters} parameters, torch threads tried ${shape.torchThreads.join(', ')} (each measure against the fastest)` : ''));
    return generalBenchRows(shape, ourSpeed, pytorch, missing);
  },
};
