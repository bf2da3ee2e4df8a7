/**
 * `durian study --slurm`: the study's cells trained by a Slurm cluster, one array task per cell.
 *
 * The submitting command prepares the study folder exactly as a local study does (study.json, configs/), then
 * submits ONE array job whose task i runs `durian study --out DIR --cell <name i>`; each task trains its cell
 * (resuming it if a checkpoint is there) and rebuilds DIR/report.md from the shared folder, so the report grows
 * as cells finish. A cell is never trained twice: finished cells are not submitted, cells of a job Slurm still
 * holds (pending or running, asked with `squeue`) are not submitted again, and on one machine the trainer's own
 * kernel-held run lock refuses a second trainer on the same run folder. Submissions are recorded in
 * DIR/slurm/submissions.json; each task's stdout/stderr go to DIR/slurm/logs/<job>_<task>.out.
 *
 * Tasks of the same seed share the cached base policy: a task takes the seed's lock before its trainer starts
 * and gives it back once the trainer has stepped (base policy built), so two tasks never build the same
 * cached base policy side by side (the local study's rule, across processes).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DurianInputError } from '../../core/index.js';
import { writeBytesAtomic } from '../../trainer/run/atomic.js';
import { type RunLock, RunDirectoryError, acquireRunLock } from '../../trainer/run/index.js';
import type { CellSpec } from './settings.js';

const SLURM_DIR = 'slurm';
const SUBMISSIONS_FILE = 'submissions.json';

export interface Submission {
  jobId: string;
  submittedAt: string;
  /** Cell names in array-task order: task i trains cells[i]. */
  cells: string[];
  command: string[];
}

export interface SlurmOptions {
  /** Extra sbatch arguments as given (e.g. `--partition=gpu`, `--time=2:00:00`). */
  sbatchArgs: string[];
  /** Array tasks running at once (sbatch's `%N` throttle); 0 = as many as Slurm allows. */
  concurrent: number;
  cacheDir?: string;
}

function slurmDir(studyDir: string): string {
  return path.join(studyDir, SLURM_DIR);
}

