/**
 * Multimodal RL datasets in the shape EasyR1 / verl / HF datasets use (e.g. Geometry3K):
 *   { "images": ["img/0.png"], "problem": "<image>Find x.", "answer": "3" }
 * `images` holds paths relative to the dataset file (or to `imageDir`), or embedded images as HF datasets
 * write them ({ bytes, path }, bytes as Uint8Array in Parquet or base64 in JSON), one or a list. Field names
 * are options. Every bad row is reported with its row number and file, skipped and counted: the result's
 * `rows.length + skipped.length === total`, always.
 *
 * Row numbers are 0-based record indices (as `dataset[row]` in HF datasets or pandas `iloc`); JSON Lines
 * rows also carry their 1-based line number.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { DurianInputError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import { DatasetError, type DatasetFormat, openRecords } from './records.js';
import { checkImageSize, decodeImage, type DecodedImage, type ImageFormat, type ImageHeader, MAX_IMAGE_MEGAPIXELS, readImageHeader } from './decode.js';
import { FileKindError, readRegularFile } from '../regularFile.js';

/** Default pixel budget of the images decoded together (one row's images; a scoring batch), in megapixels. */
export const DEFAULT_MEGAPIXELS_IN_FLIGHT = 100;

export interface DatasetFieldOptions {
  /** Field holding the image(s) (default 'images'). */
  imageField?: string;
  /** Field holding the question (default 'problem'). */
  problemField?: string;
  /** Field holding the verifiable answer (default 'answer'). */
  answerField?: string;
  /** Field holding a row id, used when present (default 'id'). */
  idField?: string;
}

export interface DatasetOptions extends DatasetFieldOptions {
  /** File format (default: from the extension: .json, .jsonl / .ndjson, .parquet). */
  format?: DatasetFormat;
  /** Folder relative image paths are resolved against and must stay inside (default: the dataset file's folder). */
  imageDir?: string;
  /** Keep decoded pixels in the rows (default true); false keeps only their geometry (decoding still checks them). */
  keepPixels?: boolean;
  /** Largest image, in megapixels, as its header declares it (default MAX_IMAGE_MEGAPIXELS, 40). */
  maxMegapixels?: number;
  /** Largest total of one row's images, in megapixels (default DEFAULT_MEGAPIXELS_IN_FLIGHT, 100). */
  maxMegapixelsInFlight?: number;
  /**
   * Other fields each row carries in `extra` (e.g. a split column, difficulty levels): a list, or a choice
   * among the file's fields (Parquet columns; the first record's keys in JSON).
   */
  extraFields?: readonly string[] | ((fields: readonly string[]) => readonly string[]);
  /** Keep embedded images' encoded bytes in `bytes` (default false), e.g. to write them out later. */
  keepEmbeddedBytes?: boolean;
}

export const DEFAULT_FIELDS: Required<DatasetFieldOptions> = { imageField: 'images', problemField: 'problem', answerField: 'answer', idField: 'id' };

export interface DatasetImage {
  /** How the row names it: the relative path as written, or `<embedded images[k]>` (with its `path` if any). */
  source: string;
  /** Absolute file path for images on disk; undefined for embedded ones. */
  file?: string;
  embedded: boolean;
  format: ImageFormat;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** 8-bit pixels, row-major, channel-last (absent with keepPixels: false). */
  data?: Uint8Array;
  /** An embedded image's encoded bytes (PNG / JPEG), with keepEmbeddedBytes. */
  bytes?: Uint8Array;
}

export interface DatasetRow {
  row: number;
  /** JSON Lines only: 1-based line number. */
  line?: number;
  id?: string;
  problem: string;
  answer: string;
  images: DatasetImage[];
  /** The row's values of the `extraFields` it has. */
  extra?: Record<string, unknown>;
}

export interface SkippedRow {
  row: number;
  line?: number;
  /** The file at fault: the image file when an image is, else the dataset file. */
  file: string;
  reason: string;
}

export interface LoadedDataset {
  file: string;
  format: DatasetFormat;
  rows: DatasetRow[];
  skipped: SkippedRow[];
  /** Records in the file: rows.length + skipped.length. */
  total: number;
}

export type DatasetItem = { kind: 'row'; row: DatasetRow } | { kind: 'skipped'; skipped: SkippedRow };

export interface OpenedDataset {
  file: string;
  format: DatasetFormat;
  total: number;
  /** Column names (Parquet) or the keys of the first record (JSON), for error messages. */
  fields: string[];
  /** Rows and skipped rows in file order, decoded one at a time. */
  items(): AsyncGenerator<DatasetItem>;
}

