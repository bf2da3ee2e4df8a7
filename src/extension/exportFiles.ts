/**
 * What an export message becomes on disk: the bytes, the file name offered and the save dialog's filter,
 * for a chart (SVG text or PNG bytes) and for rollout groups (CSV or Parquet). Pure but for `writeExport`:
 * no VS Code API here (exportSave.ts asks where to save), so tests run it as it is.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChartExportMessage, GroupsExportMessage } from '../protocol/compareExport.js';
import { groupsToCsv, groupsToParquet } from './exportGroups.js';

export interface ExportFile {
  /** The file name offered in the save dialog. */
  defaultName: string;
  /** The save dialog's filter: a label and its extensions. */
  filters: Record<string, string[]>;
  bytes: Uint8Array;
}

const FILTERS = {
  svg: { 'SVG image': ['svg'] },
  png: { 'PNG image': ['png'] },
  csv: { 'CSV (comma-separated values)': ['csv'] },
  parquet: { 'Apache Parquet': ['parquet'] },
} as const satisfies Record<string, Record<string, string[]>>;

/** A name safe as a file name on every platform: letters, digits, `.`, `_` and `-`; the rest becomes `-`. */
export function safeFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return safe.slice(0, 120) || 'export';
}

export function chartExportFile(message: ChartExportMessage): ExportFile {
  const bytes = message.format === 'svg' ? Buffer.from(message.data, 'utf8') : Buffer.from(message.data, 'base64');
  return { defaultName: `${safeFileName(message.name)}.${message.format}`, filters: { ...FILTERS[message.format] }, bytes: new Uint8Array(bytes) };
}

export function groupsExportFile(message: GroupsExportMessage): ExportFile {
  const bytes = message.format === 'csv' ? new Uint8Array(Buffer.from(groupsToCsv(message.groups, message.step), 'utf8')) : groupsToParquet(message.groups, message.step);
  const step = String(message.step).padStart(6, '0');
  return { defaultName: `${safeFileName(message.runName)}-step-${step}-groups.${message.format}`, filters: { ...FILTERS[message.format] }, bytes };
}

/**
 * Writes `file` to `target` (an absolute path whose folder exists); returns the problem in one line, or
 * undefined when written.
 */
export function writeExport(file: ExportFile, target: string): string | undefined {
  if (!path.isAbsolute(target)) return `${target} is not an absolute path: nothing was saved`;
  try {
    writeFileSync(target, file.bytes);
    return undefined;
  } catch (error) {
    return `could not save ${target}: ${(error as Error).message}`;
  }
}