export function readSubmissions(studyDir: string): Submission[] {
  const file = path.join(slurmDir(studyDir), SUBMISSIONS_FILE);
  if (!existsSync(file)) return [];
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as { submissions?: Submission[] };
    return Array.isArray(value.submissions) ? value.submissions : [];
  } catch (error) {
    throw new DurianInputError('--out', `${file} is unreadable (${(error as Error).message}); it lists the study's Slurm jobs — restore it, or remove it once \`squeue\` shows none of them`);
  }
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new DurianInputError('--slurm', `${command} is not on the PATH: run this on a Slurm login node (or install Slurm's client commands)`);
    throw new DurianInputError('--slurm', `${command} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/**
 * Cells of this study that Slurm still holds (pending or running array tasks of a recorded submission).
 * `squeue -h -j <ids> -o %i` prints `<job>_<task>` for started tasks and `<job>_[a-b%c]` for pending ranges.
 */
export function activeCells(studyDir: string): Set<string> {
  const submissions = readSubmissions(studyDir);
  const active = new Set<string>();
  if (submissions.length === 0) return active;
  let out: string;
  try {
    out = execFileSync('squeue', ['-h', '-j', submissions.map((s) => s.jobId).join(','), '-o', '%i'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '');
    // Jobs Slurm no longer knows (finished long ago) are an error for squeue: none of them is active.
    if (/Invalid job id/i.test(stderr)) return active;
    throw new DurianInputError('--slurm', `squeue failed (${stderr.trim() || (error as Error).message}); cannot tell which cells Slurm is training`);
  }
  const byJob = new Map(submissions.map((s) => [s.jobId, s]));
  for (const line of out.split('\n')) {
    const match = /^(\d+)_(\d+|\[(.+)\])$/.exec(line.trim());
    if (!match) continue;
    const submission = byJob.get(match[1]);
    if (!submission) continue;
    for (const task of match[3] === undefined ? [Number(match[2])] : taskRange(match[3])) {
      if (submission.cells[task] !== undefined) active.add(submission.cells[task]);
    }
  }
  return active;
}

/** `0-3,5,7-9%2` -> [0, 1, 2, 3, 5, 7, 8, 9] (the `%` throttle dropped). */
export function taskRange(spec: string): number[] {
  const tasks: number[] = [];
  for (const part of spec.split('%')[0].split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let t = a; t <= (Number.isInteger(b) ? b : a); t++) tasks.push(t);
  }
  return tasks;
}

/** The batch script every array task runs: it picks its cell by SLURM_ARRAY_TASK_ID from the cells file. */
function batchScript(cli: string, studyDir: string, cellsFile: string, cacheDir: string | undefined): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    '#!/bin/bash',
    '# Written by `durian study --slurm`: array task i trains the cell on line i + 1 of the cells file.',
    'set -euo pipefail',
    `cell=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${q(cellsFile)})`,
    `exec ${q(process.execPath)} ${q(cli)} study --out ${q(studyDir)} --cell "$cell"${cacheDir ? ` --cache-dir ${q(cacheDir)}` : ''}`,
    '',
  ].join('\n');
}

/** Submits one array job for `cells` (in order); records it; returns the job id. */
export function submitCells(studyDir: string, cells: CellSpec[], options: SlurmOptions): Submission {
  const dir = slurmDir(studyDir);
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const cellsFile = path.join(dir, `cells-${stamp}.txt`);
  writeFileSync(cellsFile, `${cells.map((c) => c.name).join('\n')}\n`);
  const script = path.join(dir, `cell-${stamp}.sbatch`);
  const cli = process.argv[1] ? path.resolve(process.argv[1]) : path.resolve(__dirname, 'cli.js');
  writeFileSync(script, batchScript(cli, studyDir, cellsFile, options.cacheDir), { mode: 0o755 });
  const array = `0-${cells.length - 1}${options.concurrent > 0 ? `%${options.concurrent}` : ''}`;
  const command = ['--parsable', `--array=${array}`, '--job-name=durian-study', `--output=${path.join(dir, 'logs', '%A_%a.out')}`, `--chdir=${studyDir}`, ...options.sbatchArgs, script];
  const jobId = run('sbatch', command).trim().split(';')[0];
  if (!/^\d+$/.test(jobId)) throw new DurianInputError('--slurm', `sbatch answered ${JSON.stringify(jobId)}, not a job id`);
  const submission: Submission = { jobId, submittedAt: new Date().toISOString(), cells: cells.map((c) => c.name), command: ['sbatch', ...command] };
  const all = [...readSubmissions(studyDir), submission];
  writeBytesAtomic(path.join(dir, SUBMISSIONS_FILE), `${JSON.stringify({ submissions: all }, null, 2)}\n`);
  return submission;
}

/** Takes a lock named by a folder (created if missing), waiting while another live process holds it. */
export async function waitForLock(folder: string, timeoutMs = 24 * 3600_000): Promise<RunLock> {
  mkdirSync(folder, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await acquireRunLock(folder);
    } catch (error) {
      if (!(error instanceof RunDirectoryError) || error.code !== 'IN_USE' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The lock a cell's task holds until its seed's base policy is built. */
export function seedLockFolder(studyDir: string, seed: number): string {
  return path.join(slurmDir(studyDir), 'locks', `seed-${seed}`);
}

/** The lock held while report.md / results.json are rebuilt (tasks finish at any time). */
export function reportLockFolder(studyDir: string): string {
  return path.join(slurmDir(studyDir), 'locks', 'report');
}

/** Records a task's wall time for the report's total (tasks cannot all write study.json). */
export function recordTask(studyDir: string, cell: string, record: { startedAt: string; wallSeconds: number; host: string; job: string }): void {
  const dir = path.join(slurmDir(studyDir), 'tasks');
  mkdirSync(dir, { recursive: true });
  writeBytesAtomic(path.join(dir, `${cell}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** Seconds the study's Slurm tasks ran, summed (0 without Slurm). */
export function slurmTaskSeconds(studyDir: string): number {
  const dir = path.join(slurmDir(studyDir), 'tasks');
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const name of readdirSync(dir)) {
    try {
      const value = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { wallSeconds?: number };
      if (typeof value.wallSeconds === 'number' && Number.isFinite(value.wallSeconds)) total += value.wallSeconds;
    } catch {
      // A task record being written right now: counted at the next report.
    }
  }
  return total;
}
