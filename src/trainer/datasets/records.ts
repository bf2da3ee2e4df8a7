/**
 * Raw records of a dataset file, one at a time: a JSON array, JSON Lines, or Parquet (hyparquet, pure JS;
 * snappy and uncompressed pages). What a record must hold is checked by ./dataset.ts; here only a line that
 * is not JSON becomes a record error, so it is reported with its row and line like any other bad row.
 */
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export type DatasetFormat = 'json' | 'jsonl' | 'parquet';

/** A whole-file problem (unreadable, not JSON, unknown format, missing column): nothing can be loaded. */
export class DatasetError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`dataset ${file}: ${problem}`);
    this.name = 'DatasetError';
  }
}

export type RawRecord =
  | { row: number; line?: number; record: Record<string, unknown> }
  | { row: number; line?: number; error: string };

export interface RecordSource {
  format: DatasetFormat;
  /** Records in the file (rows, JSON Lines that are not blank, array elements). */
  total: number;
  /** Column names (Parquet) or the keys of the first record (JSON), for error messages. */
  fields: string[];
  records(): AsyncGenerator<RawRecord>;
}

export function formatOf(file: string, format?: DatasetFormat): DatasetFormat {
  if (format) return format;
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.jsonlines')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  throw new DatasetError(file, `cannot tell the format from the name ${JSON.stringify(path.basename(file))} (expected .json, .jsonl or .parquet; or pass the format)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new DatasetError(file, `cannot read: ${(error as Error).message}`);
  }
}

function jsonSource(file: string): RecordSource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(file));
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError(file, `is not valid JSON: ${(error as Error).message} (JSON Lines files should end in .jsonl)`);
  }
  if (!Array.isArray(parsed)) throw new DatasetError(file, `must hold a JSON array of rows, got ${parsed === null ? 'null' : typeof parsed}`);
  const rows = parsed;
  return {
    format: 'json',
    total: rows.length,
    fields: isRecord(rows[0]) ? Object.keys(rows[0]) : [],
    async *records() {
      for (let row = 0; row < rows.length; row++) {
        const value = rows[row];
        yield isRecord(value) ? { row, record: value } : { row, error: `is not a JSON object (got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value})` };
      }
    },
  };
}

async function jsonlSource(file: string): Promise<RecordSource> {
  // One pass to count rows (for progress bars) and find the first record's fields; a second streams them.
  const text = readText(file);
  let total = 0;
  let fields: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (total === 0) {
      try {
        const first = JSON.parse(line) as unknown;
        if (isRecord(first)) fields = Object.keys(first);
      } catch {
        // Reported per row when streamed.
      }
    }
    total++;
  }
  return {
    format: 'jsonl',
    total,
    fields,
    async *records() {
      const reader = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
      let line = 0;
      let row = 0;
      for await (const text of reader) {
        line++;
        if (text.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (error) {
          yield { row: row++, line, error: `line ${line} is not valid JSON: ${(error as Error).message}` };
          continue;
        }
        yield isRecord(value) ? { row: row++, line, record: value } : { row: row++, line, error: `line ${line} is not a JSON object` };
      }
    },
  };
}

/** Rows per Parquet read: bounds memory when images are embedded (a few MB each). */
const PARQUET_CHUNK_ROWS = 64;

async function parquetSource(file: string, wanted: readonly string[]): Promise<RecordSource> {
  // hyparquet is an ES module: loaded on first use (and bundled by esbuild).
  const hyparquet = await import('hyparquet');
  // Read through an AsyncBuffer: only the footer and the wanted columns' pages are read from disk.
  let buffer: Awaited<ReturnType<typeof hyparquet.asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof hyparquet.parquetMetadataAsync>>;
  try {
    buffer = await hyparquet.asyncBufferFromFile(file);
  } catch (error) {
    throw new DatasetError(file, `cannot read: ${(error as Error).message}`);
  }
  try {
    metadata = await hyparquet.parquetMetadataAsync(buffer);
  } catch (error) {
    throw new DatasetError(file, `is not a readable Parquet file: ${(error as Error).message}`);
  }
  const total = Number(metadata.num_rows);
  const fields = hyparquet.parquetSchema(metadata).children.map((child) => child.element.name);
  const columns = wanted.filter((name) => fields.includes(name));
  return {
    format: 'parquet',
    total,
    fields,
    async *records() {
      for (let start = 0; start < total; start += PARQUET_CHUNK_ROWS) {
        const end = Math.min(total, start + PARQUET_CHUNK_ROWS);
        let rows: Record<string, unknown>[];
        try {
          // utf8: false keeps un-annotated binary columns (embedded image bytes) as Uint8Array; STRING columns are still text.
          rows = (await hyparquet.parquetReadObjects({ file: buffer, metadata, columns, rowStart: start, rowEnd: end, utf8: false })) as Record<string, unknown>[];
        } catch (error) {
          throw new DatasetError(file, `rows ${start}..${end - 1} could not be read: ${(error as Error).message}`);
        }
        for (let k = 0; k < rows.length; k++) yield { row: start + k, record: rows[k] };
      }
    },
  };
}

/**
 * Opens a dataset file's records. `columns` limits what Parquet reads (the fields the loader uses); JSON
 * formats always hold every field.
 */
export async function openRecords(file: string, options: { format?: DatasetFormat; columns?: readonly string[] } = {}): Promise<RecordSource> {
  const format = formatOf(file, options.format);
  if (format === 'json') return jsonSource(file);
  if (format === 'jsonl') return jsonlSource(file);
  return parquetSource(file, options.columns ?? []);
}
