/**
 * The chart grid: one card per chart spec, each an uPlot instance fed by chartData.ts. Charts share the
 * cursor (hovering one shows the same step on all), show values at the cursor in their legend (the
 * smoothed value, then the raw one), zoom by dragging and reset by double-clicking. A chart is rebuilt
 * only when its set of series, the theme or the raw toggle changes; otherwise new steps go through
 * `setData`, which keeps a zoomed-in range while the run streams in.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type ChartData, ChartDataBuilder, type ChartViewOptions } from './chartData.js';
import { CHART_SPECS, type ChartSpec } from './chartSpecs.js';
import { formatValue } from './format.js';
import { MarkerLayer } from './markerLayer.js';
import type { ChartMarker } from './markers.js';
import { type DashboardModel, markersOf } from './state.js';
import type { ChartTheme } from './theme.js';

/** Charts in the same group move their cursors together. */
const CURSOR_SYNC_KEY = 'durian-dashboard';
const PLOT_HEIGHT = 180;
/** Class of the faint unsmoothed lines: their legend rows and hover points are hidden by the CSS. */
const RAW_SERIES_CLASS = 'raw-series';

class ChartCard {
  readonly element: HTMLElement;
  /** Remembers this chart's smoothed series between draws (one per chart: axes differ between charts). */
  readonly builder = new ChartDataBuilder();
  private readonly plotHost: HTMLElement;
  private plot: uPlot | undefined;
  private signature = '';
  /** The data the legend formatters read (updated in place of rebuilding the plot). */
  private data: ChartData | undefined;
  private zoomed = false;
  private readonly resizeObserver: ResizeObserver;
  private readonly markerLayer: MarkerLayer;
  /** The run's markers, drawn on every chart. */
  private markers: readonly ChartMarker[] = [];
  private theme: ChartTheme | undefined;

  constructor(readonly spec: ChartSpec, onStepClick: (step: number) => void) {
    this.element = document.createElement('section');
    this.element.className = 'chart-card';
    this.element.dataset.chart = spec.id;
    this.element.hidden = true;
    const title = document.createElement('h2');
    title.className = 'chart-title';
    title.textContent = spec.title;
    title.title = spec.description;
    this.plotHost = document.createElement('div');
    this.plotHost.className = 'chart-plot';
    this.markerLayer = new MarkerLayer({
      markers: () => this.markers,
      theme: () => this.theme as ChartTheme,
      onStepClick,
    });
    this.plotHost.append(this.markerLayer.tooltip);
    this.element.append(title, this.plotHost);
    this.resizeObserver = new ResizeObserver(() => this.fitWidth());
    this.resizeObserver.observe(this.plotHost);
  }

  /** Shows `data` (or hides the card when there is none). */
  update(data: ChartData | undefined, theme: ChartTheme, themeRevision: number, markers: readonly ChartMarker[]): void {
    this.data = data;
    this.theme = theme;
    this.markers = markers;
    if (!data) {
      this.element.hidden = true;
      this.destroyPlot();
      return;
    }
    this.element.hidden = false;
    const signature = `${themeRevision}|${data.series.map((s) => s.key).join(',')}`;
    const aligned: uPlot.AlignedData = [data.x, ...data.series.map((s) => s.values)];
    if (!this.plot || signature !== this.signature) {
      this.destroyPlot();
      this.signature = signature;
      this.zoomed = false;
      this.plot = new uPlot(this.options(data, theme), aligned, this.plotHost);
      return;
    }
    // setData redraws, markers included.
    this.plot.setData(aligned, !this.zoomed);
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.destroyPlot();
  }

  private destroyPlot(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.signature = '';
  }

  private width(): number {
    return Math.max(200, Math.floor(this.plotHost.clientWidth));
  }

  private fitWidth(): void {
    if (this.plot && this.plot.width !== this.width()) this.plot.setSize({ width: this.width(), height: PLOT_HEIGHT });
  }

