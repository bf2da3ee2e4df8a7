/**
 * `durian proxy` on a real run (the real CLI bundle): a 3-step general-policy run is trained, then its base
 * policy (from the cache the run built) and its final policy (its checkpoint) are measured; the per-level
 * grid, buckets and targets agree with the per-task records. Bad input gets one clear error line. The report's
 * arithmetic is also checked on records built by hand.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ProxyReport, type ProxyTaskRecord, proxyReport, proxyTables } from '../../src/cli/proxy.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');

function durian(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

type Report = ProxyReport & { tasks: ProxyTaskRecord[] };

function checkAgainstRecords(report: Report, n: number): void {
  assert.equal(report.tasks.length, n);
  const gridTasks = report.levels.grid.flat().reduce((sum, c) => sum + c.tasks, 0);
  assert.equal(gridTasks, n, 'every task sits in one cell of the level grid');
  for (const level of [0, 1, 2, 3]) {
    const members = report.tasks.filter((t) => t.perceptualLevel === level);
    const expected = members.length === 0 ? null : members.filter((t) => t.correct).length / members.length;
    assert.equal(report.levels.byPerceptual[level].accuracy, expected, `perceptual level ${level}`);
  }
  const accuracy = report.tasks.filter((t) => t.correct).length / n;
  assert.equal(report.accuracy, accuracy);
  assert.equal(report.targets.length, 4);
  for (const target of report.targets) assert.equal(target.met, target.value !== null && target.value >= target.atLeast - 1e-12, target.name);
}

describe('durian proxy on a real 3-step run', () => {
  let dir = '';
  let run = '';
  let cache = '';
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'durian-proxy-'));
    run = path.join(dir, 'run');
    cache = path.join(dir, 'cache');
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ batchSize: 8, groupSize: 4, validationSize: 32, trainSize: 64, warmupSteps: 10, validationEvery: 3, checkpointEvery: 3, writeRollouts: false }));
    const trained = await durian(['train', '--config', config, '--policy', 'general', '--steps', '3', '--seed', '3', '--out', run, '--cache-dir', cache]);
    assert.equal(trained.code, 0, trained.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the base policy from the cache the run built and the final policy of its checkpoint', { timeout: 600_000 }, async () => {
    const out = path.join(dir, 'proxy.json');
    const result = await durian(['proxy', '--run', run, '--n', '32', '--cache-dir', cache, '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { kind: string; seed: number; policies: Report[] };
    assert.equal(json.kind, 'general');
    assert.equal(json.seed, 3);
    const [base, final] = json.policies;
    assert.equal(json.policies.length, 2);
    assert.deepEqual([base.policy.role, base.policy.step, final.policy.role, final.policy.step], ['base', 0, 'final', 3]);
    assert.equal(base.policy.warmup?.cached, true, 'the base policy is the one training built and cached (same cache key)');
    assert.ok(base.policy.parameters > 100_000 && base.policy.parameters === final.policy.parameters);
    checkAgainstRecords(base, 32);
    checkAgainstRecords(final, 32);
    for (const heading of ['== base policy: general', '== final policy: general', 'perceptual \\ reasoning', 'share of wrong answers by entropy bucket', 'share of wrong answers by confidence bucket', 'difficulty targets']) {
      assert.ok(result.stdout.includes(heading), heading);
    }

    // --checkpoint names the same checkpoint: the same final answers.
    const outCheckpoint = path.join(dir, 'proxy-checkpoint.json');
    const byCheckpoint = await durian(['proxy', '--checkpoint', path.join(run, 'checkpoints', 'step-000003'), '--n', '32', '--cache-dir', cache, '--out', outCheckpoint]);
    assert.equal(byCheckpoint.code, 0, byCheckpoint.stderr);
    const again = (JSON.parse(readFileSync(outCheckpoint, 'utf8')) as { policies: Report[] }).policies[1];
    assert.deepEqual(again.tasks.map((t) => t.response), final.tasks.map((t) => t.response));
  });

  it('refuses a folder that is not a checkpoint, a policy kind other than the run\'s, and --seed with a run, each in one line', { timeout: 120_000 }, async () => {
    const cases: [string[], RegExp][] = [
      [['--checkpoint', run], /--checkpoint: must be a checkpoint folder RUN\/checkpoints\/step-NNNNNN/],
      [['--run', run, '--policy', 'counting'], /--policy: is counting, but the run .* trains the general policy/],
      [['--run', run, '--seed', '5'], /--seed: is the run's own \(3\)/],
      [['--run', cache], /is not a run folder \(no config\.json\)/],
      [['--policy', 'big'], /--policy: must be one of counting, general/],
    ];
    for (const [args, message] of cases) {
      const result = await durian(['proxy', ...args, '--cache-dir', cache]);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
  });
});

describe('proxy report arithmetic', () => {
  it('computes the level grid, the level 0 - 3 gaps and the targets from the records', () => {
    // Perceptual level 0 always right, level 3 always wrong; reasoning level does not matter.
    const records: ProxyTaskRecord[] = [];
    for (let p = 0; p < 4; p++) {
      for (let q = 0; q < 4; q++) {
        for (let k = 0; k < 4; k++) {
          const correct = p === 0 || (p < 3 && k % 2 === 0);
          records.push({ id: `t${p}${q}${k}`, perceptualLevel: p, reasoningLevel: q, entropy: p + k / 10, confidence: (correct ? -0.1 : -2) - (16 * p + 4 * q + k) / 1000, correct, error: correct ? null : 'perceptual', response: [] });
        }
      }
    }
    const report = proxyReport(records, { n: records.length, seed: 1, encoder: 'test', policy: { role: 'base', kind: 'general', parameters: 1, step: 0 } });
    assert.deepEqual(report.levels.byPerceptual.map((c) => c.accuracy), [1, 0.5, 0.5, 0]);
    assert.deepEqual(report.levels.byReasoning.map((c) => c.accuracy), [0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(report.levels.perceptualGap.atReasoningLevel, [1, 1, 1, 1]);
    assert.deepEqual(report.levels.reasoningGap.atPerceptualLevel, [0, 0, 0, 0]);
    assert.deepEqual(report.targets.map((t) => t.met), [true, false, true, true]);
    const text = proxyTables(report).join('\n');
    assert.match(text, /gap p0-p3 \(points\) +100\.0 +100\.0 +100\.0 +100\.0 +100\.0/);
  });
});