/** A bad row: the loader reports it and goes on. */
class RowProblem extends Error {
  constructor(message: string, readonly file?: string) {
    super(printable(message));
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return typeof value === 'object' ? 'an object' : typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value) : `${typeof value} ${String(value)}`;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return undefined;
}

/** Embedded bytes as HF datasets and JSON exports write them: Uint8Array, base64 / data URL, number list, Node Buffer JSON. */
function embeddedBytes(value: unknown, where: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') {
    const base64 = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
    if (!/^[A-Za-z0-9+/_=\s-]*$/.test(base64)) throw new RowProblem(`${where}.bytes is a string but not base64`);
    return new Uint8Array(Buffer.from(base64, 'base64'));
  }
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(value as number[]);
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return embeddedBytes((value as { data: unknown }).data, where);
  }
  throw new RowProblem(`${where}.bytes must be bytes or a base64 string, got ${describe(value)}`);
}

interface ImageRef {
  source: string;
  file?: string;
  bytes?: Uint8Array;
}

function resolveImagePath(relative: string, root: string, where: string): ImageRef {
  if (relative.trim() === '') throw new RowProblem(`${where} is an empty path`);
  if (relative.startsWith('data:')) return { source: `<${where} data URL>`, bytes: embeddedBytes(relative, where) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(relative)) throw new RowProblem(`${where} is a URL (${relative.slice(0, 80)}); download the images and list local paths`);
  const file = path.resolve(root, relative);
  if (!isInside(root, file)) throw new RowProblem(`image path ${JSON.stringify(relative)} escapes the dataset folder ${root}`, file);
  return { source: relative, file };
}

/** Whether `file` is strictly inside folder `root` (both absolute), compared by path segments. */
function isInside(root: string, file: string): boolean {
  const inside = path.relative(root, file);
  // '..foo.png' is a file name, not a way up: only a whole '..' segment leaves the folder.
  return inside !== '' && inside !== '..' && !inside.startsWith(`..${path.sep}`) && !path.isAbsolute(inside);
}

/** The real path of a folder (symlinks resolved); the path itself when it cannot be resolved. */
function realFolder(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    return folder;
  }
}

/** The image references of a row's image field: one or a list of paths / {bytes, path} objects. */
function imageRefs(value: unknown, field: string, root: string): ImageRef[] {
  if (value === undefined) throw new RowProblem(`missing image: no field ${JSON.stringify(field)}`);
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || value === null) throw new RowProblem(`missing image: ${JSON.stringify(field)} is ${value === null ? 'null' : 'an empty list'}`);
  return list.map((item, k) => {
    const where = Array.isArray(value) ? `${field}[${k}]` : field;
    if (typeof item === 'string') return resolveImagePath(item, root, where);
    if (typeof item === 'object' && item !== null && !(item instanceof Uint8Array)) {
      const { bytes, path: name } = item as { bytes?: unknown; path?: unknown };
      if (bytes !== undefined && bytes !== null) {
        const label = typeof name === 'string' && name !== '' ? ` ${name}` : '';
        return { source: `<embedded ${where}${label}>`, bytes: embeddedBytes(bytes, where) };
      }
      if (typeof name === 'string') return resolveImagePath(name, root, `${where}.path`);
      throw new RowProblem(`missing image: ${where} has neither bytes nor path`);
    }
    if (item instanceof Uint8Array) return { source: `<embedded ${where}>`, bytes: item };
    throw new RowProblem(`${where} must be a path or {bytes, path}, got ${describe(item)}`);
  });
}

interface ImageLimits {
  keepPixels: boolean;
  keepEmbeddedBytes: boolean;
  maxMegapixels: number;
  maxMegapixelsInFlight: number;
  /** The image folder with symlinks resolved: an image file's real path must lie inside it. */
  realRoot: string;
}

/** An image's bytes and declared size, before decoding. */
interface ImageBytes {
  ref: ImageRef;
  bytes: Uint8Array;
  header: ImageHeader;
}

/**
 * Reads an image's bytes (a regular file whose real path stays inside the image folder, never larger than
 * its pixel limit allows) and its declared size, checked against the per-image limit.
 */
