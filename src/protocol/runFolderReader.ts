/**
 * Reading a run folder (any writer of schemas/README.md: `durian train`, durian_rl, ...) through a small
 * file-system interface, so the protocol stays free of Node APIs: the extension, the CLI and the study pass
 * Node's (src/extension/runFiles.ts, src/trainer/run/nodeRunFolder.ts). Every line is validated with the
 * protocol's checks; unreadable or torn lines are skipped and counted, never fatal; nothing here throws for
 * a missing or malformed file.
 */
import { CHECKPOINTS_DIR, CONFIG_FILE, LATEST_POINTER, META_FILE, METRICS_FILE, STATUS_FILE, TMP_PREFIX, VALIDATION_FILE } from './runFolderLayout.js';
import { type RunMeta, type RunState, type RunStatus, describeRunStart, effectiveRunState, parseRunMeta, parseRunStatus, readJsonlRecords } from './runFolderRecords.js';
import { type MetricsLine, type ValidationLine, parseMetricsLine, parseValidationLine } from './webview.js';

/** What a reader needs of the machine the run folder is on. */
export interface RunFolderFs {
  /** The whole text of `file`, or undefined when it is missing, not a plain file, or unreadable. */
  readText(file: string): string | undefined;
  /** At most the last `bytes` bytes of `file` as text (undefined as readText). */
  readTail(file: string, bytes: number): string | undefined;
  /** The names of the folders directly inside `folder` ([] when it is missing). */
  listFolders(folder: string): string[];
  /** `folder/name` in the platform's spelling. */
  join(folder: string, name: string): string;
  /** Whether a process with this id runs on this machine (status.json's `pid`). */
  isProcessAlive(pid: number): boolean;
}

/** status.json as a reader shows it: a `running`/`paused` whose writer is gone reads as `crashed`. */
export interface RunStatusSeen {
  state: RunState;
  step: number;
  pid: number;
  message?: string;
  /** The run's total steps (config.json's `steps`), when listed. */
  totalSteps?: number;
  /**
   * status.json says `running`/`paused` but no writer is behind it: `gone` (its process has exited: read as
   * `crashed`), or `unknown` (a process with that id exists, which may be another program that reused the
   * id, or a trainer of another window or terminal). Absent when status.json says nothing of the kind.
   */
  trainer?: 'gone' | 'unknown';
}

/** A folder of the runs folder, as the Runs view lists it. */
export interface RunListing extends Partial<Omit<RunStatusSeen, 'state'>> {
  /** `no status`: a config.json without a readable status.json; `not a run`: neither. */
  state: RunState | 'no status' | 'not a run';
  name: string;
  dir: string;
  estimator?: string;
}

