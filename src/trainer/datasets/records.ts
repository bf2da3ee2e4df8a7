/**
 * Raw records of a dataset file, one at a time: a JSON array, JSON Lines, or Parquet (hyparquet, pure JS;
 * snappy and uncompressed pages). What a record must hold is checked by ./dataset.ts; here only a line that
 * is not JSON becomes a record error, so it is reported with its row and line like any other bad row.
 */
import { closeSync, createReadStream, readSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { printable } from '../../core/printable.js';
import { FileKindError, openRegularFile, readRegularFile } from '../regularFile.js';

export type DatasetFormat = 'json' | 'jsonl' | 'parquet';

/** A whole-file problem (unreadable, not JSON, unknown format, missing column): nothing can be loaded. */
export class DatasetError extends Error {
  constructor(readonly file: string, problem: string) {
    super(printable(`dataset ${file}: ${problem}`));
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

/**
 * Largest JSON (array) file read whole: V8 strings hold at most ~512 MB. JSON Lines files have no limit
 * (they are streamed line by line).
 */
const MAX_JSON_BYTES = 500e6;

function readText(file: string): string {
  try {
    return readRegularFile(file, 'dataset', MAX_JSON_BYTES).toString('utf8');
  } catch (error) {
    if (error instanceof FileKindError) {
      const hint = error.tooLarge ? ' (JSON files are read whole; write the rows as JSON Lines, one per line, which are streamed)' : '';
      throw new DatasetError(file, `${error.problem}${hint}`);
    }
    throw new DatasetError(file, `cannot read: ${(error as Error).message}`);
  }
}

/** Lines of a regular file, streamed (any size; checked to be a regular file first). */
async function* fileLines(file: string): AsyncGenerator<string> {
  let fd: number;
  try {
    fd = openRegularFile(file, 'dataset').fd;
  } catch (error) {
    throw new DatasetError(file, error instanceof FileKindError ? error.problem : `cannot read: ${(error as Error).message}`);
  }
  const input = createReadStream('', { fd, encoding: 'utf8' });
  try {
    yield* createInterface({ input, crlfDelay: Infinity });
  } finally {
    input.destroy();
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
  // One streamed pass to count rows (for progress bars) and find the first record's fields; a second streams them.
  let total = 0;
  let fields: string[] = [];
  for await (const line of fileLines(file)) {
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
      let line = 0;
      let row = 0;
      for await (const text of fileLines(file)) {
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

/** Parquet bytes read on demand from a checked, open regular file (hyparquet's AsyncBuffer). */
function parquetBuffer(file: string): { byteLength: number; slice(start: number, end?: number): ArrayBuffer; close(): void } {
  let opened: { fd: number; size: number };
  try {
    opened = openRegularFile(file, 'dataset');
  } catch (error) {
    throw new DatasetError(file, error instanceof FileKindError ? error.problem : `cannot read: ${(error as Error).message}`);
  }
  const { fd, size } = opened;
  return {
    byteLength: size,
    slice(start: number, end = size) {
      const from = Math.max(0, Math.min(start, size));
      const bytes = new Uint8Array(Math.max(0, Math.min(end, size) - from));
      for (let at = 0; at < bytes.length; ) {
        const read = readSync(fd, bytes, at, bytes.length - at, from + at);
        if (read === 0) break;
        at += read;
      }
      return bytes.buffer;
    },
    close: () => closeSync(fd),
  };
}

/** A row group as its data holds it: where hyparquet addresses it (by declared counts) and how many rows it really has. */
interface RowGroupSpan {
  /** First row of the group in hyparquet's numbering (the declared counts of the groups before it). */
  start: number;
  /** Rows actually there: the declared count, but no more than any read column chunk holds values. */
  rows: number;
}

async function parquetSource(file: string, wanted: ColumnChoice): Promise<RecordSource> {
  // hyparquet is an ES module: loaded on first use (and bundled by esbuild).
  const hyparquet = await import('hyparquet');
  // Read through an AsyncBuffer: only the footer and the wanted columns' pages are read from disk.
  const footer = parquetBuffer(file);
  let metadata: Awaited<ReturnType<typeof hyparquet.parquetMetadataAsync>>;
  try {
    metadata = await hyparquet.parquetMetadataAsync(footer);
  } catch (error) {
    throw new DatasetError(file, `is not a readable Parquet file: ${(error as Error).message}`);
  } finally {
    footer.close();
  }
  const fields = hyparquet.parquetSchema(metadata).children.map((child) => child.element.name);
  const wantedNames = typeof wanted === 'function' ? wanted(fields) : wanted;
  const columns = [...new Set(wantedNames)].filter((name) => fields.includes(name));
  // The footer's num_rows is not trusted (a forged one made the reader loop for ever, or report rows that
  // are not there as skipped): each row group counts as the rows its column chunks hold values for.
  const groups: RowGroupSpan[] = [];
  let declared = 0;
  for (const group of metadata.row_groups) {
    const chunkValues = group.columns
      .filter((chunk) => chunk.meta_data && columns.includes(chunk.meta_data.path_in_schema[0]))
      .map((chunk) => Number(chunk.meta_data!.num_values));
    const groupRows = Number(group.num_rows);
    groups.push({ start: declared, rows: Math.max(0, Math.min(groupRows, ...chunkValues)) });
    declared += groupRows;
  }
  const total = groups.reduce((sum, group) => sum + group.rows, 0);
  return {
    format: 'parquet',
    total,
    fields,
    async *records() {
      // Opened (and checked) again for each pass, and closed when the pass ends.
      const buffer = parquetBuffer(file);
      let row = 0;
      try {
        for (const group of groups) {
          for (let offset = 0; offset < group.rows; offset += PARQUET_CHUNK_ROWS) {
            const start = group.start + offset;
            const end = group.start + Math.min(group.rows, offset + PARQUET_CHUNK_ROWS);
            let rows: Record<string, unknown>[];
            try {
              // utf8: false keeps un-annotated binary columns (embedded image bytes) as Uint8Array; STRING columns are still text.
              rows = (await hyparquet.parquetReadObjects({ file: buffer, metadata, columns, rowStart: start, rowEnd: end, utf8: false })) as Record<string, unknown>[];
            } catch (error) {
              throw new DatasetError(file, `rows ${row}..${row + end - start - 1} could not be read: ${(error as Error).message}`);
            }
            for (const record of rows) yield { row: row++, record };
            // Fewer rows than asked for: the group holds no more (whatever its metadata says).
            if (rows.length < end - start) break;
          }
        }
      } finally {
        buffer.close();
      }
    },
  };
}

/** Columns Parquet reads: a list, or a choice among the file's columns. */
export type ColumnChoice = readonly string[] | ((fields: readonly string[]) => readonly string[]);

/**
 * Opens a dataset file's records. `columns` limits what Parquet reads (the fields the loader uses); JSON
 * formats always hold every field.
 */
export async function openRecords(file: string, options: { format?: DatasetFormat; columns?: ColumnChoice } = {}): Promise<RecordSource> {
  const format = formatOf(file, options.format);
  if (format === 'json') return jsonSource(file);
  if (format === 'jsonl') return jsonlSource(file);
  return parquetSource(file, options.columns ?? []);
}
