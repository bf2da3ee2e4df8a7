/**
 * `durian score DATASET`: the perceptual difficulty of every row of a dataset. Each row's visual entropy
 * (spectral entropy of the frozen encoder's patch features; the mean over its images when it has several)
 * and its perceptual bucket over the whole dataset (split at the 25th / 75th percentile, 1:2:1, as Durian
 * splits a batch) go out as JSON Lines; a summary with the skipped rows and why goes to stderr.
 * Entropies are cached per image content hash and encoder id, so a dataset is encoded once.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DurianInputError, PERCEPTUAL_BUCKETS, type PerceptualBucket, perceptualBuckets, printable, quantile } from '../core/index.js';
import { DEFAULT_MEGAPIXELS_IN_FLIGHT, type DatasetFieldOptions, type DatasetRow, MAX_IMAGE_MEGAPIXELS, type SkippedRow, encoderImage, openDataset, skipSummary } from '../trainer/datasets/index.js';
import { RowBatcher } from '../trainer/datasets/rowBatcher.js';
import { type Encoder, type EncoderMetadata, EncoderError, PatchFeatureCache, loadEncoder, metadataProblems } from '../trainer/encoder/index.js';
import { readEncoderFile } from '../trainer/encoder/encoder.js';
import { writeBytesAtomic } from '../trainer/run/atomic.js';
import { ProgressBar, formatNumber } from './progress.js';

const SCORE_HELP = `durian score DATASET [options]

Visual entropy and perceptual bucket of every row of a JSON, JSON Lines or Parquet dataset (rows like
{"images": [...], "problem": ..., "answer": ...}; images as paths relative to the dataset file or embedded
{bytes, path}; PNG or JPEG). Buckets, as Durian splits a batch: rows sorted by entropy are cut into quarters
by rank, low = the first quarter, mid = the middle two, high = the last (1:2:1); equal entropies always share
a bucket (the one their average rank falls in). Writes one JSON line per scored row; the summary and skipped
rows (row number, file, reason) go to stderr.

  --out FILE             JSON Lines output (default: stdout)
  --image-field F        field with the image(s) (default images)
  --problem-field F      field with the question (default problem)
  --answer-field F       field with the answer (default answer)
  --id-field F           field with a row id, when present (default id)
  --image-dir DIR        folder image paths are relative to (default: the dataset's folder)
  --max-megapixels N     largest image, as its header declares it (default ${MAX_IMAGE_MEGAPIXELS}); larger rows are skipped
  --megapixels-in-flight N  most megapixels decoded and held at once: a row's images, a batch (default ${DEFAULT_MEGAPIXELS_IN_FLIGHT})
  --cache-dir DIR        entropy cache (default $DURIAN_CACHE_DIR or ~/.cache/durian-rl; features/ in it);
                         if it cannot be written, a warning is printed and scoring goes on without it
  --no-cache             do not read or write the on-disk cache
  --encoder MODEL        an ONNX vision encoder (default: the bundled one); described by MODEL.json beside it
                         (media/encoder.md, src/trainer/encoder/metadata.ts) or by the flags below, which
                         also override the sidecar:
  --input-name N --input-size HxW (or S) --layout NCHW|NHWC --mean R,G,B --std R,G,B
  --output-name N --output-layout tokens|channels_first|channels_last --patches P --dims D --skip-tokens K
  --batch N              images per encoder run (default: the encoder's)`;

const SCORE_OPTIONS = {
  out: { type: 'string' },
  'image-field': { type: 'string' },
  'problem-field': { type: 'string' },
  'answer-field': { type: 'string' },
  'id-field': { type: 'string' },
  'image-dir': { type: 'string' },
  'max-megapixels': { type: 'string' },
  'megapixels-in-flight': { type: 'string' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  encoder: { type: 'string' },
  'input-name': { type: 'string' },
  'input-size': { type: 'string' },
  layout: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  'output-name': { type: 'string' },
  'output-layout': { type: 'string' },
  patches: { type: 'string' },
  dims: { type: 'string' },
  'skip-tokens': { type: 'string' },
  batch: { type: 'string' },
  help: { type: 'boolean' },
} as const;

export interface ScoredRow {
  row: number;
  id?: string;
  /** The problem's first 80 characters. */
  problem: string;
  /** The first image as the row names it (path, or `<embedded ...>`). */
  image: string;
  /** Every image's entropy, when the row has more than one. */
  images?: { image: string; entropy: number }[];
  width: number;
  height: number;
  entropy: number;
  bucket: PerceptualBucket;
}

