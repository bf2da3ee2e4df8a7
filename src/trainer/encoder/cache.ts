/**
 * Patch features and visual entropies are computed once per (image, encoder) and cached: in memory
 * (bounded, least recently used first out) and optionally on disk, one file per image under
 * `<directory>/<encoder id>/<image sha256>.bin` (float64 entropy, then P * d float32 features, little-endian).
 * The image key hashes the pixel bytes with width, height and channels; the encoder id is the model's sha256,
 * so a different model never reuses stale features.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Encoder } from './encoder.js';
import { imagePixels, type EncoderImage } from './image.js';
import { visualEntropy } from './visualEntropy.js';
import { readRegularFile } from '../regularFile.js';
import { printable } from '../../core/printable.js';

export interface CachedImageFeatures {
  /** sha256 of the image (pixel bytes + width, height, channels). */
  key: string;
  /** P * d patch features, row-major. Shared with the cache: do not modify. */
  features: Float32Array;
  /** Spectral entropy of the features (visual entropy). */
  entropy: number;
}

export interface FeatureCacheOptions {
  /** On-disk cache folder (e.g. `<run dir>/../.cache/encoder`); memory only when absent. */
  directory?: string;
  /** Most images kept in memory (default 20000, about 160 MB for the designed encoder). */
  maxEntries?: number;
  /**
   * Told once when the disk cache cannot be written (the cache is optional: the features are still
   * returned, and the cache stays in memory only). Default: a line on stderr.
   */
  onWarning?: (message: string) => void;
}

export interface FeatureCacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  entries: number;
}

/** sha256 of an image's pixels and geometry: the image half of the cache key. */
export function imageKey(image: EncoderImage, where = 'image'): string {
  const pixels = imagePixels(image, where);
  const header = Buffer.from(`${pixels.width}x${pixels.height}x${pixels.channels}:`);
  return createHash('sha256').update(header).update(pixels.data).digest('hex');
}

export class PatchFeatureCache {
  readonly encoder: Encoder;
  private readonly memory = new Map<string, CachedImageFeatures>();
  private readonly directory?: string;
  /** False once a write failed: the disk cache is then read but no longer written. */
  private writable = true;
  private readonly maxEntries: number;
  private readonly onWarning: (message: string) => void;
  private readonly counts = { memoryHits: 0, diskHits: 0, misses: 0 };

  constructor(encoder: Encoder, options: FeatureCacheOptions = {}) {
    this.encoder = encoder;
    this.directory = options.directory ? path.join(options.directory, encoder.id) : undefined;
    this.maxEntries = options.maxEntries ?? 20000;
    this.onWarning = options.onWarning ?? ((message) => process.stderr.write(`warning: ${message}\n`));
  }

  /** Whether entries are still written to disk (false without a directory, or after a write failed). */
  get writesToDisk(): boolean {
    return this.directory !== undefined && this.writable;
  }

  /** Features and entropy of every image; only images seen by neither cache are encoded (in batches). */
  async get(images: readonly EncoderImage[]): Promise<CachedImageFeatures[]> {
    const keys = images.map((image, k) => imageKey(image, `images[${k}]`));
    const results = new Array<CachedImageFeatures | undefined>(images.length);
    const missing = new Map<string, number[]>();
    keys.forEach((key, k) => {
      const hit = this.lookup(key);
      if (hit) {
        results[k] = hit;
      } else {
        const slots = missing.get(key);
        if (slots) slots.push(k);
        else missing.set(key, [k]);
      }
    });
    if (missing.size > 0) {
      const order = [...missing.keys()];
      const features = await this.encoder.encode(order.map((key) => images[missing.get(key)![0]]));
      const size = this.encoder.patches * this.encoder.dims;
      order.forEach((key, n) => {
        const own = features.slice(n * size, (n + 1) * size);
        const entry: CachedImageFeatures = { key, features: own, entropy: visualEntropy(own, 0, this.encoder.patches, this.encoder.dims) };
        this.counts.misses++;
        this.remember(entry);
        this.store(entry);
        for (const k of missing.get(key)!) results[k] = entry;
      });
    }
    return results as CachedImageFeatures[];
  }

  /** Visual entropy of every image. */
  async entropies(images: readonly EncoderImage[]): Promise<number[]> {
    return (await this.get(images)).map((entry) => entry.entropy);
  }

  /** Features of every image as one [N, P, d] array (a copy). */
  async features(images: readonly EncoderImage[]): Promise<Float32Array> {
    const entries = await this.get(images);
    const size = this.encoder.patches * this.encoder.dims;
    const out = new Float32Array(entries.length * size);
    entries.forEach((entry, k) => out.set(entry.features, k * size));
    return out;
  }

  stats(): FeatureCacheStats {
    return { ...this.counts, entries: this.memory.size };
  }

  /** Forgets the in-memory entries (the disk cache stays). */
  clearMemory(): void {
    this.memory.clear();
  }

  private lookup(key: string): CachedImageFeatures | undefined {
    const hit = this.memory.get(key);
    if (hit) {
      this.counts.memoryHits++;
      this.memory.delete(key);
      this.memory.set(key, hit);
      return hit;
    }
    const fromDisk = this.load(key);
    if (fromDisk) {
      this.counts.diskHits++;
      this.remember(fromDisk);
    }
    return fromDisk;
  }

  private remember(entry: CachedImageFeatures): void {
    this.memory.set(entry.key, entry);
    while (this.memory.size > this.maxEntries) this.memory.delete(this.memory.keys().next().value as string);
  }

  private fileOf(key: string): string | undefined {
    return this.directory ? path.join(this.directory, `${key}.bin`) : undefined;
  }

  private load(key: string): CachedImageFeatures | undefined {
    const file = this.fileOf(key);
    if (!file) return undefined;
    let bytes: Buffer;
    const size = this.encoder.patches * this.encoder.dims;
    try {
      // Only a regular file of the right size is read (a FIFO planted in the cache would block a plain read).
      bytes = readRegularFile(file, 'cache entry', 8 + size * 4);
    } catch {
      return undefined;
    }
    // A truncated or foreign file is a miss, not an error: it is rewritten on the next store.
    if (bytes.length !== 8 + size * 4) return undefined;
    const entropy = bytes.readDoubleLE(0);
    const features = new Float32Array(size);
    for (let k = 0; k < size; k++) features[k] = bytes.readFloatLE(8 + k * 4);
    if (!Number.isFinite(entropy)) return undefined;
    return { key, features, entropy };
  }

  private store(entry: CachedImageFeatures): void {
    const file = this.fileOf(entry.key);
    if (!file || !this.directory || !this.writable) return;
    const bytes = Buffer.alloc(8 + entry.features.length * 4);
    bytes.writeDoubleLE(entry.entropy, 0);
    for (let k = 0; k < entry.features.length; k++) bytes.writeFloatLE(entry.features[k], 8 + k * 4);
    // Write then rename, so a reader never sees half a file.
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.directory, { recursive: true });
      writeFileSync(temporary, bytes);
      renameSync(temporary, file);
    } catch (error) {
      try {
        rmSync(temporary, { force: true });
      } catch {
        // Nothing was written there.
      }
      this.writable = false;
      this.onWarning(printable(`cannot write the feature cache ${this.directory}: ${(error as Error).message}; going on without writing it`));
    }
  }
}
