/**
 * What the host reads from a run directory (written by the trainer or any writer of schemas/): the
 * protocol's run-folder reader (src/protocol/runFolderReader.ts) on Node's file system, and which folders a
 * panel may open.
 */
import { closeSync, fstatSync, lstatSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as runFolder from '../protocol/index.js';
import { CONFIG_FILE, type MetricsLine, type RunDetails, type RunFolderFs, type RunListing, type RunStatusSeen, STATUS_FILE, type ValidationLine, readRunStatusRecord } from '../protocol/index.js';

import { isProcessAlive } from '../node/process.js';

export type { RunDetails } from '../protocol/index.js';
/** status.json as the host shows it. */
export type RunStatusFile = RunStatusSeen;
/** A folder of the runs folder, as the Runs view lists it. */
export type RunSummary = RunListing;

/** The last `bytes` bytes of a file. */
function readTail(file: string, bytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function quietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Node's file system for the protocol's run-folder reader: nothing throws, a missing file reads as undefined. */
export const NODE_RUN_FOLDER_FS: RunFolderFs = {
  readText: (file) => quietly(() => readFileSync(file, 'utf8')),
  readTail: (file, bytes) => quietly(() => readTail(file, bytes)),
  listFolders: (folder) => quietly(() => readdirSync(folder, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)) ?? [],
  join: (folder, name) => path.join(folder, name),
  isProcessAlive,
};

export function readRunStatus(dir: string): RunStatusFile | undefined {
  return runFolder.readRunStatus(NODE_RUN_FOLDER_FS, dir);
}

export function readRunConfig(dir: string): Record<string, unknown> | undefined {
  return runFolder.readRunConfig(NODE_RUN_FOLDER_FS, dir);
}

export function listRunSummaries(runsFolder: string): RunSummary[] {
  return runFolder.listRunFolders(NODE_RUN_FOLDER_FS, runsFolder);
}

export function readRunHistory(dir: string): { metrics: MetricsLine[]; validations: ValidationLine[]; skipped: number } {
  return runFolder.readRunHistory(NODE_RUN_FOLDER_FS, dir);
}

/** Reads a run's details; never throws. */
export function readRunDetails(dir: string): RunDetails {
  return runFolder.readRunDetails(NODE_RUN_FOLDER_FS, dir);
}

/** The backend of every start of a writer on the run (meta.json), oldest first. */
export function readRunBackends(dir: string): string[] {
  return runFolder.readRunBackends(NODE_RUN_FOLDER_FS, dir);
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
  for (const file of [CONFIG_FILE, STATUS_FILE]) {
    try {
      if (!lstatSync(path.join(real, file)).isFile()) return `${dir} is not a run folder: its ${file} is not a file`;
    } catch {
      return `${dir} is not a run folder: it has no ${file} (a run folder holds the config.json and status.json the trainer writes)`;
    }
  }
  if (!readRunConfig(real)) return `${dir} is not a run folder: its ${CONFIG_FILE} is not a JSON object`;
  if (!readRunStatusRecord(NODE_RUN_FOLDER_FS, real)) return `${dir} is not a run folder: its ${STATUS_FILE} is not a run status ({state, step, pid, updatedAt}: schemas/status.schema.json)`;
  return undefined;
}

function safeRealpath(dir: string): string | undefined {
  try {
    return realpathSync(dir);
  } catch {
    return undefined;
  }
}
