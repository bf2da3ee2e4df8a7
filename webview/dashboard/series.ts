/**
 * A growable table of numeric columns sharing one step column: the storage behind every chart. Columns
 * are Float64Arrays whose capacity doubles when full (amortised O(1) appends, so 10,000 steps of history
 * cost a handful of copies), and a missing value is NaN. Rows are kept in step order: a row whose step
 * is not past the last one rewinds the table first (a resumed run repeats the steps after its checkpoint).
 */

const INITIAL_CAPACITY = 256;

/** A stored value of `null` (non-finite in metrics.jsonl) or any non-number reads as missing. */
function cell(value: number | null | undefined): number {
  return typeof value === 'number' ? value : NaN;
}

export class SeriesTable {
  private capacity: number;
  private stepColumn: Float64Array;
  private readonly columns = new Map<string, Float64Array>();
  /** Values dropped because their column would have passed `maxColumns`. */
  refusedValues = 0;
  /** Number of rows. */
  length = 0;
  /**
   * Changes whenever rows already there change (a rewind or a clear), never on a plain append: a
   * cache of values derived from the rows stays valid while it holds.
   */
  generation = 0;

  /** @param maxColumns caps the distinct column names, so a hostile stream of names cannot exhaust memory. */
  constructor(readonly maxColumns = 512) {
    this.capacity = INITIAL_CAPACITY;
    this.stepColumn = new Float64Array(this.capacity);
  }

  /** The steps of the rows, in increasing order (a view: valid until the next append). */
  get steps(): Float64Array {
    return this.stepColumn.subarray(0, this.length);
  }

  /** The last row's step, or undefined when empty. */
  get lastStep(): number | undefined {
    return this.length > 0 ? this.stepColumn[this.length - 1] : undefined;
  }

  /** Column names, in the order they first appeared. */
  get names(): string[] {
    return [...this.columns.keys()];
  }

  has(name: string): boolean {
    return this.columns.has(name);
  }

  /** A column's values (NaN where missing), as a view of `length` entries; undefined if never seen. */
  column(name: string): Float64Array | undefined {
    return this.columns.get(name)?.subarray(0, this.length);
  }

  /** The row index of `step`, or -1 (binary search: steps are sorted). */
  indexOf(step: number): number {
    let low = 0;
    let high = this.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = this.stepColumn[mid];
      if (value === step) return mid;
      if (value < step) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** Keeps the rows with step < `step` (and so drops that step and every later one). */
  truncateFrom(step: number): void {
    let keep = this.length;
    while (keep > 0 && this.stepColumn[keep - 1] >= step) keep--;
    if (keep === this.length) return;
    for (const values of this.columns.values()) values.fill(NaN, keep, this.length);
    this.length = keep;
    this.generation++;
  }

  /**
   * Appends a row. `values` may name any columns (new ones are created, NaN before this row);
   * `skip` names keys that are not columns (e.g. `step`). A step not past the last rewinds first.
   */
  append(step: number, values: Readonly<Record<string, number | null | undefined>>, skip?: ReadonlySet<string>): void {
    const last = this.lastStep;
    if (last !== undefined && step <= last) this.truncateFrom(step);
    if (this.length === this.capacity) this.grow();
    const row = this.length;
    this.stepColumn[row] = step;
    for (const name in values) {
      if (!Object.prototype.hasOwnProperty.call(values, name) || skip?.has(name)) continue;
      const column = this.columnForWrite(name);
      if (column) column[row] = cell(values[name]);
    }
    this.length = row + 1;
  }

  /** Removes every row and column. */
  clear(): void {
    this.columns.clear();
    this.refusedValues = 0;
    this.capacity = INITIAL_CAPACITY;
    this.stepColumn = new Float64Array(this.capacity);
    this.length = 0;
    this.generation++;
  }

  private columnForWrite(name: string): Float64Array | undefined {
    const existing = this.columns.get(name);
    if (existing) return existing;
    if (this.columns.size >= this.maxColumns) {
      this.refusedValues++;
      return undefined;
    }
    const created = new Float64Array(this.capacity).fill(NaN);
    this.columns.set(name, created);
    return created;
  }

  private grow(): void {
    this.capacity *= 2;
    this.stepColumn = extend(this.stepColumn, this.capacity, 0);
    for (const [name, values] of this.columns) this.columns.set(name, extend(values, this.capacity, NaN));
  }
}

function extend(values: Float64Array, capacity: number, fill: number): Float64Array {
  const bigger = new Float64Array(capacity);
  bigger.set(values);
  if (fill !== 0) bigger.fill(fill, values.length);
  return bigger;
}