  private options(data: ChartData, theme: ChartTheme): uPlot.Options {
    const axis = (extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({
      stroke: theme.text,
      font: theme.font,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
      ...extra,
    });
    const series: uPlot.Series[] = [
      { label: 'step', value: (_u, value, _seriesIndex, dataIndex) => String(dataIndex === null || dataIndex === undefined ? (this.data?.x.at(-1) ?? '—') : value) },
      ...data.series.map((plotted, index): uPlot.Series => ({
        label: plotted.label,
        stroke: theme.colors[plotted.color],
        width: plotted.raw ? 1 : 2,
        alpha: plotted.raw ? theme.rawAlpha : 1,
        dash: plotted.dash,
        class: plotted.raw ? RAW_SERIES_CLASS : undefined,
        spanGaps: plotted.sparse,
        points: plotted.sparse ? { show: true, size: 5, fill: theme.colors[plotted.color] } : { show: false },
        value: (_u, value, _seriesIndex, dataIndex) => this.legendValue(index, value, dataIndex),
      })),
    ];
    return {
      width: this.width(),
      height: PLOT_HEIGHT,
      scales: { x: { time: false } },
      axes: [axis(), axis({ size: 60, values: (_u, splits) => splits.map((split) => formatValue(split)) })],
      series,
      legend: { live: true },
      cursor: {
        sync: { key: CURSOR_SYNC_KEY, setSeries: false },
        // Hovering a step where a sparse series has no value shows its nearest value.
        hover: { skip: [null, undefined] },
      },
      hooks: {
        ...this.markerLayer.hooks(),
        setScale: [(plot, scaleKey) => this.onScale(plot, scaleKey)],
        setSeries: [(plot, seriesIndex, options) => this.onSeriesToggled(plot, seriesIndex, options)],
      },
    };
  }

  /**
   * Legend text: the value at the cursor, plus the raw value behind a smoothed one. Without a cursor
   * (`dataIndex` null) the legend shows the latest value of each series instead of a blank.
   */
  private legendValue(index: number, value: number | null, dataIndex: number | null | undefined): string {
    const plotted = this.data?.series[index];
    if (!plotted) return formatValue(value);
    let at = dataIndex ?? plotted.values.length - 1;
    if (dataIndex === null || dataIndex === undefined) while (at > 0 && plotted.values[at] === null) at--;
    const shown = plotted.values[at];
    const unsmoothed = plotted.unsmoothed?.[at];
    return unsmoothed === undefined || unsmoothed === shown ? formatValue(shown) : `${formatValue(shown)} (raw ${formatValue(unsmoothed)})`;
  }

  /** Zoomed = the x range is narrower than the data's (reset by a double-click or a rebuild). */
  private onScale(plot: uPlot, scaleKey: string): void {
    if (scaleKey !== 'x') return;
    const steps = plot.data[0];
    const { min, max } = plot.scales.x;
    if (steps.length === 0 || min === undefined || max === undefined) return;
    this.zoomed = min > steps[0] || max < steps[steps.length - 1];
  }

  /** Hiding a smoothed line through its legend hides its raw twin too (the twin has no legend row). */
  private onSeriesToggled(plot: uPlot, seriesIndex: number | null, options: uPlot.Series): void {
    if (seriesIndex === null || seriesIndex < 2) return;
    const twin = this.data?.series[seriesIndex - 2];
    if (twin?.raw && plot.series[seriesIndex - 1].show !== options.show) plot.setSeries(seriesIndex - 1, { show: options.show });
  }
}

/** All chart cards, in CHART_SPECS order, inside `container`. */
export class ChartGrid {
  private readonly cards: ChartCard[];
  private themeRevision = 0;

  constructor(container: HTMLElement, private theme: ChartTheme, onStepClick: (step: number) => void) {
    this.cards = CHART_SPECS.map((spec) => new ChartCard(spec, onStepClick));
    container.append(...this.cards.map((card) => card.element));
  }

  /** Rebuilds every chart with new colours. */
  setTheme(theme: ChartTheme): void {
    this.theme = theme;
    this.themeRevision++;
  }

  /** Draws the model; returns how many charts have data. */
  render(model: DashboardModel, options: ChartViewOptions): number {
    let shown = 0;
    const markers = markersOf(model);
    for (const card of this.cards) {
      const data = card.builder.build(model, card.spec, options);
      card.update(data, this.theme, this.themeRevision, markers);
      if (data) shown++;
    }
    return shown;
  }

  destroy(): void {
    for (const card of this.cards) card.destroy();
  }
}
