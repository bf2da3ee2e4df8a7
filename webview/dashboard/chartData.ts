/**
 * Turns the model into what one chart plots: a shared step axis and one array of values per series
 * (`null` where a series has no value, the gap uPlot understands), smoothed as the slider says. Pure:
 * no DOM, no uPlot, so it is tested alongside the reducer.
 */
import { type ChartSpec, PALETTE_DASHES, SERIES_PALETTE, type SeriesSpec, type ThemeColorName } from './chartSpecs.js';
import type { SeriesTable } from './series.js';
import { IncrementalEma, clampSmoothing } from './smoothing.js';
import type { DashboardModel } from './state.js';

export interface ChartViewOptions {
  /** EMA weight in [0, 0.999]; 0 draws the values as they are. */
  smoothing: number;
  /** Also draw the unsmoothed values, faintly, behind each smoothed line. */
  showRaw: boolean;
}

export interface PlottedSeries {
  /** Stable identity of the line (`train:reward/mean`, `train:reward/mean:raw`). */
  key: string;
  label: string;
  color: ThemeColorName;
  dash?: number[];
  /** The faint unsmoothed twin of the series right after it. */
  raw: boolean;
  /** Few points: drawn with markers and joined across gaps. */
  sparse: boolean;
  values: (number | null)[];
  /** For a smoothed series: its unsmoothed values, for the hover legend. */
  unsmoothed?: (number | null)[];
}

export interface ChartData {
  /** Steps, increasing. */
  x: Float64Array;
  series: PlottedSeries[];
}

/** The series of `spec` that have data, in the model's current state. */
export function resolveSeries(model: DashboardModel, spec: ChartSpec): SeriesSpec[] {
  const out = spec.series.filter((series) => hasData(tableOf(model, series.table).column(series.column)));
  const prefixed = spec.columnsWithPrefix;
  if (prefixed) {
    const table = tableOf(model, prefixed.table);
    const names = table.names.filter((name) => name.startsWith(prefixed.prefix) && hasData(table.column(name)));
    names.sort(naturalOrder).forEach((name, i) => {
      const dash = PALETTE_DASHES[Math.floor(i / SERIES_PALETTE.length) % PALETTE_DASHES.length];
      out.push({
        table: prefixed.table,
        column: name,
        label: name.slice(prefixed.prefix.length),
        color: SERIES_PALETTE[i % SERIES_PALETTE.length],
        smooth: prefixed.smooth,
        sparse: prefixed.sparse,
        metric: prefixed.metric,
        ...(dash ? { dash } : {}),
      });
    });
  }
  return out;
}

/** The chart's data, or undefined when none of its series has a value yet (computed from scratch). */
export function buildChartData(model: DashboardModel, spec: ChartSpec, options: ChartViewOptions): ChartData | undefined {
  return new ChartDataBuilder().build(model, spec, options);
}

/** What a builder remembers of one series between builds. */
interface SeriesCache {
  /** The table's generation the cache was built on: any other means rows changed under it. */
  generation: number;
  ema: IncrementalEma;
  /** The arrays handed out last time, grown in place when the axis is the table's own steps. */
  values: (number | null)[];
  unsmoothed: (number | null)[];
  /** Rows already placed into `values`/`unsmoothed`, and with which smoothing. */
  placed: number;
  smoothing: number;
}

/**
 * Builds chart data as the run grows, for the live view: it remembers each series' smoothing and
 * value arrays, so a new step costs the new points rather than the whole history. The arrays it
 * returns are reused by the next build (uPlot is given them again with `setData`).
 */
export class ChartDataBuilder {
  private readonly cache = new Map<string, SeriesCache>();

