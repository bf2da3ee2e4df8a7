/**
 * What each Compare chart plots, pure (no DOM, no uPlot): one chart per metric of the Dashboard's chart table
 * (CHART_SPECS: the same metrics, names and smoothing rules), each run one line in its own colour on the union
 * of the runs' steps; grouped by arm, each arm one mean line with its min and max over the arm's runs (its
 * seeds) as a band. Smoothing is the Dashboard's EMA, applied per run before grouping.
 */
import { CHART_SPECS, PALETTE_DASHES, SERIES_PALETTE, type ThemeColorName } from '../dashboard/chartSpecs.js';
import { mergeSteps } from '../dashboard/chartData.js';
import { smoothEma } from '../dashboard/smoothing.js';
import { VALIDATION_ACCURACY, VALIDATION_REWARD } from '../dashboard/state.js';
import { type CompareModel, type CompareViewState, type RunSeries, armsOf } from './model.js';

export interface CompareChart {
  id: string;
  title: string;
  description: string;
  table: 'train' | 'validation';
  column: string;
  smooth: boolean;
  /** Few points (validation): drawn with markers. */
  sparse: boolean;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** One chart per distinct metric of CHART_SPECS, in its order (a metric on two Dashboard charts appears once). */
export const COMPARE_CHARTS: readonly CompareChart[] = (() => {
  const seen = new Set<string>();
  const charts: CompareChart[] = [];
  for (const spec of CHART_SPECS) {
    for (const series of spec.series) {
      const key = `${series.table}:${series.column}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const single = spec.series.length === 1;
      charts.push({
        id: single ? spec.id : `${spec.id}-${slug(series.label)}`,
        title: single ? spec.title : `${spec.title}: ${series.label}`,
        description: spec.description,
        table: series.table,
        column: series.column,
        smooth: series.smooth,
        sparse: series.sparse ?? false,
      });
    }
  }
  return charts;
})();

/** One entry of the shared legend: a run, or an arm when grouped. */
export interface LegendEntry {
  /** The runDir of a run, the arm's name of an arm. */
  key: string;
  label: string;
  /** Estimator, G and seed (of an arm: its seeds). */
  detail: string;
  color: ThemeColorName;
  dash?: number[];
  /** The runs it stands for. */
  runs: RunSeries[];
}

/** The i-th colour: the palette's hues in order, dashed past its length. */
function styleAt(index: number): { color: ThemeColorName; dash?: number[] } {
  const dash = PALETTE_DASHES[Math.floor(index / SERIES_PALETTE.length) % PALETTE_DASHES.length];
  return { color: SERIES_PALETTE[index % SERIES_PALETTE.length], ...(dash ? { dash } : {}) };
}

/** The legend: one entry per run (or per arm when grouped), coloured by position (stable when some are hidden). */
export function legendEntries(model: CompareModel, grouped: boolean): LegendEntry[] {
  if (!grouped) {
    return model.runs.map((run, index) => ({
      key: run.meta.runDir,
      label: run.meta.runName,
      detail: [run.meta.estimator, run.meta.groupSize !== undefined ? `G ${run.meta.groupSize}` : undefined, run.meta.seed !== undefined ? `seed ${run.meta.seed}` : undefined].filter(Boolean).join(' · '),
      ...styleAt(index),
      runs: [run],
    }));
  }
  return armsOf(model.runs).map(({ arm, runs }, index) => {
    const first = runs[0].meta;
    const seeds = runs.map((run) => run.meta.seed).filter((seed): seed is number => seed !== undefined);
    return {
      key: arm,
      label: arm,
      detail: [first.estimator, first.groupSize !== undefined ? `G ${first.groupSize}` : undefined, `${runs.length} run${runs.length === 1 ? '' : 's'}${seeds.length > 0 ? ` (seeds ${seeds.join(', ')})` : ''}`].filter(Boolean).join(' · '),
      ...styleAt(index),
      runs,
    };
  });
}

/** A line of a chart; with `band`, the min and max drawn around it. */
export interface CompareLine {
  key: string;
  label: string;
  color: ThemeColorName;
  dash?: number[];
  /** The run a click on this line opens (a grouped arm: its first run). */
  runDir: string;
  values: (number | null)[];
  band?: { min: (number | null)[]; max: (number | null)[] };
}

export interface CompareChartData {
  x: Float64Array;
  lines: CompareLine[];
}

/** A run's steps and values of `chart` (undefined when it has no such metric). */
function columnOf(run: RunSeries, chart: CompareChart): { steps: Float64Array; values: Float64Array } | undefined {
  if (chart.table === 'validation') {
    const values = chart.column === VALIDATION_ACCURACY ? run.validation.accuracy : chart.column === VALIDATION_REWARD ? run.validation.reward : undefined;
    return values && values.length > 0 ? { steps: run.validation.steps, values } : undefined;
  }
  const values = run.columns.get(chart.column);
  return values ? { steps: run.steps, values } : undefined;
}

function hasFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) return true;
  return false;
}

/** Whether two ascending step lists are the same (runs of one study usually share every step). */
function sameSteps(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Where each of `steps` lands on `x` (both ascending; every step is on x). */
function positionsOn(x: Float64Array, steps: Float64Array): Int32Array {
  const out = new Int32Array(steps.length);
  let j = 0;
  for (let i = 0; i < steps.length; i++) {
    while (x[j] < steps[i]) j++;
    out[i] = j;
  }
  return out;
}

/**
 * Smoothed columns, remembered per chart, run and smoothing: toggling runs or grouping, or another run's
 * update, costs no smoothing. One cache per panel.
 */
export class SmoothingCache {
  private readonly cache = new Map<string, { revision: number; smoothing: number; values: Float64Array }>();

  smoothed(run: RunSeries, chart: CompareChart, values: Float64Array, smoothing: number): Float64Array {
    if (!chart.smooth || smoothing <= 0) return values;
    const key = `${chart.id}\u0000${run.meta.runDir}`;
    const hit = this.cache.get(key);
    if (hit && hit.revision === run.revision && hit.smoothing === smoothing) return hit.values;
    const computed = smoothEma(values, smoothing);
    this.cache.set(key, { revision: run.revision, smoothing, values: computed });
    return computed;
  }
}

/**
 * The data of `chart` for the visible legend entries, or undefined when none of them has the metric.
 * Values are placed on the union of the steps; a step a run does not have is null (the line spans it).
 */
export function buildCompareChart(model: CompareModel, chart: CompareChart, view: CompareViewState, cache = new SmoothingCache()): CompareChartData | undefined {
  const hidden = new Set(view.hidden);
  const entries = legendEntries(model, view.groupByArm).filter((entry) => !hidden.has(entry.key));
  const sources: { entry: LegendEntry; run: RunSeries; steps: Float64Array; values: Float64Array }[] = [];
  for (const entry of entries) {
    for (const run of entry.runs) {
      const column = columnOf(run, chart);
      if (!column || !hasFinite(column.values)) continue;
      sources.push({ entry, run, steps: column.steps, values: cache.smoothed(run, chart, column.values, view.smoothing) });
    }
  }
  if (sources.length === 0) return undefined;
  let x: Float64Array = sources[0].steps;
  for (let i = 1; i < sources.length; i++) if (!sameSteps(sources[i].steps, x)) x = mergeSteps(x, sources[i].steps).x;
  const placed = sources.map((source) => {
    // Built by push: a packed array (uPlot reads it on every redraw).
    const out: (number | null)[] = [];
    if (sameSteps(source.steps, x)) {
      for (let i = 0; i < x.length; i++) {
        const value = source.values[i];
        out.push(Number.isFinite(value) ? value : null);
      }
      return out;
    }
    for (let i = 0; i < x.length; i++) out.push(null);
    const at = positionsOn(x, source.steps);
    for (let i = 0; i < at.length; i++) {
      const value = source.values[i];
      out[at[i]] = Number.isFinite(value) ? value : null;
    }
    return out;
  });

  const lines: CompareLine[] = [];
  for (const entry of entries) {
    const own = sources.map((source, i) => ({ source, values: placed[i] })).filter(({ source }) => source.entry === entry);
    if (own.length === 0) continue;
    const base = { key: entry.key, label: entry.label, color: entry.color, ...(entry.dash ? { dash: entry.dash } : {}), runDir: own[0].source.run.meta.runDir };
    if (!view.groupByArm) {
      lines.push({ ...base, values: own[0].values });
      continue;
    }
    const mean = new Array<number | null>(x.length).fill(null);
    const min = new Array<number | null>(x.length).fill(null);
    const max = new Array<number | null>(x.length).fill(null);
    for (let i = 0; i < x.length; i++) {
      let sum = 0;
      let n = 0;
      let low = Infinity;
      let high = -Infinity;
      for (const { values } of own) {
        const value = values[i];
        if (value === null) continue;
        sum += value;
        n++;
        if (value < low) low = value;
        if (value > high) high = value;
      }
      if (n === 0) continue;
      mean[i] = sum / n;
      min[i] = low;
      max[i] = high;
    }
    lines.push({ ...base, values: mean, ...(own.length > 1 ? { band: { min, max } } : {}) });
  }
  return { x, lines };
}
