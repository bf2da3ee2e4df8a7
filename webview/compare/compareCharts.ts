/**
 * The Compare panel's chart grid: one card per COMPARE_CHARTS metric, each a uPlot instance with one line
 * per visible run (or per arm, its min-max band filled behind the mean). The charts share the cursor (uPlot's
 * sync) and the zoom (a drag on one zooms all; a double-click resets all); the hovered chart shows the values
 * under the cursor in a small readout; a click opens Rollout Groups on the nearest line's run at that step.
 * A chart is rebuilt only when its lines or the theme change; otherwise `setData` keeps a zoomed range. A chart
 * is drawn once it comes near the viewport (an IntersectionObserver): the first paint draws the charts in view,
 * not all of them, and a hover moves the cursor only on charts that were drawn.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartExportMessage } from '../../src/protocol/compareExport.js';
import { parseRgba } from '../dashboard/contrast.js';
import { type ChartExportSource, type ExportBand, exportButtons } from '../dashboard/exportChart.js';
import { formatValue } from '../dashboard/format.js';
import { PlotHolder, chartCardParts, plotFrame, xZoom } from '../dashboard/plotParts.js';
import type { ChartTheme } from '../dashboard/theme.js';
import { type CompareChart, type CompareChartData, COMPARE_CHARTS, SmoothingCache, buildCompareChart } from './compareData.js';
import type { CompareModel, CompareViewState } from './model.js';

const CURSOR_SYNC_KEY = 'durian-compare';
const PLOT_HEIGHT = 200;
/** Opacity of an arm's min-max band. */
const BAND_ALPHA = 0.18;
/** uPlot series class of a band's edges: not drawn, not in the readout. */
const BAND_EDGE_CLASS = 'band-edge';

export interface CompareChartActions {
  openStep(runDir: string, step: number): void;
  exportChart(message: ChartExportMessage): void;
}

/** `color` at `alpha` (a colour this cannot read stays as it is, opaque). */
function withAlpha(color: string, alpha: number): string {
  const parsed = parseRgba(color);
  return parsed ? `rgba(${parsed.rgb.join(', ')}, ${alpha * parsed.alpha})` : color;
}

/** The uPlot series and bands of a chart's lines: a banded line is mean, then its min and max edges. */
function layout(data: CompareChartData): { aligned: uPlot.AlignedData; lineOfSeries: number[]; bands: { upper: number; lower: number; line: number }[] } {
  const aligned: (Float64Array | (number | null)[])[] = [data.x];
  const lineOfSeries = [-1];
  const bands: { upper: number; lower: number; line: number }[] = [];
  data.lines.forEach((line, index) => {
    aligned.push(line.values);
    lineOfSeries.push(index);
    if (line.band) {
      aligned.push(line.band.max, line.band.min);
      lineOfSeries.push(index, index);
      bands.push({ upper: aligned.length - 2, lower: aligned.length - 1, line: index });
    }
  });
  return { aligned: aligned as uPlot.AlignedData, lineOfSeries, bands };
}

class CompareCard {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly holder: PlotHolder;
  private readonly readout: HTMLElement;
  private data: CompareChartData | undefined;
  private lineOfSeries: number[] = [];
  private bands: ExportBand[] = [];
  private theme: ChartTheme | undefined;
  private hovered = false;
  /** Near the viewport: drawn. Out of it, the latest data waits in `waiting`. */
  private inView = false;
  private waiting: { data: CompareChartData; theme: ChartTheme; themeRevision: number } | undefined;
  /** The series uPlot focuses (the line nearest the cursor), or null. */
  private focusedSeries: number | null = null;

  constructor(
    readonly chart: CompareChart,
    private readonly grid: CompareGrid,
    private readonly actions: CompareChartActions,
  ) {
    const { element, title, plotHost } = chartCardParts(chart);
    this.element = element;
    this.plotHost = plotHost;
    const head = document.createElement('div');
    head.className = 'chart-head';
    head.append(title, exportButtons(() => this.exportSource(), (message) => actions.exportChart(message)));
    this.readout = document.createElement('div');
    this.readout.className = 'chart-readout';
    this.readout.hidden = true;
    this.plotHost.append(this.readout);
    this.element.append(head, this.plotHost);
    this.plotHost.addEventListener('mouseenter', () => (this.hovered = true));
    this.plotHost.addEventListener('mouseleave', () => {
      this.hovered = false;
      this.readout.hidden = true;
    });
    this.holder = new PlotHolder(this.plotHost, PLOT_HEIGHT);
  }