function readImage(ref: ImageRef, limits: ImageLimits): ImageBytes {
  let bytes = ref.bytes;
  if (!bytes) {
    let real: string;
    try {
      real = realpathSync(ref.file!);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new RowProblem(code === 'ENOENT' ? `missing image file ${ref.source}` : `cannot read image ${ref.source}: ${(error as Error).message}`, ref.file);
    }
    if (!isInside(limits.realRoot, real)) throw new RowProblem(`image path ${JSON.stringify(ref.source)} escapes the dataset folder ${limits.realRoot} (through a symbolic link)`, ref.file);
    try {
      // At most 8 bytes a pixel (16-bit RGBA, incompressible) plus chunks and metadata.
      bytes = readRegularFile(real, 'image', limits.maxMegapixels * 8e6 + 16e6);
    } catch (error) {
      if (error instanceof FileKindError) throw new RowProblem(error.message, ref.file);
      throw new RowProblem(`cannot read image ${ref.source}: ${(error as Error).message}`, ref.file);
    }
  }
  try {
    const header = readImageHeader(bytes);
    checkImageSize(header, { maxMegapixels: limits.maxMegapixels });
    return { ref, bytes, header };
  } catch (error) {
    throw new RowProblem(`image ${ref.source}: ${(error as Error).message}`, ref.file);
  }
}

function decodeRowImage({ ref, bytes }: ImageBytes, limits: ImageLimits): DatasetImage {
  let decoded: DecodedImage;
  try {
    decoded = decodeImage(bytes, { maxMegapixels: limits.maxMegapixels });
  } catch (error) {
    throw new RowProblem(`image ${ref.source}: ${(error as Error).message}`, ref.file);
  }
  const image: DatasetImage = { source: ref.source, embedded: ref.file === undefined, format: decoded.format, width: decoded.width, height: decoded.height, channels: decoded.channels };
  if (ref.file) image.file = ref.file;
  if (limits.keepPixels) image.data = decoded.data;
  if (limits.keepEmbeddedBytes && ref.file === undefined) image.bytes = bytes;
  return image;
}

/** A row's images: every header is read and the row's total checked against the in-flight budget before any is decoded. */
function loadRowImages(refs: ImageRef[], limits: ImageLimits): DatasetImage[] {
  const read = refs.map((ref) => readImage(ref, limits));
  const pixels = read.reduce((sum, image) => sum + image.header.width * image.header.height, 0);
  if (pixels > limits.maxMegapixelsInFlight * 1e6) {
    throw new RowProblem(`its ${read.length} images declare ${Math.round(pixels / 1e6)} MP together, over the ${limits.maxMegapixelsInFlight} MP in-flight limit`);
  }
  return read.map((image) => decodeRowImage(image, limits));
}

/** Opens a dataset for streaming (rows decoded one at a time; suits datasets larger than memory). */
export async function openDataset(file: string, options: DatasetOptions = {}): Promise<OpenedDataset> {
  const fields = { ...DEFAULT_FIELDS, ...dropUndefined(options) };
  const datasetFile = path.resolve(file);
  const root = path.resolve(options.imageDir ?? path.dirname(datasetFile));
  const own = [fields.imageField, fields.problemField, fields.answerField, fields.idField];
  const extraFields = options.extraFields;
  let extras: readonly string[] = typeof extraFields === 'function' ? [] : (extraFields ?? []);
  const source = await openRecords(datasetFile, {
    format: options.format,
    columns: (available) => {
      if (typeof extraFields === 'function') extras = extraFields(available);
      return [...own, ...extras];
    },
  });
  if (typeof extraFields === 'function' && source.format !== 'parquet') extras = extraFields(source.fields);
  if (source.format === 'parquet') {
    const missing = [fields.imageField, fields.problemField, fields.answerField].filter((name) => !source.fields.includes(name));
    if (missing.length > 0) {
      throw new DatasetError(datasetFile, `no column ${missing.map((m) => JSON.stringify(m)).join(', ')} (columns: ${source.fields.join(', ')}); name the fields with imageField / problemField / answerField`);
    }
  }
  const limits: ImageLimits = {
    keepPixels: options.keepPixels ?? true,
    keepEmbeddedBytes: options.keepEmbeddedBytes ?? false,
    maxMegapixels: positiveLimit(options.maxMegapixels, MAX_IMAGE_MEGAPIXELS, 'maxMegapixels'),
    maxMegapixelsInFlight: positiveLimit(options.maxMegapixelsInFlight, DEFAULT_MEGAPIXELS_IN_FLIGHT, 'maxMegapixelsInFlight'),
    realRoot: realFolder(root),
  };
  return {
    file: datasetFile,
    format: source.format,
    total: source.total,
    fields: source.fields,
    async *items() {
      for await (const raw of source.records()) {
        const at = { row: raw.row, ...(raw.line !== undefined ? { line: raw.line } : {}) };
        if ('error' in raw) {
          yield { kind: 'skipped', skipped: { ...at, file: datasetFile, reason: raw.error } };
          continue;
        }
        try {
          yield { kind: 'row', row: { ...at, ...checkRecord(raw.record, fields, root, limits), ...extraValues(raw.record, extras) } };
        } catch (error) {
          if (!(error instanceof RowProblem)) throw error;
          const hint = error.message.startsWith('missing image: no field') && source.fields.length > 0 ? ` (fields: ${source.fields.join(', ')})` : '';
          yield { kind: 'skipped', skipped: { ...at, file: error.file ?? datasetFile, reason: `${error.message}${hint}` } };
        }
      }
    },
  };
}

