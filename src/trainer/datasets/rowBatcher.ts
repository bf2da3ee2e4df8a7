/**
 * Groups decoded dataset rows for the encoder, shared by `durian score` and the dataset task source: a batch runs
 * once it holds `batchSize` images, or before the next row would push the pixels held past `pixelBudget` (so the
 * decoded pixels in memory stay within the in-flight budget). `flush()` runs what is left.
 */
import type { DatasetRow } from './dataset.js';

export class RowBatcher<T extends { row: DatasetRow }> {
  private pending: T[] = [];
  private images = 0;
  private pixels = 0;

  constructor(
    private readonly batchSize: number,
    private readonly pixelBudget: number,
    private readonly run: (batch: T[]) => Promise<void>,
  ) {}

  async add(entry: T): Promise<void> {
    const pixels = entry.row.images.reduce((sum, image) => sum + image.width * image.height, 0);
    if (this.pixels + pixels > this.pixelBudget) await this.flush();
    this.pending.push(entry);
    this.images += entry.row.images.length;
    this.pixels += pixels;
    if (this.images >= this.batchSize) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.images = 0;
    this.pixels = 0;
    await this.run(batch);
  }
}
