/**
 * PNG and JPEG bytes -> an 8-bit image the encoder takes (`{ width, height, data, channels }`), any size.
 * PNG (pngjs): every colour type and bit depth comes out RGBA 8-bit (16-bit is rescaled); JPEG (jpeg-js):
 * grey stays 1 channel, colour (YCbCr, CMYK) comes out RGB. The encoder blends RGBA over white and resizes.
 * EXIF orientation is not applied (as PIL's `Image.open` does not apply it either).
 */
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';

export type ImageFormat = 'png' | 'jpeg';

export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
  format: ImageFormat;
}

/** Why bytes could not be decoded (the dataset loader turns it into a skipped row). */
export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/** Largest image decoded, in megapixels (a 100 MP RGBA image is 400 MB). */
export const MAX_IMAGE_MEGAPIXELS = 100;

const SIGNATURES: { name: string; bytes: number[] }[] = [
  { name: 'GIF', bytes: [0x47, 0x49, 0x46, 0x38] },
  { name: 'BMP', bytes: [0x42, 0x4d] },
  { name: 'TIFF', bytes: [0x49, 0x49, 0x2a, 0x00] },
  { name: 'TIFF', bytes: [0x4d, 0x4d, 0x00, 0x2a] },
];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  return prefix.every((b, k) => bytes[at + k] === b);
}

/** The format from the file's first bytes (never from its name). */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  return null;
}

function describeUnknown(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'WebP is not supported (PNG and JPEG are)';
  const known = SIGNATURES.find((s) => startsWith(bytes, s.bytes));
  if (known) return `${known.name} is not supported (PNG and JPEG are)`;
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `not a PNG or JPEG (first bytes ${head})`;
}

/** Decodes PNG or JPEG bytes; throws ImageDecodeError with the reason. */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format === null) throw new ImageDecodeError(describeUnknown(bytes));
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'png') {
    let png: PNG;
    try {
      png = PNG.sync.read(buffer);
    } catch (error) {
      throw new ImageDecodeError(`undecodable PNG: ${(error as Error).message}`);
    }
    if (png.width * png.height > MAX_IMAGE_MEGAPIXELS * 1e6) throw new ImageDecodeError(`PNG of ${png.width} x ${png.height} is over ${MAX_IMAGE_MEGAPIXELS} megapixels`);
    return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), format };
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  let components: number;
  try {
    // formatAsRGBA false: RGB for colour, and for grey too (jpeg-js expands it); the channel count is
    // recovered below so grey images are handed on as one channel.
    decoded = decodeJpeg(buffer, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: MAX_IMAGE_MEGAPIXELS, maxMemoryUsageInMB: 2048 });
    components = jpegComponents(bytes);
  } catch (error) {
    throw new ImageDecodeError(`undecodable JPEG: ${(error as Error).message}`);
  }
  const { width, height, data } = decoded;
  if (!(width > 0 && height > 0)) throw new ImageDecodeError('undecodable JPEG: no image data');
  if (components === 1 && data.length === width * height * 3) {
    const grey = new Uint8Array(width * height);
    for (let k = 0; k < grey.length; k++) grey[k] = data[k * 3];
    return { width, height, channels: 1, data: grey, format };
  }
  if (data.length !== width * height * 3) throw new ImageDecodeError(`undecodable JPEG: ${data.length} bytes of pixels for ${width} x ${height}`);
  return { width, height, channels: 3, data, format };
}

/** Colour components of a JPEG from its start-of-frame marker (1 = grey). */
function jpegComponents(bytes: Uint8Array): number {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) {
      at++;
      continue;
    }
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return at + 9 < bytes.length ? bytes[at + 9] : 3;
    }
    at += 2 + length;
  }
  return 3;
}
