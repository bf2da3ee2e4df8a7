/**
 * Encoder throughput, end to end and decode-free: raw RGB images (default 224 x 224) -> resize ->
 * onnxruntime -> spectral entropy per image. Wired into `npm run bench` by the CLI.
 */
import { loadEncoder, type LoadEncoderOptions } from './encoder.js';
import { imagePixels, writeImageTensor, type EncoderImage } from './image.js';
import { visualEntropy } from './visualEntropy.js';

export interface EncoderBenchOptions {
  /** Images per timed pass (default 512). */
  images?: number;
  /** Source image side in pixels (default 224). */
  size?: number;
  /** Model path (default: the bundled designed encoder). */
  modelPath?: string;
  load?: LoadEncoderOptions;
}

export interface EncoderBenchResult {
  /** Images per second end to end (resize + ORT + entropy). */
  imagesPerSecond: number;
  /** Visual entropies per second from ready features (the eigen-decomposition alone). */
  entropyPerSecond: number;
  /** Resizes per second (source size -> encoder input) alone. */
  resizePerSecond: number;
  /** Milliseconds per image spent in encode (resize + ORT) during the end-to-end pass. */
  encodeMsPerImage: number;
  images: number;
  sourceSize: number;
  batchSize: number;
  encoderId: string;
}

/** Deterministic test images: smooth gradients with a few coloured blocks (content does not change cost). */
function benchImages(count: number, size: number): EncoderImage[] {
  const images: EncoderImage[] = [];
  for (let n = 0; n < count; n++) {
    const rgb = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const at = (y * size + x) * 3;
        const block = ((x >> 5) + (y >> 5) + n) % 5 === 0;
        rgb[at] = block ? 220 : (x + n) & 255;
        rgb[at + 1] = block ? 40 : (y * 2) & 255;
        rgb[at + 2] = block ? 40 : ((x ^ y) + n * 7) & 255;
      }
    }
    images.push({ width: size, height: size, rgb });
  }
  return images;
}

export async function benchEncoder(options: EncoderBenchOptions = {}): Promise<EncoderBenchResult> {
  const count = options.images ?? 512;
  const size = options.size ?? 224;
  const encoder = await loadEncoder(options.modelPath, options.load);
  const images = benchImages(count, size);
  const { patches, dims } = encoder;

  await encoder.encode(images.slice(0, Math.min(count, encoder.batchSize))); // warm-up

  const start = performance.now();
  const features = await encoder.encode(images);
  const encoded = performance.now();
  let checksum = 0;
  for (let n = 0; n < count; n++) checksum += visualEntropy(features, n, patches, dims);
  const end = performance.now();
  if (!Number.isFinite(checksum)) throw new Error('benchEncoder: non-finite entropy');

  const input = encoder.metadata.input;
  const buffer = new Float32Array(3 * input.height * input.width);
  const pixels = images.map((image, k) => imagePixels(image, `images[${k}]`));
  const resizeStart = performance.now();
  for (const image of pixels) writeImageTensor(image, input, buffer, 0);
  const resizeEnd = performance.now();

  return {
    imagesPerSecond: (count * 1000) / (end - start),
    entropyPerSecond: (count * 1000) / Math.max(end - encoded, 1e-6),
    resizePerSecond: (count * 1000) / Math.max(resizeEnd - resizeStart, 1e-6),
    encodeMsPerImage: (encoded - start) / count,
    images: count,
    sourceSize: size,
    batchSize: encoder.batchSize,
    encoderId: encoder.id,
  };
}
