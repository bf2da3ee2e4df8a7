/**
 * `listRuns`: the runs in a runs folder for the Runs view and `durian runs`: name, state, steps and the
 * last metrics line, read cheaply (status.json and the tail of metrics.jsonl) and without writing.
 * A folder that is not a run is skipped; a run that cannot be read is listed with its problem.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fsFailure } from './errors.js';
import { CONFIG_FILE, METRICS_FILE, STATUS_FILE, TMP_PREFIX } from './layout.js';
import { readLastRecord } from './jsonl.js';
import type { MetricsRecord } from './runDirectory.js';
import { type RunState, type RunStatus, asRunStatus, effectiveState } from './status.js';

export interface RunSummary {
  name: string;
  /** Absolute path of the run folder. */
  path: string;
  /** The state, with a vanished trainer read as `crashed`; `unknown` without a readable status. */
  state: RunState | 'unknown';
  status: RunStatus | null;
  /** Last step with metrics (0 if none). */
  steps: number;
  lastMetrics: MetricsRecord | null;
  /** Last status write, or the folder's modification time. */
  updatedAt: string;
  problem?: string;
}

function summarise(dir: string, name: string): RunSummary | null {
  const hasConfig = fs.existsSync(path.join(dir, CONFIG_FILE));
  const hasStatus = fs.existsSync(path.join(dir, STATUS_FILE));
  if (!hasConfig && !hasStatus) return null;
  let status: RunStatus | null = null;
  let lastMetrics: MetricsRecord | null = null;
  const problems: string[] = [];
  if (hasStatus) {
    try {
      status = asRunStatus(JSON.parse(fs.readFileSync(path.join(dir, STATUS_FILE), 'utf8')));
      if (!status) problems.push(`${STATUS_FILE} is malformed`);
    } catch (error) {
      problems.push(`${STATUS_FILE}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  try {
    const last = readLastRecord(path.join(dir, METRICS_FILE));
    if (last !== null && typeof last === 'object' && typeof (last as { step?: unknown }).step === 'number') lastMetrics = last as MetricsRecord;
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  let modified = new Date(0);
  try {
    modified = fs.statSync(dir).mtime;
  } catch {
    // Keep the epoch: the run sorts last.
  }
  return {
    name,
    path: dir,
    state: status ? effectiveState(status) : 'unknown',
    status,
    steps: lastMetrics?.step ?? 0,
    lastMetrics,
    updatedAt: status?.updatedAt ?? modified.toISOString(),
    ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
  };
}

/** The runs of `runsFolder`, most recently updated first; [] when the folder does not exist. */
export function listRuns(runsFolder: string): RunSummary[] {
  const root = path.resolve(runsFolder);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fsFailure('list the runs in', root, error);
  }
  const runs = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !entry.name.startsWith(TMP_PREFIX))
    .flatMap((entry) => summarise(path.join(root, entry.name), entry.name) ?? []);
  return runs.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.name.localeCompare(b.name));
}
