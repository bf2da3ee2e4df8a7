/**
 * The frozen vision encoder on onnxruntime-node: one InferenceSession per model file (loaded once, reused),
 * images of any size in, patch features [N * P * d] out. The model is described by a sidecar
 * `<model>.json` (./metadata.ts), so the default designed encoder (media/encoder.onnx) and a user's own
 * CLIP / SigLIP tower (NCHW or NHWC input, mean/std, token or feature-map output) load the same way.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { EncoderError } from './errors.js';
import { imagePixels, writeImageTensor, type EncoderImage } from './image.js';
import { maxEncoderThreads, metadataProblems, type EncoderMetadata } from './metadata.js';
import { FileKindError, readRegularFile } from '../regularFile.js';
import { chooseOrtProviders, createOrtSession } from '../onnx/providers.js';

/** Largest sidecar read (they are a few KB). */
const MAX_SIDECAR_BYTES = 1e6;
/** Largest input tensor of one ORT run, in bytes; batches of large inputs are split to stay under it. */
const MAX_INPUT_TENSOR_BYTES = 256e6;

/** A regular file's bytes, or an EncoderError saying what the path is instead (a FIFO would hang the read). */
export function readEncoderFile(file: string, what: string, maxBytes = Infinity): Buffer {
  try {
    return readRegularFile(file, what, maxBytes);
  } catch (error) {
    if (error instanceof FileKindError) throw new EncoderError(error.message);
    throw new EncoderError(`cannot read ${what} ${file}: ${(error as Error).message}`);
  }
}

export interface Encoder {
  /** Encoder id for caches: the sha256 of the model bytes. */
  readonly id: string;
  readonly modelPath: string;
  readonly metadata: EncoderMetadata;
  /** Patches per image (P) and features per patch (d). */
  readonly patches: number;
  readonly dims: number;
  /** Images per ORT run. */
  readonly batchSize: number;
  /** Patch features of every image, row-major [N, P, d]. */
  encode(images: readonly EncoderImage[]): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface LoadEncoderOptions {
  /** Metadata to use instead of the `<model>.json` sidecar (e.g. for a user's own ONNX tower). */
  metadata?: EncoderMetadata;
  /** ORT intra-op threads (default: the metadata's hint, else ORT's choice: all cores). */
  threads?: number;
  /** Override the images per ORT run. */
  batchSize?: number;
}

const sessions = new Map<string, Promise<Encoder>>();

/** Where media/encoder.onnx is, from source (src/trainer/encoder) or from the bundle (dist/). */
export function defaultEncoderPath(): string {
  const tried: string[] = [];
  let dir = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (let up = 0; up < 5; up++) {
    const candidate = path.join(dir, 'media', 'encoder.onnx');
    if (existsSync(candidate)) return candidate;
    tried.push(candidate);
    dir = path.dirname(dir);
  }
  const fromCwd = path.join(process.cwd(), 'media', 'encoder.onnx');
  if (existsSync(fromCwd)) return fromCwd;
  tried.push(fromCwd);
  throw new EncoderError(`default encoder model not found; looked at ${tried.join(', ')} (build it with: npx tsx scripts/build-encoder.ts)`);
}

/**
 * Loads an encoder once per resolved path (later calls return the same instance; options of later calls
 * are ignored). Default: the bundled designed encoder.
 */
export function loadEncoder(modelPath?: string, options: LoadEncoderOptions = {}): Promise<Encoder> {
  const resolved = path.resolve(modelPath ?? defaultEncoderPath());
  let pending = sessions.get(resolved);
  if (!pending) {
    pending = createEncoder(resolved, options);
    sessions.set(resolved, pending);
    pending.catch(() => sessions.delete(resolved));
  }
  return pending;
}

/** Encodes images with the given encoder (default: the bundled one): [N * P * d] patch features. */
export async function encodeImages(images: readonly EncoderImage[], encoder?: Encoder): Promise<Float32Array> {
  return (encoder ?? (await loadEncoder())).encode(images);
}

function readMetadata(modelPath: string): EncoderMetadata {
  const sidecar = modelPath.replace(/\.onnx$/i, '') + '.json';
  if (!existsSync(sidecar)) {
    throw new EncoderError(`encoder metadata not found: ${sidecar} (next to ${modelPath}); write one describing input and output, or pass options.metadata`);
  }
  const text = readEncoderFile(sidecar, 'encoder metadata', MAX_SIDECAR_BYTES).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new EncoderError(`encoder metadata ${sidecar} is not valid JSON: ${(error as Error).message}`);
  }
  return checkedMetadata(parsed, sidecar);
}

