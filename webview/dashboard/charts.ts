/**
 * The chart grid: one card per chart spec, each an uPlot instance fed by chartData.ts. Charts share the
 * cursor (hovering one shows the same step on all), show values at the cursor in their legend (the
 * smoothed value, then the raw one), zoom by dragging and reset by double-clicking. A chart is rebuilt
 * only when its set of series, the theme or the raw toggle changes; otherwise new steps go through
 * `setData`, which keeps a zoomed-in range while the run streams in. Only the charts on screen (or near it)
 * are drawn: one scrolled out of view keeps its data for when it comes back into view, and is drawn then
 * (drawing every chart of a long run took most of a step's main-thread time in a narrow panel).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type ChartData, ChartDataBuilder, type ChartViewOptions } from './chartData.js';
import { CHART_SPECS, type ChartSpec } from './chartSpecs.js';
import type { ChartExportMessage } from '../../src/protocol/compareExport.js';
import { exportButtons } from './exportChart.js';
import { formatValue } from './format.js';
import { PlotHolder, chartCardParts, plotFrame, xZoom } from './plotParts.js';
import { MarkerLayer } from './markerLayer.js';
import type { ChartMarker } from './markers.js';
import { type DashboardModel, markersOf } from './state.js';
import type { ChartTheme } from './theme.js';

/** Charts in the same group move their cursors together. */
const CURSOR_SYNC_KEY = 'durian-dashboard';
const PLOT_HEIGHT = 180;
/** Class of the faint unsmoothed lines: their legend rows and hover points are hidden by the CSS. */
const RAW_SERIES_CLASS = 'raw-series';
/** A chart this close to the visible area counts as on screen (drawn before it scrolls in). */
const NEAR_VIEW_MARGIN = '200px 0px';

/** What a chart shows next: kept while it is out of view, drawn when it comes into view. */
interface ChartUpdate {
  data: ChartData;
  theme: ChartTheme;
  themeRevision: number;
  markers: readonly ChartMarker[];
}

class ChartCard {
  readonly element: HTMLElement;
  /** Remembers this chart's smoothed series between draws (one per chart: axes differ between charts). */
  readonly builder = new ChartDataBuilder();
  private readonly plotHost: HTMLElement;
  private readonly holder: PlotHolder;
  /** The data the legend formatters read (updated in place of rebuilding the plot). */
  private data: ChartData | undefined;
  private readonly markerLayer: MarkerLayer;
  /** The run's markers, drawn on every chart. */
  private markers: readonly ChartMarker[] = [];
  private theme: ChartTheme | undefined;
  /** Whether the card is on screen or near it (kept by ChartGrid's IntersectionObserver). */
  inView = false;
  /** What to draw when the card comes into view (undefined: it shows its latest data). */
  private pending: ChartUpdate | undefined;

  constructor(readonly spec: ChartSpec, onStepClick: (step: number) => void, onExport: (message: ChartExportMessage) => void) {
    const { element, title, plotHost } = chartCardParts(spec);
    this.element = element;
    this.plotHost = plotHost;
    this.markerLayer = new MarkerLayer({
      markers: () => this.markers,
      theme: () => this.theme as ChartTheme,
      onStepClick,
    });
    this.plotHost.append(this.markerLayer.tooltip);
    const exports = exportButtons(() => (this.holder.plot && this.theme ? { plot: this.holder.plot, name: spec.id, title: spec.title, theme: this.theme } : undefined), onExport);
    this.element.append(title, exports, this.plotHost);
    this.holder = new PlotHolder(this.plotHost, PLOT_HEIGHT);
    // A chart not drawn yet takes its plot's room, so that the layout says which charts are in view.
    this.plotHost.style.minHeight = `${PLOT_HEIGHT}px`;
  }

  /**
   * Shows `data` (or hides the card when there is none). Out of view, the card is only laid out (so that
   * the observer can tell when it comes into view) and the update waits in `pending` for `drawPending`.
   */
  update(data: ChartData | undefined, theme: ChartTheme, themeRevision: number, markers: readonly ChartMarker[]): void {
    if (!data) {
      this.pending = undefined;
      this.data = data;
      this.theme = theme;
      this.markers = markers;
      this.element.hidden = true;
      this.holder.clear();
      return;
    }
    this.element.hidden = false;
    this.pending = { data, theme, themeRevision, markers };
    if (this.inView) this.drawPending();
  }

  /** Draws the update kept while the card was out of view, if any. */
  drawPending(): void {
    const update = this.pending;
    if (!update) return;
    this.pending = undefined;
    const { data, theme, themeRevision, markers } = update;
    this.data = data;
    this.theme = theme;
    this.markers = markers;
    const signature = `${themeRevision}|${data.series.map((s) => s.key).join(',')}`;
    const aligned: uPlot.AlignedData = [data.x, ...data.series.map((s) => s.values)];
    // A new plot when the series or the theme changed; otherwise setData, which redraws, markers included.
    this.holder.show(signature, aligned, () => this.options(data, theme));
  }

  destroy(): void {
    this.holder.destroy();
  }

  private options(data: ChartData, theme: ChartTheme): uPlot.Options {
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
      ...plotFrame(this.plotHost, PLOT_HEIGHT, theme),
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
    const range = xZoom(plot, scaleKey);
    if (!range) return;
    this.holder.zoomed = range.zoomed;
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
  private readonly visibility: IntersectionObserver;

  constructor(container: HTMLElement, private theme: ChartTheme, onStepClick: (step: number) => void, onExport: (message: ChartExportMessage) => void = () => undefined) {
    this.cards = CHART_SPECS.map((spec) => new ChartCard(spec, onStepClick, onExport));
    container.append(...this.cards.map((card) => card.element));
    // A card coming into view draws what it was sent while out of view (a hidden card never intersects).
    const byElement = new Map(this.cards.map((card) => [card.element as Element, card]));
    this.visibility = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const card = byElement.get(entry.target);
          if (!card) continue;
          card.inView = entry.isIntersecting;
          if (card.inView) card.drawPending();
        }
      },
      { rootMargin: NEAR_VIEW_MARGIN },
    );
    for (const card of this.cards) this.visibility.observe(card.element);
  }

  /** Rebuilds every chart with new colours. */
  setTheme(theme: ChartTheme): void {
    this.theme = theme;
    this.themeRevision++;
  }

  /** Draws the model (the charts in view; the others when they come into view); returns how many charts have data. */
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
    this.visibility.disconnect();
    for (const card of this.cards) card.destroy();
  }
}
