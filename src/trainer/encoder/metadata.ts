/**
 * What the trainer must know about a vision encoder's ONNX file: the sidecar `<model>.json`.
 * The default designed encoder and a user's own CLIP / SigLIP tower are described the same way, so the
 * rest of the trainer only ever sees patch features [N, P, d].
 */
import os from 'node:os';

/** How the encoder's input tensor is laid out and normalised. */
export interface EncoderInputSpec {
  /** Graph input name. */
  name: string;
  /** Input height and width in pixels (images are resized to this). */
  height: number;
  width: number;
  layout: 'NCHW' | 'NHWC';
  /** Per-channel (R, G, B) normalisation applied after scaling pixels to [0, 1]: (v - mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Images per ORT run; 1 for models exported with a fixed batch of 1 (default 64). */
  batchSize?: number;
  /** Informational: the tensor shape, e.g. ['N', 3, 96, 96] (the model itself is checked at load). */
  shape?: (number | string)[];
}

/**
 * Which output holds the patch features and how:
 * - 'tokens': [N, T, d]; the first `skipTokens` tokens (CLS, registers) are dropped, the rest are the patches;
 * - 'channels_first': [N, d, h, w] (a conv feature map), patches in row-major order;
 * - 'channels_last': [N, h, w, d].
 */
export interface EncoderOutputSpec {
  name: string;
  layout: 'tokens' | 'channels_first' | 'channels_last';
  /** Patches per image after dropping skipped tokens. */
  patches: number;
  /** Features per patch. */
  dims: number;
  skipTokens?: number;
  /** Informational: the tensor shape, e.g. ['N', 64, 32]. */
  shape?: (number | string)[];
}

export interface EncoderMetadata {
  /** Sidecar format tag. */
  format: 'durian-encoder/1';
  /** Human-readable name, e.g. 'durian-designed-v1' or 'siglip-base-patch16-224'. */
  name: string;
  description: string;
  input: EncoderInputSpec;
  output: EncoderOutputSpec;
  /** sha256 of the .onnx bytes: the encoder id used by the feature cache. */
  sha256?: string;
  /** onnxruntime intra-op threads hint (1 suits small models beside a busy trainer; default: ORT's choice). */
  threads?: number;
  /** Optional names of the d features (the designed encoder lists them). */
  featureNames?: string[];
}

/** Largest encoder input side in pixels (a 4096 x 4096 input is 200 MB of float32 per image). */
const MAX_ENCODER_INPUT_SIDE = 4096;
/** Largest images per ORT run the sidecar may ask for. */
const MAX_ENCODER_BATCH = 4096;
/** Largest patches x dims per image (64 MB of float32 features per image). */
const MAX_ENCODER_FEATURES = 1 << 24;

/** Most onnxruntime intra-op threads: four per core (more only spin and, in the hundreds of thousands, hang). */
export function maxEncoderThreads(): number {
  return Math.max(8, os.availableParallelism() * 4);
}

/** Checks a parsed sidecar; returns a list of problems (empty when valid). */
export function metadataProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null) return ['is not a JSON object'];
  const meta = value as Partial<EncoderMetadata>;
  const positiveInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (meta.format !== 'durian-encoder/1') problems.push(`format must be "durian-encoder/1", got ${JSON.stringify(meta.format)}`);
  const input = meta.input;
  if (typeof input !== 'object' || input === null) {
    problems.push('input is missing');
  } else {
    if (typeof input.name !== 'string' || input.name === '') problems.push('input.name must be a non-empty string');
    if (!positiveInt(input.height) || !positiveInt(input.width)) problems.push('input.height and input.width must be whole numbers > 0');
    else if (input.height > MAX_ENCODER_INPUT_SIDE || input.width > MAX_ENCODER_INPUT_SIDE) {
      problems.push(`input.height and input.width must be at most ${MAX_ENCODER_INPUT_SIDE} pixels, got ${input.height} x ${input.width}`);
    }
    if (input.layout !== 'NCHW' && input.layout !== 'NHWC') problems.push(`input.layout must be "NCHW" or "NHWC", got ${JSON.stringify(input.layout)}`);
    const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!triple(input.mean)) problems.push('input.mean must be 3 numbers (R, G, B)');
    if (!triple(input.std) || !(input.std as number[]).every((x) => x > 0)) problems.push('input.std must be 3 numbers > 0 (R, G, B)');
    if (input.batchSize !== undefined && !(positiveInt(input.batchSize) && input.batchSize <= MAX_ENCODER_BATCH)) {
      problems.push(`input.batchSize must be a whole number from 1 to ${MAX_ENCODER_BATCH}, got ${String(input.batchSize)}`);
    }
  }
  if (meta.threads !== undefined && !(positiveInt(meta.threads) && meta.threads <= maxEncoderThreads())) {
    problems.push(`threads must be a whole number from 1 to ${maxEncoderThreads()} (4 per core), got ${String(meta.threads)}`);
  }
  const output = meta.output;
  if (typeof output !== 'object' || output === null) {
    problems.push('output is missing');
  } else {
    if (typeof output.name !== 'string' || output.name === '') problems.push('output.name must be a non-empty string');
    if (!['tokens', 'channels_first', 'channels_last'].includes(output.layout as string)) {
      problems.push(`output.layout must be "tokens", "channels_first" or "channels_last", got ${JSON.stringify(output.layout)}`);
    }
    if (!positiveInt(output.patches) || !positiveInt(output.dims)) problems.push('output.patches and output.dims must be whole numbers > 0');
    else if (output.patches * output.dims > MAX_ENCODER_FEATURES) {
      problems.push(`output.patches x output.dims must be at most ${MAX_ENCODER_FEATURES}, got ${output.patches} x ${output.dims}`);
    }
    if (output.skipTokens !== undefined && !(Number.isInteger(output.skipTokens) && output.skipTokens >= 0)) problems.push('output.skipTokens must be a whole number >= 0');
  }
  return problems;
}