  update(data: CompareChartData | undefined, theme: ChartTheme, themeRevision: number): void {
    this.data = data;
    this.theme = theme;
    if (!data) {
      this.element.hidden = true;
      this.holder.clear();
      return;
    }
    this.element.hidden = false;
    if (!this.inView) {
      this.waiting = { data, theme, themeRevision };
      // Holds the chart's place, so the page does not jump when it is drawn.
      this.plotHost.style.minHeight = `${PLOT_HEIGHT}px`;
      return;
    }
    this.waiting = undefined;
    const { aligned, lineOfSeries, bands } = layout(data);
    this.lineOfSeries = lineOfSeries;
    const signature = `${themeRevision}|${data.lines.map((line) => `${line.key}${line.band ? '+band' : ''}`).join(',')}`;
    const built = this.holder.show(signature, aligned, () => {
      this.bands = bands.map((band) => ({ upper: band.upper, lower: band.lower, fill: withAlpha(theme.colors[data.lines[band.line].color], BAND_ALPHA) }));
      this.focusedSeries = null;
      return this.options(data, theme);
    });
    if (built) {
      built.over.addEventListener('click', () => this.onClick());
      this.grid.drawn(this);
    }
  }

  /** The card came near the viewport (or left it): draws what waited. */
  setInView(inView: boolean): void {
    this.inView = inView;
    const waiting = this.waiting;
    if (inView && waiting) this.update(waiting.data, waiting.theme, waiting.themeRevision);
  }

  /** Zooms to [min, max] (another chart was zoomed); undefined resets to the data's range. */
  zoomTo(range: { min: number; max: number } | undefined): void {
    const plot = this.holder.plot;
    if (!plot) return;
    const steps = plot.data[0];
    if (steps.length === 0) return;
    plot.setScale('x', range ?? { min: steps[0], max: steps[steps.length - 1] });
  }

  get uplot(): uPlot | undefined {
    return this.holder.plot;
  }

  destroy(): void {
    this.holder.destroy();
  }

  private exportSource(): ChartExportSource | undefined {
    const plot = this.holder.plot;
    if (!plot || !this.theme) return undefined;
    return { plot, name: `compare-${this.chart.id}`, title: this.chart.title, theme: this.theme, bands: this.bands };
  }

  private options(data: CompareChartData, theme: ChartTheme): uPlot.Options {
    const series: uPlot.Series[] = [{ label: 'step' }];
    for (const line of data.lines) {
      const color = theme.colors[line.color];
      series.push({
        label: line.label,
        stroke: color,
        width: line.band ? 2 : 1.5,
        dash: line.dash,
        spanGaps: true,
        points: this.chart.sparse ? { show: true, size: 5, fill: color } : { show: false },
      });
      if (line.band) {
        const edge: uPlot.Series = { label: '', stroke: 'transparent', width: 0, spanGaps: true, points: { show: false }, class: BAND_EDGE_CLASS };
        series.push({ ...edge }, { ...edge });
      }
    }
    const bands: uPlot.Band[] = this.bands.map((band) => ({ series: [band.upper, band.lower], fill: band.fill }));
    return {
      ...plotFrame(this.plotHost, PLOT_HEIGHT, theme),
      series,
      bands,
      legend: { show: false },
      cursor: {
        sync: { key: CURSOR_SYNC_KEY, setSeries: false },
        focus: { prox: 24 },
        hover: { skip: [null, undefined] },
      },
      focus: { alpha: 0.35 },
      hooks: {
        setCursor: [(plot) => this.onCursor(plot)],
        setScale: [(plot, scaleKey) => this.onScale(plot, scaleKey)],
        setSeries: [
          (_plot, seriesIndex, options) => {
            // uPlot passes { focus } when the series nearest the cursor changes (not in its typings).
            const focus = (options as { focus?: boolean }).focus;
            if (focus !== undefined) this.focusedSeries = focus ? seriesIndex : null;
          },
        ],
      },
    };
  }

