/**
 * What the host reads from a run directory (written only by the trainer): status, config, metrics and
 * validation lines. Every line is validated with the protocol's checks; unreadable or torn lines are
 * skipped and counted, never fatal.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { type MetricsLine, type ValidationLine, parseMetricsLine, parseValidationLine } from '../protocol/index.js';

export interface RunStatusFile {
  state: string;
  step?: number;
  totalSteps?: number;
  pid?: number;
  message?: string;
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
  if ((status.state === 'running' || status.state === 'paused') && status.pid !== undefined && !processAlive(status.pid)) status.state = 'crashed';
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
