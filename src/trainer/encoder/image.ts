/**
 * Raw images in, encoder input tensors out: validation, RGBA (over white) / grey to RGB, resizing to the
 * encoder's input size (area averaging when shrinking, bilinear when enlarging; separable, pure JS) and
 * per-channel normalisation into an NCHW or NHWC float32 batch buffer.
 */
import { EncoderError } from './errors.js';

/** An 8-bit image, row-major, channel-last. The task contract's `{ width, height, rgb }` is accepted too. */
export type EncoderImage =
  | { width: number; height: number; rgb: Uint8Array | Uint8ClampedArray }
  | { width: number; height: number; data: Uint8Array | Uint8ClampedArray; channels: 1 | 3 | 4 };

/** The image's pixel bytes and channel count (1 grey, 3 RGB, 4 RGBA), after validation. */
export interface ImagePixels {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** Validates an image-like value; `where` names it in the error (e.g. 'images[3]'). */
export function imagePixels(image: unknown, where: string): ImagePixels {
  if (typeof image !== 'object' || image === null) throw new EncoderError(`${where} is not an image: expected { width, height, rgb } or { width, height, data, channels }, got ${image === null ? 'null' : typeof image}`);
  const candidate = image as Partial<{ width: unknown; height: unknown; rgb: unknown; data: unknown; channels: unknown }>;
  const { width, height } = candidate;
  if (typeof width !== 'number' || typeof height !== 'number' || !Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new EncoderError(`${where} is not an image: width and height must be whole numbers >= 1, got ${String(width)} x ${String(height)}`);
  }
  const data = candidate.rgb ?? candidate.data;
  const channels = candidate.rgb !== undefined ? 3 : candidate.channels;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new EncoderError(`${where} is not an image: pixel data must be a Uint8Array (8-bit, row-major, channel-last)`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new EncoderError(`${where} is not an image: channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  }
  if (data.length !== width * height * channels) {
    throw new EncoderError(`${where} is not an image: ${data.length} bytes, expected ${width} x ${height} x ${channels} = ${width * height * channels}`);
  }
  return { width, height, channels, data };
}

/** How pixels are written into the batch tensor. */
export interface TensorLayout {
  height: number;
  width: number;
  layout: 'NCHW' | 'NHWC';
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Sampling weights of one axis: for each output index, `count` source indices from `start` with `weights`. */
interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  /** Flattened weights, `taps` per output index (zero-padded). */
  weights: Float32Array;
  taps: number;
}

const axisCache = new Map<string, AxisWeights>();

/** Area weights when shrinking, bilinear (half-pixel centres, clamped) when enlarging or equal. */
function axisWeights(source: number, target: number): AxisWeights {
  const key = `${source}>${target}`;
  const cached = axisCache.get(key);
  if (cached) return cached;
  const scale = source / target;
  const taps = scale > 1 ? Math.ceil(scale) + 1 : 2;
  const start = new Int32Array(target);
  const count = new Int32Array(target);
  const weights = new Float32Array(target * taps);
  for (let o = 0; o < target; o++) {
    if (scale > 1) {
      const lo = o * scale;
      const hi = lo + scale;
      const first = Math.floor(lo);
      const last = Math.min(source - 1, Math.ceil(hi) - 1);
      start[o] = first;
      count[o] = last - first + 1;
      for (let s = first; s <= last; s++) weights[o * taps + s - first] = (Math.min(hi, s + 1) - Math.max(lo, s)) / scale;
    } else {
      const centre = Math.min(source - 1, Math.max(0, (o + 0.5) * scale - 0.5));
      const first = Math.min(Math.floor(centre), source - 1);
      const frac = centre - first;
      start[o] = first;
      count[o] = first + 1 < source ? 2 : 1;
      weights[o * taps] = count[o] === 2 ? 1 - frac : 1;
      if (count[o] === 2) weights[o * taps + 1] = frac;
    }
  }
  const result = { start, count, weights, taps };
  if (axisCache.size > 64) axisCache.clear();
  axisCache.set(key, result);
  return result;
}

/**
 * Writes one image, resized and normalised, into `batch` as item `index` of a [N, 3, H, W] (NCHW) or
 * [N, H, W, 3] (NHWC) float32 tensor.
 */
export function writeImageTensor(image: ImagePixels, layout: TensorLayout, batch: Float32Array, index: number): void {
  const { width: outW, height: outH } = layout;
  const { data, channels } = image;
  const xs = axisWeights(image.width, outW);
  const ys = axisWeights(image.height, outH);
  // Horizontal pass straight from the bytes: [srcH, outW, 3] in 0-255 units, RGBA composited over white
  // (linear in the bytes, so compositing before or after averaging is the same), grey replicated.
  const rows = new Float32Array(image.height * outW * 3);
  const alphaUnit = 1 / 255;
  for (let y = 0; y < image.height; y++) {
    const srcRow = y * image.width * channels;
    const dstRow = y * outW * 3;
    for (let o = 0; o < outW; o++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const base = srcRow + xs.start[o] * channels;
      const weightAt = o * xs.taps;
      for (let t = 0, c = xs.count[o]; t < c; t++) {
        const w = xs.weights[weightAt + t];
        const at = base + t * channels;
        if (channels === 3) {
          r += data[at] * w;
          g += data[at + 1] * w;
          b += data[at + 2] * w;
        } else if (channels === 1) {
          const v = data[at] * w;
          r += v;
          g += v;
          b += v;
        } else {
          const alpha = data[at + 3] * alphaUnit;
          const white = 255 * (1 - alpha);
          r += (data[at] * alpha + white) * w;
          g += (data[at + 1] * alpha + white) * w;
          b += (data[at + 2] * alpha + white) * w;
        }
      }
      rows[dstRow + o * 3] = r;
      rows[dstRow + o * 3 + 1] = g;
      rows[dstRow + o * 3 + 2] = b;
    }
  }
  // Vertical pass straight into the normalised tensor.
  const plane = outW * outH;
  const offset = index * plane * 3;
  // (v / 255 - mean) / std = v * scale - shift.
  const scale = layout.std.map((s) => 1 / (255 * s));
  const shift = layout.mean.map((m, c) => m / layout.std[c]);
  const nchw = layout.layout === 'NCHW';
  for (let o = 0; o < outH; o++) {
    const first = ys.start[o];
    const taps = ys.count[o];
    for (let x = 0; x < outW; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = 0; t < taps; t++) {
        const w = ys.weights[o * ys.taps + t];
        const at = ((first + t) * outW + x) * 3;
        r += rows[at] * w;
        g += rows[at + 1] * w;
        b += rows[at + 2] * w;
      }
      const pixel = o * outW + x;
      if (nchw) {
        batch[offset + pixel] = r * scale[0] - shift[0];
        batch[offset + plane + pixel] = g * scale[1] - shift[1];
        batch[offset + 2 * plane + pixel] = b * scale[2] - shift[2];
      } else {
        batch[offset + pixel * 3] = r * scale[0] - shift[0];
        batch[offset + pixel * 3 + 1] = g * scale[1] - shift[1];
        batch[offset + pixel * 3 + 2] = b * scale[2] - shift[2];
      }
    }
  }
}