  /** The readout of the hovered chart: the step and each line's value there. */
  private onCursor(plot: uPlot): void {
    const index = plot.cursor.idx;
    if (!this.hovered || index === null || index === undefined || !this.data) {
      this.readout.hidden = true;
      return;
    }
    const rows: string[] = [`step ${plot.data[0][index]}`];
    this.data.lines.forEach((line) => {
      const value = line.values[index];
      if (value === null || value === undefined) return;
      const band = line.band ? ` [${formatValue(line.band.min[index])} – ${formatValue(line.band.max[index])}]` : '';
      rows.push(`${line.label}: ${formatValue(value)}${band}`);
    });
    this.readout.textContent = rows.join('\n');
    this.readout.hidden = false;
    const left = plot.cursor.left ?? 0;
    this.readout.style.left = `${Math.round(left + 12 > this.plotHost.clientWidth / 2 ? left - 12 - this.readout.offsetWidth : left + 72)}px`;
  }

  private onScale(plot: uPlot, scaleKey: string): void {
    const range = xZoom(plot, scaleKey);
    if (!range) return;
    this.holder.zoomed = range.zoomed;
    this.grid.zoomed(this, range.zoomed ? { min: range.min, max: range.max } : undefined);
  }

  /** A click (not the end of a drag: uPlot stops that one): the focused line's run, else the first line's. */
  private onClick(): void {
    const plot = this.holder.plot;
    const index = plot?.cursor.idx;
    if (!plot || !this.data || index === null || index === undefined) return;
    const line = (this.focusedSeries !== null ? this.data.lines[this.lineOfSeries[this.focusedSeries] ?? -1] : undefined) ?? this.data.lines.find((candidate) => candidate.values[index] !== null) ?? this.data.lines[0];
    if (line) this.actions.openStep(line.runDir, plot.data[0][index]);
  }
}

/** Every chart card, in COMPARE_CHARTS order, inside `container`. */
export class CompareGrid {
  private readonly cards: CompareCard[];
  private readonly cache = new SmoothingCache();
  private themeRevision = 0;
  /** Set while one chart's zoom is applied to the others (their setScale must not echo). */
  private syncing = false;
  /** The shared zoom, applied to a chart drawn later; undefined: the whole range. */
  private zoomRange: { min: number; max: number } | undefined;
  private readonly visibility: IntersectionObserver;

  constructor(container: HTMLElement, private theme: ChartTheme, actions: CompareChartActions) {
    this.cards = COMPARE_CHARTS.map((chart) => new CompareCard(chart, this, actions));
    container.append(...this.cards.map((card) => card.element));
    const byElement = new Map(this.cards.map((card) => [card.element as Element, card]));
    this.visibility = new IntersectionObserver((entries) => {
      for (const entry of entries) byElement.get(entry.target)?.setInView(entry.isIntersecting);
    }, { rootMargin: '100px 0px' });
    for (const card of this.cards) this.visibility.observe(card.element);
  }

  /** A chart was (re)built: it takes the shared zoom. */
  drawn(card: CompareCard): void {
    if (!this.zoomRange) return;
    this.syncing = true;
    try {
      card.zoomTo(this.zoomRange);
    } finally {
      this.syncing = false;
    }
  }

  setTheme(theme: ChartTheme): void {
    this.theme = theme;
    this.themeRevision++;
  }

  /** Draws the model; returns how many charts have data. */
  render(model: CompareModel, view: CompareViewState): number {
    let shown = 0;
    for (const card of this.cards) {
      const data = buildCompareChart(model, card.chart, view, this.cache);
      card.update(data, this.theme, this.themeRevision);
      if (data) shown++;
    }
    return shown;
  }

  /** One chart's x range changed: the others follow. */
  zoomed(source: CompareCard, range: { min: number; max: number } | undefined): void {
    if (this.syncing) return;
    this.zoomRange = range;
    this.syncing = true;
    try {
      for (const card of this.cards) if (card !== source) card.zoomTo(range);
    } finally {
      this.syncing = false;
    }
  }

  /** The uPlot instances shown (for the benchmark and tests). */
  plots(): uPlot[] {
    return this.cards.flatMap((card) => (card.uplot ? [card.uplot] : []));
  }

  destroy(): void {
    this.visibility.disconnect();
    for (const card of this.cards) card.destroy();
  }
}