function readJson(fs: RunFolderFs, file: string): unknown {
  const text = fs.readText(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** status.json as written, or null when missing or malformed. */
export function readRunStatusRecord(fs: RunFolderFs, dir: string): RunStatus | null {
  return parseRunStatus(readJson(fs, fs.join(dir, STATUS_FILE)));
}

/** status.json as a reader shows it (see RunStatusSeen), or undefined when missing or malformed. */
export function readRunStatus(fs: RunFolderFs, dir: string): RunStatusSeen | undefined {
  const status = readRunStatusRecord(fs, dir);
  if (!status) return undefined;
  const seen: RunStatusSeen = { state: effectiveRunState(status, (pid) => fs.isProcessAlive(pid)), step: status.step, pid: status.pid, ...(status.message === undefined ? {} : { message: status.message }) };
  if (status.state === 'running' || status.state === 'paused') seen.trainer = seen.state === 'crashed' ? 'gone' : 'unknown';
  return seen;
}

/** config.json, or undefined when missing or not a JSON object. */
export function readRunConfig(fs: RunFolderFs, dir: string): Record<string, unknown> | undefined {
  const config = readJson(fs, fs.join(dir, CONFIG_FILE));
  return config && typeof config === 'object' && !Array.isArray(config) ? (config as Record<string, unknown>) : undefined;
}

/** meta.json, or null when missing or malformed (older runs and foreign writers may have none). */
export function readRunMeta(fs: RunFolderFs, dir: string): RunMeta | null {
  return parseRunMeta(readJson(fs, fs.join(dir, META_FILE)));
}

/** The backend of every start of a writer on the run, oldest first (`wasm (CPU ...)`): meta.json's record. */
export function readRunBackends(fs: RunFolderFs, dir: string): string[] {
  return (readRunMeta(fs, dir)?.starts ?? []).map(describeRunStart);
}

/** metrics.jsonl and validation.jsonl, validated line by line. */
export function readRunHistory(fs: RunFolderFs, dir: string): { metrics: MetricsLine[]; validations: ValidationLine[]; skipped: number } {
  const metrics = readJsonlRecords(fs.readText(fs.join(dir, METRICS_FILE)) ?? '', (v) => parseMetricsLine(v));
  const validations = readJsonlRecords(fs.readText(fs.join(dir, VALIDATION_FILE)) ?? '', (v) => parseValidationLine(v));
  return { metrics: metrics.lines, validations: validations.lines, skipped: metrics.skipped + validations.skipped };
}

/** The runs of a runs folder, newest name first; folders starting with `.` or `.tmp-` are left out. */
export function listRunFolders(fs: RunFolderFs, runsFolder: string): RunListing[] {
  const runs: RunListing[] = [];
  for (const name of fs.listFolders(runsFolder)) {
    if (name.startsWith('.') || name.startsWith(TMP_PREFIX)) continue;
    const dir = fs.join(runsFolder, name);
    const config = readRunConfig(fs, dir);
    const status = readRunStatus(fs, dir);
    runs.push({
      ...(status ?? { state: config ? 'no status' : 'not a run' }),
      name,
      dir,
      ...(typeof config?.steps === 'number' ? { totalSteps: config.steps } : {}),
      ...(typeof config?.estimator === 'string' ? { estimator: config.estimator } : {}),
    });
  }
  return runs.sort((a, b) => b.name.localeCompare(a.name));
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

/** How much of metrics.jsonl's end `readRunDetails` reads for its last line. */
const TAIL_BYTES = 64 * 1024;

/** The last complete JSON line of `text` (a torn or cut line is passed over). */
function lastJsonLine(text: string): unknown {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]) as unknown;
    } catch {
      // a torn or cut line: try the one before
    }
  }
  return undefined;
}

/** A run's details; metrics.jsonl is read from its end only (it can be large). */
export function readRunDetails(fs: RunFolderFs, dir: string): RunDetails {
  const config = readRunConfig(fs, dir);
  const latest = fs.readText(fs.join(fs.join(dir, CHECKPOINTS_DIR), LATEST_POINTER))?.split('\n')[0].trim() ?? '';
  const details: RunDetails = { hasCheckpoint: latest !== '' };
  if (typeof config?.estimator === 'string') details.estimator = config.estimator;
  if (typeof config?.groupSize === 'number') details.groupSize = config.groupSize;
  if (typeof config?.batchSize === 'number') details.batchSize = config.batchSize;
  if (typeof config?.seed === 'number') details.seed = config.seed;
  const validations = readJsonlRecords(fs.readText(fs.join(dir, VALIDATION_FILE)) ?? '', (v) => parseValidationLine(v)).lines;
  const first = validations[0];
  const last = validations[validations.length - 1];
  if (first) details.firstValidation = { step: first.step, accuracy: first.accuracy };
  if (last) details.lastValidation = { step: last.step, accuracy: last.accuracy };
  const lastMetrics = lastJsonLine(fs.readTail(fs.join(dir, METRICS_FILE), TAIL_BYTES) ?? '') as { elapsedMs?: unknown } | undefined;
  if (lastMetrics && typeof lastMetrics.elapsedMs === 'number' && Number.isFinite(lastMetrics.elapsedMs)) details.elapsedMs = lastMetrics.elapsedMs;
  return details;
}
