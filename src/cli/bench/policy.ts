/**
 * Policy benchmark (issue "The trainer"): rollout throughput (ONNX sampler, sequences/s) and update
 * throughput (one GRPO step in tfjs, samples/s) for 64 prompts x G = 8, each beside the identical model in
 * PyTorch (bench/pytorch/policy_bench.py, Debian's python3-torch via /usr/bin/python3) when it is installed.
 * The two run interleaved, three rounds each, medians compared. Targets: rollouts >= 0.8x, updates >= 0.3x.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { median } from '../../core/index.js';
import { selectBackend } from '../../trainer/backend/index.js';
import { benchPolicy } from '../../trainer/policy/index.js';
import type { BenchRow, BenchSuite } from './types.js';

interface Throughput {
  rolloutSequencesPerSecond: number;
  updateSamplesPerSecond: number;
  framework?: string;
  threads?: number;
}


function pytorchScript(): string | null {
  for (const candidate of [path.join(__dirname, '..', 'bench', 'pytorch', 'policy_bench.py'), path.join(process.cwd(), 'bench', 'pytorch', 'policy_bench.py')]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function runPytorch(script: string): Throughput | string {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return 'no /usr/bin/python3 (apt-get install python3-torch libopenblas0-openmp)';
  const result = spawnSync(python, [script, '--threads', '2'], { encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    const reason = /No module named 'torch'/.test(result.stderr) ? 'python3-torch is not installed (apt-get install python3-torch libopenblas0-openmp)' : result.stderr.trim().split('\n').pop();
    return reason ?? `exit code ${result.status}`;
  }
  return JSON.parse(result.stdout.trim().split('\n').pop() as string) as Throughput;
}

export const policySuite: BenchSuite = {
  name: 'policy',
  description: 'rollouts and updates of the default policy, 64 prompts x 8, vs the same model in PyTorch',
  async run({ log }) {
    const backend = await selectBackend({});
    const script = pytorchScript();
    const ours: Throughput[] = [];
    const theirs: Throughput[] = [];
    let missing: string | null = script ? null : 'bench/pytorch/policy_bench.py not found';
    for (let round = 0; round < 3; round++) {
      ours.push(await benchPolicy({ prompts: 64, samplesPerPrompt: 8, repeats: 5 }));
      if (!missing && script) {
        const result = runPytorch(script);
        if (typeof result === 'string') missing = result;
        else theirs.push(result);
      }
    }
    const rollout = median(ours.map((o) => o.rolloutSequencesPerSecond));
    const update = median(ours.map((o) => o.updateSamplesPerSecond));
    const rows: BenchRow[] = [];
    const add = (name: string, value: number, baseline: number | undefined, target: number) => {
      const row: BenchRow = { suite: 'policy', name: `${name} (${backend.name})`, value, unit: name.startsWith('rollout') ? 'sequences/s' : 'samples/s' };
      if (baseline !== undefined) {
        row.baseline = { name: `${theirs[0]?.framework ?? 'pytorch'}, ${theirs[0]?.threads ?? '?'} threads`, value: baseline };
        row.ratio = value / baseline;
        row.target = `>= ${target}x PyTorch`;
        row.pass = row.ratio >= target;
      } else {
        row.note = `no PyTorch baseline: ${missing}`;
      }
      rows.push(row);
    };
    add('rollouts, 8 tokens', rollout, theirs.length ? median(theirs.map((t) => t.rolloutSequencesPerSecond)) : undefined, 0.8);
    add('update (GRPO step)', update, theirs.length ? median(theirs.map((t) => t.updateSamplesPerSecond)) : undefined, 0.3);
    if (missing) log(`policy bench: ${missing}`);
    return rows;
  },
};
