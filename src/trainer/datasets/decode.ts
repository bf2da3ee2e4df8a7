/**
 * PNG and JPEG bytes -> an 8-bit image the encoder takes (`{ width, height, data, channels }`), up to a pixel
 * limit checked from the header before decoding (MAX_IMAGE_MEGAPIXELS by default).
 * PNG (pngjs): every colour type and bit depth comes out RGBA 8-bit (16-bit is rescaled); JPEG (jpeg-js):
 * grey stays 1 channel, colour (YCbCr, CMYK) comes out RGB. The encoder blends RGBA over white and resizes.
 * EXIF orientation is not applied (as PIL's `Image.open` does not apply it either).
 */
import { decode as decodeJpeg } from 'jpeg-js';
import { inflateSync } from 'node:zlib';
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

/**
 * Default largest image decoded, in megapixels (a 40 MP image is 160 MB as RGBA). The size is read from the
 * header (PNG IHDR, JPEG start-of-frame) before any pixel is decoded, so a tiny file declaring a huge image
 * is refused without allocating it.
 */
export const MAX_IMAGE_MEGAPIXELS = 40;

export interface DecodeLimits {
  /** Largest image decoded, in megapixels (default MAX_IMAGE_MEGAPIXELS). */
  maxMegapixels?: number;
}

/** Format and size as the file's header declares them (nothing decoded). */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

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
  // The file's bytes are never echoed: a link to a private file must not leak its first bytes.
  return 'not a PNG or JPEG (unrecognised signature)';
}

function megapixels(pixels: number): string {
  const mp = pixels / 1e6;
  return mp >= 10 ? String(Math.round(mp)) : String(Number(mp.toPrecision(2)));
}

/**
 * The declared size from the header alone: PNG IHDR (bytes 16..23), JPEG SOFn. Throws ImageDecodeError when
 * the bytes are not a PNG / JPEG or the header is cut short.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const format = sniffImageFormat(bytes);
  if (format === null) throw new ImageDecodeError(describeUnknown(bytes));
  if (format === 'png') {
    // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
    if (bytes.length < 24 || !startsWith(bytes, [0x49, 0x48, 0x44, 0x52], 12)) throw new ImageDecodeError('undecodable PNG: no IHDR header');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { format, width: view.getUint32(16), height: view.getUint32(20) };
  }
  const frame = jpegFrame(bytes);
  if (!frame) throw new ImageDecodeError('undecodable JPEG: no start-of-frame header');
  return { format, width: frame.width, height: frame.height };
}

/** Throws unless the declared size is within the pixel limit (and not empty). */
export function checkImageSize(header: ImageHeader, limits: DecodeLimits = {}): void {
  const max = limits.maxMegapixels ?? MAX_IMAGE_MEGAPIXELS;
  const name = header.format === 'png' ? 'PNG' : 'JPEG';
  if (header.width < 1 || header.height < 1) throw new ImageDecodeError(`undecodable ${name}: declares ${header.width} x ${header.height} pixels`);
  const pixels = header.width * header.height;
  if (pixels > max * 1e6) throw new ImageDecodeError(`${name} declares ${header.width} x ${header.height} = ${megapixels(pixels)} MP, over the ${max} MP limit`);
}

/**
 * Decodes PNG or JPEG bytes; throws ImageDecodeError with the reason. The declared size is checked against
 * `limits` before decoding.
 */
export function decodeImage(bytes: Uint8Array, limits: DecodeLimits = {}): DecodedImage {
  const header = readImageHeader(bytes);
  checkImageSize(header, limits);
  const { format } = header;
  const maxMegapixels = limits.maxMegapixels ?? MAX_IMAGE_MEGAPIXELS;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'png') {
    checkPngInflatedSize(bytes, header);
    let png: PNG;
    try {
      png = PNG.sync.read(buffer);
    } catch (error) {
      throw new ImageDecodeError(`undecodable PNG: ${(error as Error).message}`);
    }
    return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), format };
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  let components: number;
  try {
    // formatAsRGBA false: RGB for colour, and for grey too (jpeg-js expands it); the channel count is
    // recovered below so grey images are handed on as one channel.
    decoded = decodeJpeg(buffer, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: maxMegapixels, maxMemoryUsageInMB: Math.ceil(maxMegapixels * 16) + 64 });
    components = jpegFrame(bytes)?.components ?? 3;
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

/** Size and colour components (1 = grey) of a JPEG from its start-of-frame marker. */
function jpegFrame(bytes: Uint8Array): { width: number; height: number; components: number } | undefined {
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
    // Markers without a length: TEM, RST0..7, SOI, EOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      at += 2;
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): length (2), precision (1), height (2), width (2), components (1).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 10 > bytes.length) return undefined;
      return { height: (bytes[at + 5] << 8) | bytes[at + 6], width: (bytes[at + 7] << 8) | bytes[at + 8], components: bytes[at + 9] };
    }
    at += 2 + length;
  }
  return undefined;
}

/**
 * Interlaced PNGs are inflated by pngjs without an output limit: a small deflate stream could expand to
 * gigabytes. Their pixel data is inflated here first with a limit (what the declared size needs, plus the
 * row filter bytes of the seven passes); non-interlaced ones are already inflated with that limit by pngjs.
 */
function checkPngInflatedSize(bytes: Uint8Array, header: ImageHeader): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 29 || bytes[28] !== 1) return; // interlace method 0
  const bitDepth = bytes[24];
  const samples = [1, 0, 3, 1, 2, 0, 4][bytes[25]] ?? 4;
  const rowBytes = Math.ceil((header.width * samples * bitDepth) / 8);
  const limit = (rowBytes + 7) * header.height + 7 * (header.height + 8) + 1024;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    if (startsWith(bytes, [0x49, 0x44, 0x41, 0x54], at + 4)) idat.push(Buffer.from(bytes.buffer, bytes.byteOffset + at + 8, Math.min(length, bytes.length - at - 8)));
    at += 12 + length;
  }
  try {
    inflateSync(Buffer.concat(idat), { maxOutputLength: limit });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new ImageDecodeError(`PNG pixel data inflates to more than the ${header.width} x ${header.height} it declares (a compression bomb)`);
    throw new ImageDecodeError(`undecodable PNG: ${(error as Error).message}`);
  }
}
