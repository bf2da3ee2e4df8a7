/**
 * The records of a run folder (schemas/*.schema.json): status.json, meta.json, and the checks of a JSONL
 * file's lines. One definition of a run's state for the trainer (which writes them), the extension, the CLI
 * and the study (which read them).
 */
import { RUN_FOLDER_FORMAT_VERSION } from './runFolderLayout.js';

/** What status.json says a run is doing. */
export const RUN_STATES = ['running', 'paused', 'stopped', 'completed', 'crashed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export function isRunState(value: unknown): value is RunState {
  return (RUN_STATES as readonly unknown[]).includes(value);
}

/** status.json (schemas/status.schema.json). */
export interface RunStatus {
  state: RunState;
  /** Last finished step (0 before the first). */
  step: number;
  /** Process id of the writer. */
  pid: number;
  /** ISO 8601 time of the write. */
  updatedAt: string;
  /** Why it stopped, paused or crashed, when known. */
  message?: string;
  /** Present while the writer reads controls appended to this file of the run (schemas/README.md "Control inbox"). */
  inbox?: 'inbox.jsonl';
  /** The format version (absent in the Durian trainer's older runs: version 1). */
  formatVersion?: number;
  /** Host name of the writer (foreign writers). */
  host?: string;
  /** Who writes the run (foreign writers). */
  writer?: string;
}

/** A status.json value as a RunStatus, or null when it is not a well-formed status. */
export function parseRunStatus(value: unknown): RunStatus | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const status = value as Partial<Record<keyof RunStatus, unknown>>;
  if (!isRunState(status.state)) return null;
  if (typeof status.step !== 'number' || !Number.isInteger(status.step) || status.step < 0) return null;
  if (typeof status.pid !== 'number' || typeof status.updatedAt !== 'string') return null;
  return {
    state: status.state,
    step: status.step,
    pid: status.pid,
    updatedAt: status.updatedAt,
    ...(typeof status.message === 'string' ? { message: status.message } : {}),
    ...(status.inbox === 'inbox.jsonl' ? { inbox: status.inbox } : {}),
    ...(typeof status.formatVersion === 'number' ? { formatVersion: status.formatVersion } : {}),
    ...(typeof status.host === 'string' ? { host: status.host } : {}),
    ...(typeof status.writer === 'string' ? { writer: status.writer } : {}),
  };
}

/** `running`/`paused` whose writer process is gone reads as `crashed` (`alive` answers for the pid). */
export function effectiveRunState(status: Pick<RunStatus, 'state' | 'pid'>, alive: (pid: number) => boolean): RunState {
  if ((status.state === 'running' || status.state === 'paused') && !alive(status.pid)) return 'crashed';
  return status.state;
}

/** One start of a writer on the run (a new run, or a resume): what it ran on. */
export interface RunStart {
  /** ISO 8601 time of the start. */
  at: string;
  /** The compute backend, e.g. `wasm` (BACKEND_NAMES for Durian's trainer; any name for a foreign writer). */
  backend: string;
  /** The device in words, e.g. `CPU (wasm, SIMD, 1 thread)`. */
  device: string;
  /** The checkpoint step a resume started from; absent for a new run. */
  resumedFromStep?: number;
}

/** meta.json (schemas/meta.schema.json): facts about the run that no step changes; rewritten atomically. */
export interface RunMeta {
  formatVersion: number;
  /** Every start of a writer on the run, oldest first. */
  starts: RunStart[];
  /** Other fields a writer records (e.g. `policy`: what the policy is); readers keep them as they are. */
  [field: string]: unknown;
}

function parseRunStart(value: unknown): RunStart | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const start = value as Partial<Record<keyof RunStart, unknown>>;
  if (typeof start.at !== 'string' || typeof start.backend !== 'string' || typeof start.device !== 'string') return null;
  const resumed = start.resumedFromStep;
  return {
    at: start.at,
    backend: start.backend,
    device: start.device,
    ...(typeof resumed === 'number' && Number.isInteger(resumed) && resumed >= 0 ? { resumedFromStep: resumed } : {}),
  };
}

/** A meta.json value as a RunMeta (malformed starts are dropped), or null when it is not an object. */
export function parseRunMeta(value: unknown): RunMeta | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const meta = value as Record<string, unknown>;
  const starts = Array.isArray(meta.starts) ? meta.starts.flatMap((start) => parseRunStart(start) ?? []) : [];
  return { ...meta, formatVersion: typeof meta.formatVersion === 'number' ? meta.formatVersion : RUN_FOLDER_FORMAT_VERSION, starts };
}

/** meta.json after one more start (a fresh meta when there was none). */
export function withRunStart(meta: RunMeta | null, start: RunStart): RunMeta {
  return { ...(meta ?? {}), formatVersion: RUN_FOLDER_FORMAT_VERSION, starts: [...(meta?.starts ?? []), start] };
}

/** How a start is named in reports: `wasm (CPU (wasm, SIMD, 1 thread))`. */
export function describeRunStart(start: Pick<RunStart, 'backend' | 'device'>): string {
  return `${start.backend} (${start.device})`;
}

/** The lines of JSONL text: the parsed complete lines, the numbers of bad ones, and the length of a torn tail. */
export interface JsonlText {
  /** Parsed records of the complete lines, in order (blank lines skipped). */
  records: unknown[];
  /** 1-based numbers of complete lines that were not valid JSON. */
  badLines: number[];
  /** Characters after the last newline (a line still being written, or torn): never read. */
  unfinished: number;
}

/** Splits JSONL text into records; the text after the last newline is a line still being written and is left out. */
export function parseJsonlText(content: string): JsonlText {
  const lastNewline = content.lastIndexOf('\n');
  const out: JsonlText = { records: [], badLines: [], unfinished: content.length - lastNewline - 1 };
  const lines = content.slice(0, lastNewline + 1).split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i].trim();
    if (line.length === 0) continue;
    try {
      out.records.push(JSON.parse(line));
    } catch {
      out.badLines.push(i + 1);
    }
  }
  return out;
}

/**
 * The records of JSONL text that `parse` accepts (torn, unparsable and refused lines are counted in
 * `skipped`, never fatal).
 */
export function readJsonlRecords<T>(content: string, parse: (value: unknown) => { ok: true; value: T } | { ok: false; error: string }): { lines: T[]; skipped: number } {
  const { records, badLines } = parseJsonlText(content);
  const lines: T[] = [];
  let skipped = badLines.length;
  for (const record of records) {
    const parsed = parse(record);
    if (parsed.ok) lines.push(parsed.value);
    else skipped++;
  }
  return { lines, skipped };
}