export interface ScoreResult {
  rows: ScoredRow[];
  skipped: SkippedRow[];
  total: number;
  encoder: { name: string; id: string; modelPath: string };
  /** 25th and 75th percentile of the entropies (where the buckets split, up to ties). */
  q25: number;
  q75: number;
  buckets: Record<PerceptualBucket, number>;
  cache: { hits: number; encoded: number; directory: string | null };
  /** Problems that did not stop the scoring (an unwritable cache). */
  warnings: string[];
}

export interface ScoreOptions extends DatasetFieldOptions {
  imageDir?: string;
  /** Largest image in megapixels (default MAX_IMAGE_MEGAPIXELS). */
  maxMegapixels?: number;
  /** Most megapixels decoded and held at once (a row's images, an encoder batch; default DEFAULT_MEGAPIXELS_IN_FLIGHT). */
  maxMegapixelsInFlight?: number;
  /** On-disk cache base folder (features/ in it); null: memory only. */
  cacheDir?: string | null;
  encoder?: Encoder;
  batch?: number;
  /** Progress bar stream (default stderr); null: none. */
  progress?: NodeJS.WriteStream | null;
}

export function defaultCacheDir(): string {
  return path.resolve(process.env.DURIAN_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'durian-rl'));
}

function excerpt(text: string, length = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 3)}...` : flat;
}

/** Scores every row of a dataset (the work behind `durian score`). */
export async function scoreDataset(file: string, options: ScoreOptions = {}): Promise<ScoreResult> {
  const encoder = options.encoder ?? (await loadEncoder());
  const cacheDirectory = options.cacheDir === null ? null : path.join(options.cacheDir ?? defaultCacheDir(), 'features');
  const warnings: string[] = [];
  const cache = new PatchFeatureCache(encoder, { ...(cacheDirectory ? { directory: cacheDirectory } : {}), onWarning: (message) => warnings.push(message) });
  const dataset = await openDataset(file, { ...options, keepPixels: true });
  const progress = options.progress === null ? null : new ProgressBar({ total: dataset.total, label: 'score', stream: options.progress });
  const batchSize = options.batch ?? Math.max(encoder.batchSize, 16);
  const pixelBudget = (options.maxMegapixelsInFlight ?? DEFAULT_MEGAPIXELS_IN_FLIGHT) * 1e6;

  const kept: { row: DatasetRow; entropies: number[] }[] = [];
  const skipped: SkippedRow[] = [];
  let seen = 0;
  const batcher = new RowBatcher<{ row: DatasetRow; entropies: number[] }>(batchSize, pixelBudget, async (pending) => {
    const images = pending.flatMap((entry) => entry.row.images.map(encoderImage));
    const entropies = await cache.entropies(images).catch((error: unknown) => {
      throw atRow(error, pending.flatMap((entry) => entry.row.images.map((image) => ({ row: entry.row.row, image: image.source }))));
    });
    let k = 0;
    for (const entry of pending) {
      for (const image of entry.row.images) {
        entry.entropies.push(entropies[k++]);
        delete image.data; // pixels are not needed once scored
      }
      kept.push(entry);
    }
  });
  for await (const item of dataset.items()) {
    seen++;
    if (item.kind === 'skipped') skipped.push(item.skipped);
    else await batcher.add({ row: item.row, entropies: [] });
    if (seen < dataset.total) progress?.update(seen, { scored: kept.length, skipped: skipped.length });
  }
  await batcher.flush();
  progress?.finish({ scored: kept.length, skipped: skipped.length });

  const entropies = kept.map((entry) => entry.entropies.reduce((a, b) => a + b, 0) / entry.entropies.length);
  const bucketOf = perceptualBuckets(entropies);
  const counts: Record<PerceptualBucket, number> = { low: 0, mid: 0, high: 0 };
  const rows: ScoredRow[] = kept.map((entry, k) => {
    const bucket = PERCEPTUAL_BUCKETS[bucketOf[k]];
    counts[bucket]++;
    const first = entry.row.images[0];
    return {
      row: entry.row.row,
      ...(entry.row.id !== undefined ? { id: entry.row.id } : {}),
      problem: excerpt(entry.row.problem),
      image: first.source,
      ...(entry.row.images.length > 1 ? { images: entry.row.images.map((image, i) => ({ image: image.source, entropy: entry.entropies[i] })) } : {}),
      width: first.width,
      height: first.height,
      entropy: entropies[k],
      bucket,
    };
  });
  const stats = cache.stats();
  return {
    rows,
    skipped,
    total: seen,
    encoder: { name: encoder.metadata.name, id: encoder.id, modelPath: encoder.modelPath },
    q25: quantile(entropies, 0.25),
    q75: quantile(entropies, 0.75),
    buckets: counts,
    cache: { hits: stats.memoryHits + stats.diskHits, encoded: stats.misses, directory: cacheDirectory },
    warnings,
  };
}

/** An encoder error about images[k] of a batch, retold with the dataset row and image it came from. */
function atRow(error: unknown, sources: { row: number; image: string }[]): unknown {
  if (!(error instanceof EncoderError) || error.image === undefined || !sources[error.image]) return error;
  const { row, image } = sources[error.image];
  return new EncoderError(`row ${row} (image ${image}): ${error.message.replace(`images[${error.image}]`, 'this image')}`);
}

function megapixelsFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(Number.isFinite(parsed) && parsed > 0 && parsed <= 10000)) throw new DurianInputError(`--${flag}`, `must be a number of megapixels from above 0 to 10000, got ${JSON.stringify(value)}`);
  return parsed;
}

function numberList(value: string, flag: string): [number, number, number] {
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || !parts.every(Number.isFinite)) throw new EncoderError(`--${flag} must be three numbers R,G,B, got ${JSON.stringify(value)}`);
  return parts as [number, number, number];
}

function wholeNumber(value: string, flag: string, min = 1): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new EncoderError(`--${flag} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  return parsed;
}