  build(model: DashboardModel, spec: ChartSpec, options: ChartViewOptions): ChartData | undefined {
    const series = resolveSeries(model, spec);
    if (series.length === 0) return undefined;
    const usesTrain = series.some((s) => s.table === 'train');
    const usesValidation = series.some((s) => s.table === 'validation');
    const axis = usesTrain && usesValidation ? mergeSteps(model.train.steps, model.validation.steps) : undefined;
    const x = axis?.x ?? (usesTrain ? model.train.steps : model.validation.steps).slice();

    const plotted: PlottedSeries[] = [];
    for (const seriesSpec of series) {
      const table = tableOf(model, seriesSpec.table);
      const column = table.column(seriesSpec.column) as Float64Array;
      const key = `${seriesSpec.table}:${seriesSpec.column}`;
      const positions = axis ? (seriesSpec.table === 'train' ? axis.fromA : axis.fromB) : undefined;
      const smoothing = seriesSpec.smooth ? clampSmoothing(options.smoothing) : 0;
      const cached = this.seriesCache(key, table.generation);
      const smoothed = smoothing > 0 ? cached.ema.smooth(column, smoothing) : column;
      // Rows whose output may have changed since the last build (all of them on a merged axis, whose
      // positions move when a validation step lands between two train steps).
      let from = positions || cached.smoothing !== smoothing ? 0 : Math.min(cached.placed, smoothing > 0 ? cached.ema.changedFrom : cached.placed);
      if (from > column.length) from = 0;
      if (from === 0) {
        cached.values = [];
        cached.unsmoothed = [];
      }
      place(smoothed, positions, x.length, cached.values, from);
      if (smoothing > 0) place(column, positions, x.length, cached.unsmoothed, from);
      cached.placed = column.length;
      cached.smoothing = smoothing;

      const sparse = seriesSpec.sparse ?? false;
      const shared = { color: seriesSpec.color, dash: seriesSpec.dash, sparse };
      if (smoothing > 0 && options.showRaw) {
        plotted.push({ key: `${key}:raw`, label: `${seriesSpec.label} (raw)`, raw: true, values: cached.unsmoothed, ...shared });
      }
      plotted.push({ key, label: seriesSpec.label, raw: false, values: cached.values, unsmoothed: smoothing > 0 ? cached.unsmoothed : undefined, ...shared });
    }
    return { x, series: plotted };
  }

  private seriesCache(key: string, generation: number): SeriesCache {
    let cached = this.cache.get(key);
    if (!cached || cached.generation !== generation) {
      cached = { generation, ema: new IncrementalEma(), values: [], unsmoothed: [], placed: 0, smoothing: -1 };
      this.cache.set(key, cached);
    }
    return cached;
  }
}

/**
 * The sorted union of two increasing step lists, and where each list's rows land in it
 * (`x[fromA[i]] === a[i]`).
 */
export function mergeSteps(a: Float64Array, b: Float64Array): { x: Float64Array; fromA: Int32Array; fromB: Int32Array } {
  const merged = new Float64Array(a.length + b.length);
  const fromA = new Int32Array(a.length);
  const fromB = new Int32Array(b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const takeA = j >= b.length || (i < a.length && a[i] <= b[j]);
    const step = takeA ? a[i] : b[j];
    if (n === 0 || merged[n - 1] !== step) merged[n++] = step;
    if (takeA) {
      fromA[i++] = n - 1;
      if (j < b.length && b[j] === step) fromB[j++] = n - 1;
    } else {
      fromB[j++] = n - 1;
    }
  }
  return { x: merged.slice(0, n), fromA, fromB };
}

/**
 * Lays `values` (rows `from` on) onto an axis of `length` points in `out`: `positions` maps row ->
 * point (absent: the same index), NaN becomes null, points no row lands on stay null.
 */
function place(values: Float64Array, positions: Int32Array | undefined, length: number, out: (number | null)[], from: number): void {
  const start = positions ? 0 : from;
  for (let i = out.length; i < length; i++) out.push(null);
  out.length = length;
  if (positions) out.fill(null);
  for (let i = start; i < values.length; i++) {
    const value = values[i];
    out[positions ? positions[i] : i] = Number.isFinite(value) ? value : null;
  }
}

function tableOf(model: DashboardModel, table: 'train' | 'validation'): SeriesTable {
  return table === 'train' ? model.train : model.validation;
}

function hasData(values: Float64Array | undefined): values is Float64Array {
  if (!values) return false;
  for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i])) return true;
  return false;
}

/** `level2` before `level10`. */
function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}
