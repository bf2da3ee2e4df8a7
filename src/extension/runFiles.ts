/**
 * What the host reads from a run directory (written only by the trainer): status, config, metrics and
 * validation lines. Every line is validated with the protocol's checks; unreadable or torn lines are
 * skipped and counted, never fatal.
 */
import { closeSync, existsSync, fstatSync, lstatSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type MetricsLine, type ValidationLine, parseMetricsLine, parseValidationLine } from '../protocol/index.js';

export interface RunStatusFile {
  state: string;
  step?: number;
  totalSteps?: number;
  pid?: number;
  message?: string;
  /**
   * status.json says `running`/`paused` but no trainer is behind it: `gone` (its process has exited: read
   * as `crashed`), or `unknown` (a process with that id exists, which may be another program that reused
   * the id, or a trainer of another window or terminal). Absent when status.json says nothing of the kind.
   */
  trainer?: 'gone' | 'unknown';
}

export interface RunSummary extends RunStatusFile {
  name: string;
  dir: string;
  estimator?: string;
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readRunStatus(dir: string): RunStatusFile | undefined {
  const raw = readJsonFile(path.join(dir, 'status.json')) as Partial<RunStatusFile> | undefined;
  if (!raw || typeof raw.state !== 'string') return undefined;
  const status: RunStatusFile = { state: raw.state };
  if (typeof raw.step === 'number') status.step = raw.step;
  if (typeof raw.pid === 'number') status.pid = raw.pid;
  if (typeof raw.totalSteps === 'number') status.totalSteps = raw.totalSteps;
  if (typeof raw.message === 'string') status.message = raw.message;
  // A run that says it is running but whose trainer is gone was killed.
  if (status.state === 'running' || status.state === 'paused') {
    if (status.pid !== undefined && !processAlive(status.pid)) {
      status.state = 'crashed';
      status.trainer = 'gone';
    } else {
      status.trainer = 'unknown';
    }
  }
  return status;
}

export function readRunConfig(dir: string): Record<string, unknown> | undefined {
  const config = readJsonFile(path.join(dir, 'config.json'));
  return config && typeof config === 'object' && !Array.isArray(config) ? (config as Record<string, unknown>) : undefined;
}

export function listRunSummaries(runsFolder: string): RunSummary[] {
  if (!existsSync(runsFolder)) return [];
  const runs: RunSummary[] = [];
  for (const name of readdirSync(runsFolder)) {
    const dir = path.join(runsFolder, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
    } catch {
      continue;
    }
    const config = readRunConfig(dir);
    const status = readRunStatus(dir) ?? { state: config ? 'no status' : 'not a run' };
    runs.push({
      ...status,
      name,
      dir,
      ...(status.totalSteps === undefined && typeof config?.steps === 'number' ? { totalSteps: config.steps } : {}),
      ...(typeof config?.estimator === 'string' ? { estimator: config.estimator } : {}),
    });
  }
  return runs.sort((a, b) => b.name.localeCompare(a.name));
}

function readLines<T>(file: string, parse: (value: unknown) => { ok: true; value: T } | { ok: false; error: string }): { lines: T[]; skipped: number } {
  if (!existsSync(file)) return { lines: [], skipped: 0 };
  const lines: T[] = [];
  let skipped = 0;
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    try {
      const parsed = parse(JSON.parse(text));
      if (parsed.ok) lines.push(parsed.value);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { lines, skipped };
}

export function readRunHistory(dir: string): { metrics: MetricsLine[]; validations: ValidationLine[]; skipped: number } {
  const metrics = readLines(path.join(dir, 'metrics.jsonl'), (v) => parseMetricsLine(v));
  const validations = readLines(path.join(dir, 'validation.jsonl'), (v) => parseValidationLine(v));
  return { metrics: metrics.lines, validations: validations.lines, skipped: metrics.skipped + validations.skipped };
}

/**
 * Why `dir` is not a run folder the panels may show (and let their webview load files from), or undefined
 * when it is one: an existing directory, not the file system's root nor the home folder, holding a
 * `config.json` object and a `status.json` with a `state` as the trainer writes them.
 */
export function runFolderProblem(dir: unknown): string | undefined {
  if (typeof dir !== 'string' || dir.trim() === '') return 'a run folder path is required';
  if (!path.isAbsolute(dir)) return `${dir} is not an absolute path`;
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return `${dir} does not exist`;
  }
  if (!statSync(real).isDirectory()) return `${dir} is not a folder`;
  if (path.parse(real).root === real) return `${dir} is the root of the file system, not a run folder`;
  const home = safeRealpath(os.homedir());
  if (home !== undefined && real === home) return `${dir} is the home folder, not a run folder`;
  for (const file of ['config.json', 'status.json']) {
    try {
      if (!lstatSync(path.join(real, file)).isFile()) return `${dir} is not a run folder: its ${file} is not a file`;
    } catch {
      return `${dir} is not a run folder: it has no ${file} (a run folder holds the config.json and status.json the trainer writes)`;
    }
  }
  if (!readRunConfig(real)) return `${dir} is not a run folder: its config.json is not a JSON object`;
  const status = readJsonFile(path.join(real, 'status.json')) as { state?: unknown } | undefined;
  if (!status || typeof status !== 'object' || typeof status.state !== 'string') return `${dir} is not a run folder: its status.json has no state`;
  return undefined;
}

function safeRealpath(dir: string): string | undefined {
  try {
    return realpathSync(dir);
  } catch {
    return undefined;
  }
}

/** What the Runs view's tooltip says of a run, read from its files (any of it may be missing). */
export interface RunDetails {
  estimator?: string;
  groupSize?: number;
  batchSize?: number;
  seed?: number;
  /** The first and the last validation accuracy (validation.jsonl), with their steps. */
  firstValidation?: { step: number; accuracy: number };
  lastValidation?: { step: number; accuracy: number };
  /** Training time so far: the last metrics line's `elapsedMs`. */
  elapsedMs?: number;
  /** `checkpoints/latest` names a checkpoint. */
  hasCheckpoint: boolean;
}

/** Reads a run's details; never throws. The metrics file is read from its end only (it can be large). */
export function readRunDetails(dir: string): RunDetails {
  const config = readRunConfig(dir);
  const details: RunDetails = { hasCheckpoint: readFirstLine(path.join(dir, 'checkpoints', 'latest')) !== undefined };
  if (typeof config?.estimator === 'string') details.estimator = config.estimator;
  if (typeof config?.groupSize === 'number') details.groupSize = config.groupSize;
  if (typeof config?.batchSize === 'number') details.batchSize = config.batchSize;
  if (typeof config?.seed === 'number') details.seed = config.seed;
  const validations = readLines(path.join(dir, 'validation.jsonl'), (v) => parseValidationLine(v)).lines;
  const first = validations[0];
  const last = validations[validations.length - 1];
  if (first) details.firstValidation = { step: first.step, accuracy: first.accuracy };
  if (last) details.lastValidation = { step: last.step, accuracy: last.accuracy };
  const lastMetrics = lastJsonLine(path.join(dir, 'metrics.jsonl')) as { elapsedMs?: unknown } | undefined;
  if (lastMetrics && typeof lastMetrics.elapsedMs === 'number' && Number.isFinite(lastMetrics.elapsedMs)) details.elapsedMs = lastMetrics.elapsedMs;
  return details;
}

function readFirstLine(file: string): string | undefined {
  try {
    const line = readFileSync(file, 'utf8').split('\n')[0].trim();
    return line === '' ? undefined : line;
  } catch {
    return undefined;
  }
}

/** The last whole JSON line of a file, read from its last 64 KiB. */
function lastJsonLine(file: string): unknown {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter((line) => line.trim() !== '');
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        return JSON.parse(lines[i]);
      } catch {
        // a torn or cut line: try the one before
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
