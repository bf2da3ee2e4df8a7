/** The real `durian` CLI bundle (dist/cli.js, built by `npm test` before the tests run) as a child process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

const cli = path.resolve(__dirname, '../../dist/cli.js');

function run(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, lines: result.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('durian advantages', () => {
  it('computes one JSON line per batch, with the estimator explanation', () => {
    const lines = [
      { estimator: 'grpo', index: ['p0', 'p0'], scores: [0, 1] },
      {
        estimator: 'durian',
        options: { reasoningBins: 2, weights: [0.1, 0.2, 0.7] },
        index: ['a', 'a', 'b', 'b'],
        scores: [1, 0, 1, 1],
        visualEntropy: [1, 1, 2, 2],
        logprob: [-0.2, -0.4, -0.1, -0.1],
      },
    ];
    const { code, lines: out } = run(['advantages'], lines.map((l) => JSON.stringify(l)).join('\n'));
    assert.equal(code, 0);
    assert.equal(out.length, 2);
    assert.deepEqual(out[0].advantages.map((a: number) => Number(a.toFixed(8))), [-0.70710578, 0.70710578]);
    assert.equal(out[1].estimator, 'durian');
    assert.equal(out[1].advantages.length, 4);
    assert.deepEqual(Object.keys(out[1].components).sort(), ['grpo', 'perceptual', 'reasoning']);
    assert.equal(out[1].prompts.length, 2);
    assert.ok(Array.isArray(out[1].buckets.perceptual));
  });

  it('answers a bad line with an error naming the line and field, runs the others, and exits 1', () => {
    const input = [
      '{"estimator": "grpo", "index": ["a", "a"], "scores": [1, 0]}',
      '{"estimator": "grpo", "index": ["a", "a"], "scores": [1, NaN]}',
      '{"estimator": "grpo", "index": ["a", "a"], "scores": [1, null]}',
      '',
      '{"estimator": "nope", "index": ["a"], "scores": [1]}',
      '{"index": ["a"], "scores": [1]}',
      '[1, 2]',
      '{"estimator": "durian", "index": ["a", "a"], "scores": [1, 0]}',
      '{"estimator": "rloo", "index": ["a", "a"], "scores": [1, 0]}',
    ].join('\n');
    const { code, lines, stderr } = run(['advantages'], input);
    assert.equal(code, 1);
    assert.equal(lines.length, 8);
    assert.ok(Array.isArray(lines[0].advantages));
    assert.match(lines[1].error, /^line 2: invalid JSON/);
    assert.equal(lines[2].error, 'line 3: scores[1]: must be a finite number, got null');
    assert.match(lines[3].error, /^line 5: estimator: unknown estimator "nope"/);
    assert.match(lines[4].error, /^line 6: estimator: is missing/);
    assert.match(lines[5].error, /^line 7: expected a JSON object/);
    assert.match(lines[6].error, /^line 8: visualEntropy: is required by this estimator/);
    assert.deepEqual(lines[7].advantages, [1, -1]);
    assert.match(stderr, /6 of 8 lines failed/);
  });

  it('reads --input FILE and runs 500 batches of 64 sequences in one process', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-cli-'));
    const file = path.join(dir, 'batches.jsonl');
    const batches: string[] = [];
    for (let b = 0; b < 500; b++) {
      const index = Array.from({ length: 64 }, (_, i) => `p${Math.floor(i / 8)}`);
      const scores = index.map((_, i) => ((i * 7 + b) % 3 === 0 ? 1 : 0));
      batches.push(JSON.stringify({ estimator: b % 2 ? 'durian' : 'grpo', index, scores, visualEntropy: index.map((_, i) => Math.floor(i / 8)), logprob: index.map((_, i) => -(i % 8) / 8) }));
    }
    writeFileSync(file, `${batches.join('\n')}\n`);
    const { code, lines } = run(['advantages', '--input', file]);
    assert.equal(code, 0);
    assert.equal(lines.length, 500);
    for (const line of lines) assert.equal(line.advantages.length, 64);
  });

  it('fails clearly on a missing input file and an unknown command', () => {
    const missing = run(['advantages', '--input', '/nonexistent/batches.jsonl']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ENOENT.*\/nonexistent\/batches.jsonl/);
    const unknown = run(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });

  it('--output to a path that cannot be written: one clean line, exit 2, no stack', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-adv-out-'));
    const line = JSON.stringify({ estimator: 'grpo', index: ['p0', 'p0'], scores: [0, 1] });
    const blocker = path.join(dir, 'file');
    writeFileSync(blocker, 'x'); // a file where a folder should be: fails even for root
    for (const [target, why] of [[path.join(dir, 'missing', 'out.jsonl'), 'its folder does not exist'], [dir, 'it is a folder'], [path.join(blocker, 'out.jsonl'), 'ENOTDIR']] as const) {
      const result = run(['advantages', '--output', target], line);
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line, got:\n${result.stderr}`);
      assert.ok(lines[0].startsWith(`durian: --output: cannot write ${target}: `) && lines[0].includes(why), lines[0]);
    }
  });

  it('lists the estimators with their options and defaults', () => {
    const { code, stdout } = spawnSync(process.execPath, [cli, 'advantages', '--estimators'], { encoding: 'utf8' }) as unknown as { code: number; stdout: string };
    assert.equal(code ?? 0, 0);
    assert.match(stdout, /durian: /);
    assert.match(stdout, /reasoningBins \(default 12\)/);
    assert.match(stdout, /weights \(default \[0\.1,0\.2,0\.7\]\)/);
  });
});

describe('durian demo and bench', () => {
  it('demo prints the estimator table and Durian buckets', () => {
    const result = spawnSync(process.execPath, [cli, 'demo', '--prompts', '32'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    for (const name of ['grpo', 'dr_grpo', 'rloo', 'batch_std', 'durian']) assert.match(result.stdout, new RegExp(`^${name} `, 'm'));
    assert.match(result.stdout, /perceptual \(entropy\)\s+low/);
    assert.match(result.stdout, /A_grpo = -2\.4749/);
  });

  it('bench prints its table and writes JSON with ratios', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-bench-'));
    const json = path.join(dir, 'bench.json');
    const result = spawnSync(process.execPath, [cli, 'bench', '--suite', 'core', '--repeats', '5', '--json', json], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /durian advantages, 512 x 8/);
    const record = JSON.parse(readFileSync(json, 'utf8'));
    const durian = record.rows.find((r: { name: string }) => r.name.startsWith('durian'));
    assert.ok(durian.ratio > 0 && durian.baseline.name === 'grpo');
  });
});
