/**
 * `durian study --slurm` against a real single-node Slurm cluster (Debian's slurm-wlm + munge, started by
 * scripts/slurm-up.sh; `.ci/run` starts it and sets DURIAN_SLURM=1): a tiny study submitted as one array job,
 * a second submission while its tasks are queued or running submits nothing, every cell is trained exactly once
 * and the report is rebuilt from the shared folder as tasks finish; then a third submission after all is done
 * submits nothing either. Without DURIAN_SLURM=1 only the argument checks and the squeue parsing run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { taskRange } from '../../src/cli/study/slurm.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const study = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [cli, 'study', ...args], { encoding: 'utf8', cwd: os.tmpdir(), env, timeout: 120_000 });

describe('durian study --slurm: arguments', () => {
  it('refuses --cell with study settings, a malformed cell name, and --sbatch-arg without --slurm', () => {
    const cases: [string[], RegExp][] = [
      [['--cell', 'grpo-G4-s1', '--steps', '3'], /--cell: takes only --out and --cache-dir .* got --steps/],
      [['--cell', '../x'], /--cell: "\.\.\/x" is not a cell name/],
      [['--sbatch-arg=--time=1:00:00'], /--sbatch-arg: is for --slurm only/],
    ];
    for (const [args, expected] of cases) {
      const result = study([...args, '--out', path.join(os.tmpdir(), 'durian-no-study')]);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
    }
  });

  it('--cell on a folder without a study names what is missing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-slurm-empty-'));
    const result = study(['--cell', 'grpo-G4-s1', '--out', dir]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /holds no study \(study\.json is missing\)/);
  });

  it("reads squeue's array-task ranges", () => {
    assert.deepEqual(taskRange('0-3,5,7-9%2'), [0, 1, 2, 3, 5, 7, 8, 9]);
    assert.deepEqual(taskRange('4'), [4]);
  });
});

const slurm = process.env.DURIAN_SLURM === '1';

describe('durian study --slurm on a real Slurm cluster', { skip: slurm ? false : 'set DURIAN_SLURM=1 with a cluster up (bash scripts/slurm-up.sh)', timeout: 900_000 }, () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'durian-slurm-'));
  const cacheDir = path.join(work, 'cache');
  const env = { ...process.env, DURIAN_CACHE_DIR: cacheDir };
  const dir = path.join(work, 'study');
  const configFile = path.join(work, 'config.json');
  writeFileSync(configFile, JSON.stringify({ batchSize: 8, trainSize: 64, validationSize: 32, warmupSteps: 10, checkpointEvery: 2, validationEvery: 2 }));
  const args = ['--config', configFile, '--estimators', 'grpo,durian', '--seeds', '1', '--group-sizes', '4', '--steps', '4', '--sensitivity', 'off', '--out', dir, '--cache-dir', cacheDir];
  const names = ['grpo-G4-s1', 'durian-G4-s1'];
  const submissions = () => (JSON.parse(readFileSync(path.join(dir, 'slurm', 'submissions.json'), 'utf8')) as { submissions: { jobId: string; cells: string[] }[] }).submissions;
  const queued = (job: string) => spawnSync('squeue', ['-h', '-j', job, '-o', '%i'], { encoding: 'utf8' }).stdout.trim();

  it('submits one array job, never submits a held or finished cell again, trains each cell once and rebuilds the report', async () => {
    const first = study([...args, '--slurm'], env);
    assert.equal(first.status, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /submitted Slurm array job (\d+): 2 tasks, one cell each/);
    const [submission] = submissions();
    assert.deepEqual([...submission.cells].sort(), [...names].sort());

    // Submitted again while Slurm holds the tasks: nothing new (the test's cells take far longer than this call).
    const again = study([...args, '--slurm'], env);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /nothing to submit: every unfinished cell is queued or running in Slurm/);
    assert.equal(submissions().length, 1);

    const deadline = Date.now() + 840_000;
    while (queued(submission.jobId) !== '' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(queued(submission.jobId), '', 'the array job ends within the time limit');

    const logs = readdirSync(path.join(dir, 'slurm', 'logs'));
    assert.equal(logs.length, 2, `one log per task: ${logs.join(', ')}`);
    for (const name of names) {
      const status = JSON.parse(readFileSync(path.join(dir, 'runs', name, 'status.json'), 'utf8')) as { state: string; step: number };
      assert.equal(status.state, 'completed', name);
      assert.equal(status.step, 4, name);
      const starts = readFileSync(path.join(dir, 'runs', name, 'trainer.log'), 'utf8').split('\n').filter((line) => / INFO {2}backend /.test(line));
      assert.equal(starts.length, 1, `${name} was trained by exactly one trainer process`);
      assert.ok(existsSync(path.join(dir, 'slurm', 'tasks', `${name}.json`)), `${name}: task record`);
    }
    const report = readFileSync(path.join(dir, 'report.md'), 'utf8');
    assert.match(report, /All 2 cells finished \(4 steps each\)/);
    const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { complete: number };
    assert.equal(results.complete, 2);

    const after = study([...args, '--slurm'], env);
    assert.equal(after.status, 0, after.stdout + after.stderr);
    assert.match(after.stdout, /2 finished \(skipped\)/);
    assert.match(after.stdout, /nothing to submit: every cell is finished/);
    assert.equal(submissions().length, 1);
  });
});
