/**
 * A progress bar for the CLI, drawn on stderr so stdout stays machine-readable. On a terminal it
 * redraws one line in place; elsewhere (CI logs, pipes) it prints a plain line at most every few
 * seconds and at the end, so logs stay short but never silent.
 */
export interface ProgressOptions {
  total: number;
  label: string;
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between lines when not on a terminal. */
  plainIntervalMs?: number;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly started = Date.now();
  private lastPlain = 0;
  private current = 0;
  private finished = false;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
  }

  /** Moves to `current` (of total) with extra `key value` fields shown after the bar. */
  update(current: number, fields: Record<string, string | number> = {}): void {
    this.current = current;
    const now = Date.now();
    const line = this.render(fields, now);
    if (this.stream.isTTY) {
      this.stream.write(`\r${line.slice(0, Math.max(20, (this.stream.columns ?? 120) - 1))}\x1b[K`);
    } else if (now - this.lastPlain >= (this.options.plainIntervalMs ?? 5000) || current >= this.options.total) {
      this.lastPlain = now;
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the bar as complete (total/total): for work that has run to its end. */
  finish(fields: Record<string, string | number> = {}): void {
    this.end(this.options.total, fields);
  }

  /**
   * Ends the bar where it is (current/total): for work that may stop early (Ctrl+C, an error), so the
   * last line never claims more than was done.
   */
  stop(fields: Record<string, string | number> = {}): void {
    this.end(this.current, fields);
  }

  private end(at: number, fields: Record<string, string | number>): void {
    if (this.finished) return;
    this.finished = true;
    this.lastPlain = Number.NEGATIVE_INFINITY; // the last line is always drawn
    this.update(at, fields);
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private render(fields: Record<string, string | number>, now: number): string {
    const { total, label } = this.options;
    const fraction = total > 0 ? Math.min(1, this.current / total) : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? this.current / elapsed : 0;
    const eta = rate > 0 ? (total - this.current) / rate : Number.NaN;
    const extras = Object.entries(fields).map(([key, value]) => `${key} ${typeof value === 'number' ? formatNumber(value) : value}`);
    return [
      `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.current}/${total}`,
      ...extras,
      `${formatDuration(elapsed)} elapsed`,
      Number.isFinite(eta) && this.current < total ? `ETA ${formatDuration(eta)}` : '',
    ]
      .filter(Boolean)
      .join('  ');
  }
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude >= 100 ? value.toFixed(1) : magnitude >= 1 ? value.toFixed(3) : value.toPrecision(3);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** Renders rows as an aligned plain-text table (first row = header). */
export function formatTable(rows: (string | number)[][]): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell)));
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
