/**
 * The uPlot pieces the Dashboard's and the Compare panel's charts share: the step and value axes in the
 * theme's colours, the plot's width in its host (at least 200 px), whether the x range is zoomed in, and the
 * holder that builds, feeds and resizes a card's plot.
 */
import uPlot from 'uplot';
import { formatValue } from './format.js';
import type { ChartTheme } from './theme.js';

/** The step axis and the value axis (values through formatValue), in the theme's text and grid colours. */
export function chartAxes(theme: ChartTheme): uPlot.Axis[] {
  const axis = (extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({
    stroke: theme.text,
    font: theme.font,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { stroke: theme.grid, width: 1 },
    ...extra,
  });
  return [axis(), axis({ size: 60, values: (_u, splits) => splits.map((split) => formatValue(split)) })];
}

/** The width a plot takes in its host. */
export function plotWidth(host: HTMLElement): number {
  return Math.max(200, Math.floor(host.clientWidth));
}

/** The options every chart's plot starts from: its host's width, its height, a step (not time) x scale, the axes. */
export function plotFrame(host: HTMLElement, height: number, theme: ChartTheme): Pick<uPlot.Options, 'width' | 'height' | 'scales' | 'axes'> {
  return { width: plotWidth(host), height, scales: { x: { time: false } }, axes: chartAxes(theme) };
}

/** Resizes the plot to its host's width when that changed. */
export function fitPlotWidth(plot: uPlot | undefined, host: HTMLElement, height: number): void {
  if (plot && plot.width !== plotWidth(host)) plot.setSize({ width: plotWidth(host), height });
}

/**
 * After a change of the `scaleKey` scale: the x range shown and whether it is narrower than the data's
 * (zoomed in); undefined for another scale or before there is a range.
 */
export function xZoom(plot: uPlot, scaleKey: string): { zoomed: boolean; min: number; max: number } | undefined {
  if (scaleKey !== 'x') return undefined;
  const steps = plot.data[0];
  const { min, max } = plot.scales.x;
  if (steps.length === 0 || min === undefined || max === undefined) return undefined;
  return { zoomed: min > steps[0] || max < steps[steps.length - 1], min, max };
}

/**
 * A chart card's uPlot in its host: built anew when its signature (its series, the theme) changes, otherwise
 * fed the new data with setData, which keeps a zoomed-in x range; resized with its host.
 */
export class PlotHolder {
  private current: uPlot | undefined;
  private signature = '';
  /** The x range is narrower than the data's (set from the plot's setScale hook; a new plot resets it). */
  zoomed = false;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    readonly host: HTMLElement,
    private readonly height: number,
  ) {
    this.resizeObserver = new ResizeObserver(() => fitPlotWidth(this.current, host, height));
    this.resizeObserver.observe(host);
  }

  get plot(): uPlot | undefined {
    return this.current;
  }

  /** Shows `aligned`; returns the plot when it was built anew (from `options()`), undefined when only its data changed. */
  show(signature: string, aligned: uPlot.AlignedData, options: () => uPlot.Options): uPlot | undefined {
    if (!this.current || signature !== this.signature) {
      this.clear();
      this.signature = signature;
      this.zoomed = false;
      this.current = new uPlot(options(), aligned, this.host);
      return this.current;
    }
    this.current.setData(aligned, !this.zoomed);
    return undefined;
  }

  /** Removes the plot (the card is hidden). */
  clear(): void {
    this.current?.destroy();
    this.current = undefined;
    this.signature = '';
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.clear();
  }
}

/**
 * A chart card's parts: the hidden `section.chart-card` (data-chart = the id), its `h2.chart-title` (the
 * description as its tooltip) and the `div.chart-plot` the plot goes in; the caller puts them together.
 */
export function chartCardParts(chart: { id: string; title: string; description: string }): { element: HTMLElement; title: HTMLElement; plotHost: HTMLElement } {
  const element = document.createElement('section');
  element.className = 'chart-card';
  element.dataset.chart = chart.id;
  element.hidden = true;
  const title = document.createElement('h2');
  title.className = 'chart-title';
  title.textContent = chart.title;
  title.title = chart.description;
  const plotHost = document.createElement('div');
  plotHost.className = 'chart-plot';
  return { element, title, plotHost };
}