function checkedMetadata(value: unknown, where: string): EncoderMetadata {
  const problems = metadataProblems(value);
  if (problems.length > 0) throw new EncoderError(`encoder metadata ${where} is invalid: ${problems.join('; ')}`);
  return value as EncoderMetadata;
}

function fixedDim(dim: number | string | undefined): number | undefined {
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

async function createEncoder(modelPath: string, options: LoadEncoderOptions): Promise<Encoder> {
  if (!existsSync(modelPath)) throw new EncoderError(`encoder model not found: ${modelPath}`);
  const metadata = options.metadata ? checkedMetadata(options.metadata, `for ${modelPath}`) : readMetadata(modelPath);
  const bytes = readEncoderFile(modelPath, 'encoder model');
  const id = createHash('sha256').update(bytes).digest('hex');
  if (metadata.sha256 && metadata.sha256 !== id) {
    throw new EncoderError(`encoder ${modelPath}: sha256 ${id} does not match the metadata's ${metadata.sha256} (stale sidecar? the default one is rebuilt by: npx tsx scripts/build-encoder.ts)`);
  }
  let session: ort.InferenceSession;
  const providers = chooseOrtProviders();
  try {
    const threads = options.threads ?? metadata.threads;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= maxEncoderThreads())) {
      throw new EncoderError(`encoder ${modelPath}: threads must be a whole number from 1 to ${maxEncoderThreads()} (4 per core), got ${threads}`);
    }
    session = await createOrtSession('encoder', bytes, threads ? { intraOpNumThreads: threads } : {}, providers);
  } catch (error) {
    if (error instanceof EncoderError) throw error;
    throw new EncoderError(`encoder ${modelPath} could not be loaded by onnxruntime: ${(error as Error).message}`);
  }
  const { input, output } = metadata;
  if (!session.inputNames.includes(input.name)) {
    throw new EncoderError(`encoder ${modelPath}: no input named '${input.name}' (the model's inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(output.name)) {
    throw new EncoderError(`encoder ${modelPath}: no output named '${output.name}' (the model's outputs: ${session.outputNames.join(', ')})`);
  }
  const inputInfo = session.inputMetadata.find((m) => m.name === input.name);
  let modelBatch: number | undefined;
  if (inputInfo?.isTensor && inputInfo.shape.length > 0) {
    const expected = input.layout === 'NCHW' ? ['N', 3, input.height, input.width] : ['N', input.height, input.width, 3];
    const shape = inputInfo.shape;
    const mismatch = shape.length !== 4 || shape.some((d, k) => k > 0 && typeof d === 'number' && d > 0 && d !== expected[k]);
    if (mismatch) {
      throw new EncoderError(`encoder ${modelPath}: input '${input.name}' has shape [${shape.join(', ')}], metadata expects [${expected.join(', ')}] (${input.layout})`);
    }
    modelBatch = fixedDim(shape[0]);
  }
  const patches = output.patches;
  const dims = output.dims;
  const perImage = 3 * input.height * input.width;
  // Large inputs run in smaller batches, so one run's input tensor stays under MAX_INPUT_TENSOR_BYTES.
  const memoryBatch = Math.max(1, Math.floor(MAX_INPUT_TENSOR_BYTES / (perImage * 4)));
  const batchSize = modelBatch ?? Math.min(options.batchSize ?? input.batchSize ?? 64, memoryBatch);

  const shapeError = (got: readonly number[], count: number) => {
    const skip = output.skipTokens ?? 0;
    const expected = output.layout === 'tokens' ? `[${count}, ${patches + skip}, ${dims}]` : output.layout === 'channels_first' ? `[${count}, ${dims}, h, w] with h * w = ${patches}` : `[${count}, h, w, ${dims}] with h * w = ${patches}`;
    return new EncoderError(`encoder ${modelPath}: output '${output.name}' has shape [${got.join(', ')}], expected ${expected} (layout '${output.layout}')`);
  };

  /** Throws, naming the model, the output and the image, if the features of images [index, index + count) are not all finite. */
  const checkFinite = (out: Float32Array, index: number, count: number) => {
    const size = patches * dims;
    for (let at = index * size, end = (index + count) * size; at < end; at++) {
      if (Number.isFinite(out[at])) continue;
      const image = Math.floor(at / size);
      const within = at - image * size;
      throw new EncoderError(
        `encoder ${modelPath}: output '${output.name}' is ${out[at]} for images[${image}] (patch ${Math.floor(within / dims)}, feature ${within % dims}); ` +
          'the model must give finite features (check its input mean / std and the model itself)',
        image,
      );
    }
  };

  /** Copies one run's output into `out` as [count, P, d] from `index` on. */
  const collect = (tensor: ort.Tensor, count: number, out: Float32Array, index: number) => {
    const shape = tensor.dims;
    if (tensor.type !== 'float32') throw new EncoderError(`encoder ${modelPath}: output '${output.name}' is ${tensor.type}, expected float32`);
    const data = tensor.data as Float32Array;
    const base = index * patches * dims;
    if (output.layout === 'tokens') {
      const skip = output.skipTokens ?? 0;
      if (shape.length !== 3 || shape[0] !== count || shape[1] !== patches + skip || shape[2] !== dims) throw shapeError(shape, count);
      const tokens = patches + skip;
      for (let n = 0; n < count; n++) out.set(data.subarray((n * tokens + skip) * dims, (n + 1) * tokens * dims), base + n * patches * dims);
    } else if (output.layout === 'channels_last') {
      if (shape.length !== 4 || shape[0] !== count || shape[1] * shape[2] !== patches || shape[3] !== dims) throw shapeError(shape, count);
      out.set(data.subarray(0, count * patches * dims), base);
    } else {
      if (shape.length !== 4 || shape[0] !== count || shape[1] !== dims || shape[2] * shape[3] !== patches) throw shapeError(shape, count);
      for (let n = 0; n < count; n++) {
        for (let c = 0; c < dims; c++) {
          const from = (n * dims + c) * patches;
          const to = base + n * patches * dims + c;
          for (let p = 0; p < patches; p++) out[to + p * dims] = data[from + p];
        }
      }
    }
  };

  const encoder: Encoder = {
    id,
    modelPath,
    metadata,
    patches,
    dims,
    batchSize,
    async encode(images: readonly EncoderImage[]): Promise<Float32Array> {
      if (!Array.isArray(images)) throw new EncoderError(`encodeImages expects an array of images, got ${typeof images}`);
      const pixels = images.map((image, k) => imagePixels(image, `images[${k}]`));
      const out = new Float32Array(pixels.length * patches * dims);
      for (let startAt = 0; startAt < pixels.length; startAt += batchSize) {
        const count = Math.min(batchSize, pixels.length - startAt);
        // A model with a fixed batch gets padded batches; the padding's outputs are dropped.
        const runCount = modelBatch ?? count;
        const batch = new Float32Array(runCount * perImage);
        for (let k = 0; k < count; k++) writeImageTensor(pixels[startAt + k], input, batch, k);
        const dimsIn = input.layout === 'NCHW' ? [runCount, 3, input.height, input.width] : [runCount, input.height, input.width, 3];
        const result = await session.run({ [input.name]: new ort.Tensor('float32', batch, dimsIn) }, [output.name]);
        const tensor = result[output.name] as ort.Tensor;
        if (runCount === count) {
          collect(tensor, count, out, startAt);
        } else {
          const full = new Float32Array(runCount * patches * dims);
          collect(tensor, runCount, full, 0);
          out.set(full.subarray(0, count * patches * dims), startAt * patches * dims);
        }
        checkFinite(out, startAt, count);
      }
      return out;
    },
    async release(): Promise<void> {
      sessions.delete(modelPath);
      await session.release();
    },
  };
  return encoder;
}