type ScoreValues = { [K in keyof typeof SCORE_OPTIONS]?: (typeof SCORE_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

const ENCODER_FLAGS = ['input-name', 'input-size', 'layout', 'mean', 'std', 'output-name', 'output-layout', 'patches', 'dims', 'skip-tokens'] as const;

/**
 * The metadata of a user's encoder: its sidecar (MODEL.json) if there is one, with any flags applied on top;
 * without a sidecar the flags must describe it (names default to the model's only input / output).
 */
async function encoderMetadataFromFlags(modelPath: string, values: ScoreValues): Promise<EncoderMetadata | undefined> {
  const given = ENCODER_FLAGS.filter((flag) => values[flag] !== undefined);
  const sidecar = modelPath.replace(/\.onnx$/i, '') + '.json';
  if (!existsSync(modelPath)) throw new EncoderError(`encoder model not found: ${modelPath}`);
  if (given.length === 0) return undefined; // loadEncoder reads the sidecar and names what is wrong
  let base: Partial<EncoderMetadata> = {};
  if (existsSync(sidecar)) {
    const text = readEncoderFile(sidecar, 'encoder metadata', 1e6).toString('utf8');
    try {
      base = JSON.parse(text) as Partial<EncoderMetadata>;
    } catch (error) {
      throw new EncoderError(`encoder metadata ${sidecar} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const input = { ...(base.input ?? {}) } as Partial<EncoderMetadata['input']>;
  const output = { ...(base.output ?? {}) } as Partial<EncoderMetadata['output']>;
  if (!input.name || !output.name) {
    // Default the names to the model's only input / output.
    const ort = await import('onnxruntime-node');
    let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
    try {
      session = await ort.InferenceSession.create(readEncoderFile(modelPath, 'encoder model'));
    } catch (error) {
      throw new EncoderError(`encoder ${modelPath} could not be loaded by onnxruntime: ${(error as Error).message}`);
    }
    if (!input.name && session.inputNames.length === 1) input.name = session.inputNames[0];
    if (!output.name && session.outputNames.length === 1) output.name = session.outputNames[0];
    await session.release();
  }
  if (values['input-name']) input.name = values['input-name'];
  if (values['input-size']) {
    const match = /^(\d+)(?:x(\d+))?$/i.exec(values['input-size']);
    if (!match) throw new EncoderError(`--input-size must be HxW or S, got ${JSON.stringify(values['input-size'])}`);
    input.height = Number(match[1]);
    input.width = Number(match[2] ?? match[1]);
  }
  if (values.layout) input.layout = values.layout.toUpperCase() as 'NCHW' | 'NHWC';
  input.mean = values.mean ? numberList(values.mean, 'mean') : input.mean ?? [0, 0, 0];
  input.std = values.std ? numberList(values.std, 'std') : input.std ?? [1, 1, 1];
  if (values['output-name']) output.name = values['output-name'];
  if (values['output-layout']) output.layout = values['output-layout'] as EncoderMetadata['output']['layout'];
  if (values.patches) output.patches = wholeNumber(values.patches, 'patches');
  if (values.dims) output.dims = wholeNumber(values.dims, 'dims');
  if (values['skip-tokens']) output.skipTokens = wholeNumber(values['skip-tokens'], 'skip-tokens', 0);
  const metadata = {
    format: 'durian-encoder/1',
    name: base.name ?? path.basename(modelPath).replace(/\.onnx$/i, ''),
    description: base.description ?? `user encoder ${modelPath}`,
    ...base,
    input,
    output,
  };
  delete (metadata as { sha256?: string }).sha256; // flags describe the model as it is now
  const problems = metadataProblems(metadata);
  if (problems.length > 0) {
    throw new EncoderError(`encoder ${modelPath}: ${problems.join('; ')} (${existsSync(sidecar) ? `sidecar ${sidecar} plus flags` : `no sidecar ${sidecar}; describe the model with --input-size, --layout, --output-layout, --patches, --dims`})`);
  }
  return metadata as EncoderMetadata;
}

export async function runScore(argv: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: SCORE_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return print(SCORE_HELP), 0;
  if (positionals.length !== 1) throw new DurianInputError('durian score', `takes one DATASET file, got ${positionals.length} (see durian score --help)`);
  const file = positionals[0];
  let encoder: Encoder | undefined;
  if (values.encoder) {
    const modelPath = path.resolve(values.encoder);
    const metadata = await encoderMetadataFromFlags(modelPath, values);
    encoder = await loadEncoder(modelPath, metadata ? { metadata } : {});
  } else if (ENCODER_FLAGS.some((flag) => values[flag] !== undefined)) {
    throw new DurianInputError('durian score', 'encoder flags (--input-size, --patches, ...) need --encoder MODEL');
  }
  const result = await scoreDataset(file, {
    imageField: values['image-field'],
    problemField: values['problem-field'],
    answerField: values['answer-field'],
    idField: values['id-field'],
    imageDir: values['image-dir'],
    maxMegapixels: megapixelsFlag(values['max-megapixels'], 'max-megapixels'),
    maxMegapixelsInFlight: megapixelsFlag(values['megapixels-in-flight'], 'megapixels-in-flight'),
    cacheDir: values['no-cache'] ? null : values['cache-dir'] ? path.resolve(values['cache-dir']) : defaultCacheDir(),
    encoder,
    batch: values.batch ? wholeNumber(values.batch, 'batch') : undefined,
  });
  const lines = result.rows.map((row) => JSON.stringify(row)).join('\n');
  if (values.out) {
    writeBytesAtomic(path.resolve(values.out), lines === '' ? '' : `${lines}\n`);
  } else if (lines !== '') {
    print(lines);
  }
  for (const line of summaryLines(result, values.out)) process.stderr.write(`${line}\n`);
  return result.rows.length === 0 ? 1 : 0;
}

const SKIPS_LISTED = 20;

function summaryLines(result: ScoreResult, out?: string): string[] {
  const lines = [
    `scored ${result.rows.length} of ${result.total} rows (${result.skipped.length} skipped) with encoder ${printable(result.encoder.name)} (${result.encoder.id.slice(0, 12)})${out ? ` -> ${printable(out)}` : ''}`,
  ];
  if (result.rows.length > 0) {
    lines.push(`entropy q25 ${formatNumber(result.q25)}, q75 ${formatNumber(result.q75)}; buckets low ${result.buckets.low}, mid ${result.buckets.mid}, high ${result.buckets.high}`);
  }
  lines.push(`cache: ${result.cache.hits} image(s) from cache, ${result.cache.encoded} encoded${result.cache.directory ? ` (${printable(result.cache.directory)})` : ' (memory only)'}`);
  for (const warning of result.warnings) lines.push(`warning: ${warning}`);
  if (result.skipped.length > 0) {
    lines.push(`skipped: ${skipSummary(result.skipped).map((s) => `${s.count} ${s.reason}`).join(', ')}`);
    for (const s of result.skipped.slice(0, SKIPS_LISTED)) lines.push(`  row ${s.row}${s.line !== undefined ? ` (line ${s.line})` : ''}: ${printable(s.reason)} [${printable(s.file)}]`);
    if (result.skipped.length > SKIPS_LISTED) lines.push(`  ... and ${result.skipped.length - SKIPS_LISTED} more`);
  }
  return lines;
}
