/**
 * The datasets "Durian: Start Training" offers: the workspace's *.parquet files, and *.jsonl / *.json files
 * whose first record is a dataset row (with `problem` and `answer` fields); and how a picked dataset, or a
 * `*.durian.json` config naming one (`dataset`, `splitColumn`, `valFraction`, `reward`; src/protocol/datasetLaunch.ts),
 * becomes the trainer's `--dataset` flags. The trainer reads and checks the dataset itself before training.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { type DatasetFlags, datasetKeysOfConfig } from '../protocol/datasetLaunch.js';

/** Bytes of a JSON file read to tell whether it holds dataset rows. */
const PEEK_BYTES = 64 * 1024;
const MAX_OFFERED = 50;

/** The first bytes of a regular file as text (undefined for anything else, or when it cannot be read). */
function peek(file: string): string | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO named *.jsonl does not hang the command.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buffer = Buffer.alloc(PEEK_BYTES);
    const read = readSync(fd, buffer, 0, PEEK_BYTES, 0);
    return buffer.subarray(0, read).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function isRow(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'problem' in value && 'answer' in value;
}

/** Whether a file looks like a dataset the trainer reads (Parquet by its name; JSON by its first record). */
export function looksLikeDataset(file: string): boolean {
  if (/\.(?:parquet|pq)$/i.test(file)) return true;
  const head = peek(file);
  if (head === undefined) return false;
  if (/\.(?:jsonl|ndjson)$/i.test(file)) {
    const first = head.split('\n').find((line) => line.trim() !== '');
    try {
      return first !== undefined && isRow(JSON.parse(first));
    } catch {
      return false;
    }
  }
  return /^\s*\[\s*\{/.test(head) && /"problem"\s*:/.test(head) && /"answer"\s*:/.test(head);
}

/** Dataset files in the workspace (not in node_modules, runs or .git), at most 50. */
export async function workspaceDatasets(): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles('**/*.{parquet,pq,jsonl,ndjson,json}', '{**/node_modules/**,**/runs/**,**/.git/**,**/.vscode/**,**/*.durian.json,**/package.json,**/package-lock.json,**/tsconfig*.json}', 1000);
  return found.filter((uri) => looksLikeDataset(uri.fsPath)).slice(0, MAX_OFFERED);
}

/** A config file's dataset keys as flags (its dataset path made absolute, relative to the config file) and the config without them. */
export function datasetOfConfig(raw: Record<string, unknown>, configFile: string): { config: Record<string, unknown>; flags: DatasetFlags } {
  const { config, flags } = datasetKeysOfConfig(raw, path.basename(configFile));
  if (flags.dataset !== undefined) flags.dataset = path.resolve(path.dirname(configFile), flags.dataset);
  return { config, flags };
}

/** Asks how a picked dataset is split for validation; undefined when the pick is cancelled. */
export async function pickDatasetSplit(file: string): Promise<DatasetFlags | undefined> {
  const head = /\.(?:parquet|pq)$/i.test(file) ? undefined : peek(file);
  const hasSplit = head !== undefined && /"split"\s*:/.test(head);
  const column = { label: 'Use its "split" column', description: 'rows marked train / validation (export-tasks writes one)', flags: { 'split-column': 'split' } as DatasetFlags };
  const fraction = { label: 'Hold out 10% of the rows', description: 'drawn by the seed and each row\'s id', flags: {} as DatasetFlags };
  const pick = await vscode.window.showQuickPick(hasSplit ? [column, fraction] : [fraction, column], {
    title: `Durian: Start Training — validation split of ${path.basename(file)}`,
    placeHolder: 'Choose the held-out rows validation reports on',
  });
  return pick ? { dataset: file, ...pick.flags } : undefined;
}