function checkRecord(record: Record<string, unknown>, fields: Required<DatasetFieldOptions>, root: string, limits: ImageLimits): Omit<DatasetRow, 'row' | 'line'> {
  const problem = text(record[fields.problemField]);
  if (problem === undefined) throw new RowProblem(record[fields.problemField] === undefined ? `missing problem: no field ${JSON.stringify(fields.problemField)}` : `problem must be text, got ${describe(record[fields.problemField])}`);
  if (problem.trim() === '') throw new RowProblem('empty problem');
  const rawAnswer = record[fields.answerField];
  const answer = text(rawAnswer);
  if (answer === undefined) throw new RowProblem(rawAnswer === undefined || rawAnswer === null ? `empty answer: no field ${JSON.stringify(fields.answerField)}` : `answer must be text or a number, got ${describe(rawAnswer)}`);
  if (answer.trim() === '') throw new RowProblem('empty answer');
  const images = loadRowImages(imageRefs(record[fields.imageField], fields.imageField, root), limits);
  const id = text(record[fields.idField]);
  return { ...(id !== undefined && id !== '' ? { id } : {}), problem, answer, images };
}

function extraValues(record: Record<string, unknown>, extras: readonly string[]): { extra?: Record<string, unknown> } {
  const present = extras.filter((name) => Object.hasOwn(record, name));
  return present.length > 0 ? { extra: Object.fromEntries(present.map((name) => [name, record[name]])) } : {};
}

function positiveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0)) throw new DurianInputError(name, `must be a number of megapixels > 0, got ${String(value)}`);
  return value;
}

function dropUndefined(options: DatasetFieldOptions): DatasetFieldOptions {
  const out: DatasetFieldOptions = {};
  for (const key of ['imageField', 'problemField', 'answerField', 'idField'] as const) if (options[key] !== undefined) out[key] = options[key];
  return out;
}

/** Loads every row of a dataset: `{ rows, skipped: [{row, file, reason}], total }`. */
export async function loadDataset(file: string, options: DatasetOptions = {}): Promise<LoadedDataset> {
  const opened = await openDataset(file, options);
  const rows: DatasetRow[] = [];
  const skipped: SkippedRow[] = [];
  for await (const item of opened.items()) {
    if (item.kind === 'row') rows.push(item.row);
    else skipped.push(item.skipped);
  }
  return { file: opened.file, format: opened.format, rows, skipped, total: rows.length + skipped.length };
}

/** A row's image as the encoder takes it (pixels must have been kept). */
export function encoderImage(image: DatasetImage): { width: number; height: number; data: Uint8Array; channels: 1 | 3 | 4 } {
  if (!image.data) throw new Error(`image ${image.source} was loaded without pixels (keepPixels: false)`);
  return { width: image.width, height: image.height, data: image.data, channels: image.channels };
}

/** Counts skipped rows by reason kind (the text before the first ':' or the first path), for summaries. */
export function skipSummary(skipped: readonly SkippedRow[]): { reason: string; count: number; rows: number[] }[] {
  const groups = new Map<string, number[]>();
  for (const s of skipped) {
    const kind = reasonKind(s.reason);
    const list = groups.get(kind) ?? [];
    list.push(s.row);
    groups.set(kind, list);
  }
  return [...groups.entries()].map(([reason, rows]) => ({ reason, count: rows.length, rows })).sort((a, b) => b.count - a.count);
}

function reasonKind(reason: string): string {
  if (reason.startsWith('missing image')) return 'missing image';
  if (reason.startsWith('empty answer')) return 'empty answer';
  if (reason.includes('escapes the dataset folder')) return 'image path escapes the dataset folder';
  if (/ MP limit| MP in-flight limit|compression bomb/.test(reason)) return 'image over the pixel limit';
  if (/not a regular file/.test(reason)) return 'image is not a regular file';
  if (/undecodable|not supported|not a PNG or JPEG|file is empty/.test(reason)) return 'undecodable image';
  if (reason.includes('not valid JSON') || reason.includes('not a JSON object')) return 'not a JSON object';
  return reason.split(':')[0];
}
