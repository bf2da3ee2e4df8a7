/**
 * What a run records about the dataset it trains on (the run's dataset.json): the file, its content hash,
 * the images' content hash and the row counts; and the check a resumed run makes against the file as it is
 * now. A changed dataset would silently change the tasks a run's history refers to, so resuming on one is
 * refused unless the user says so (`--allow-changed-dataset`).
 */
import { createHash } from 'node:crypto';
import { closeSync } from 'node:fs';
import { DatasetError } from './datasets/records.js';
import { FileKindError, openRegularFile, readRange } from './regularFile.js';

export const DATASET_RECORD_FORMAT = 'durian-dataset/1';

export interface DatasetRowCounts {
  /** Records in the file. */
  total: number;
  train: number;
  validation: number;
  /** Rows left out, by reason kind (undecodable image, unparseable answer, too long, ...). */
  skipped: number;
  skippedByReason: Record<string, number>;
}

export interface DatasetRecord {
  format: typeof DATASET_RECORD_FORMAT;
  /** Absolute path of the dataset file. */
  file: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  /** sha256 of every kept row's images (their pixels, in row order): images on disk are not in the file's bytes. */
  imagesSha256: string;
  rows: DatasetRowCounts;
}

const CHUNK = 4 << 20;

/** sha256 of a regular file, read in chunks. */
export function fileSha256(file: string): string {
  let opened: { fd: number; size: number };
  try {
    opened = openRegularFile(file, 'dataset');
  } catch (error) {
    throw new DatasetError(file, error instanceof FileKindError ? error.problem : `cannot read: ${(error as Error).message}`);
  }
  try {
    const hash = createHash('sha256');
    for (let at = 0; at < opened.size; at += CHUNK) {
      const bytes = readRange(opened.fd, at, Math.min(CHUNK, opened.size - at));
      if (bytes.length === 0) break;
      hash.update(bytes);
    }
    return hash.digest('hex');
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * Why a resumed run's dataset is not the one it was trained on (null: the same). `recorded` is what the run
 * recorded; `current` the dataset as loaded now.
 */
export function datasetChange(recorded: DatasetRecord, current: DatasetRecord): string | null {
  if (recorded.sha256 !== current.sha256) return `the dataset file ${current.file} has changed since the run started (sha256 ${recorded.sha256.slice(0, 12)}... then, ${current.sha256.slice(0, 12)}... now)`;
  if (recorded.imagesSha256 !== current.imagesSha256) return `the images of the dataset ${current.file} have changed since the run started`;
  return null;
}

/** A dataset record read back from JSON (null when it is not one). */
export function parseDatasetRecord(value: unknown): DatasetRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Partial<DatasetRecord>;
  if (record.format !== DATASET_RECORD_FORMAT || typeof record.file !== 'string' || typeof record.sha256 !== 'string' || typeof record.imagesSha256 !== 'string') return null;
  if (typeof record.rows !== 'object' || record.rows === null) return null;
  return record as DatasetRecord;
}
