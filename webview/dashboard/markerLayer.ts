/**
 * The markers on one chart, as uPlot hooks: a thin vertical line with a tick at the top per marker, drawn
 * on the chart's canvas in one pass per redraw (markers that fall on the same pixel column are drawn once,
 * so thousands of markers cost at most one line per column); a tooltip (one element per chart) saying what
 * the markers under the cursor were; and a click (uPlot keeps the end of a drag-to-zoom from being one)
 * that reports the step under it.
 */
import type uPlot from 'uplot';
import type { ThemeColorName } from './chartSpecs.js';
import { type ChartMarker, type MarkerKind, firstMarkerFrom, markersBetween, markerTooltip } from './markers.js';
import type { ChartTheme } from './theme.js';

/** Colour of each kind of marker. */
const MARKER_COLORS: Record<MarkerKind, ThemeColorName> = {
  setConfig: 'yellow',
  setGroupWeight: 'purple',
  relabel: 'purple',
  excludePrompt: 'purple',
  undo: 'purple',
  checkpoint: 'green',
  skipped: 'red',
  pause: 'cyan',
  resume: 'cyan',
  resumedFrom: 'orange',
};

/** How close (CSS px) the cursor must be to a marker for its tooltip. */
const MARKER_HOVER_PX = 4;
const TICK_PX = 5;

/**
 * One pixel column per marker cluster: for markers ascending by step, the x positions (rounded) at which
 * a line is drawn and the marker drawn there (the first of its column). Pure, for the tests.
 */
export function markerColumns(markers: readonly ChartMarker[], from: number, to: number, toPixel: (step: number) => number): { x: number; marker: ChartMarker }[] {
  const columns: { x: number; marker: ChartMarker }[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (let i = firstMarkerFrom(markers, from); i < markers.length && markers[i].step <= to; i++) {
    const x = Math.round(toPixel(markers[i].step));
    if (x === last) continue;
    last = x;
    columns.push({ x, marker: markers[i] });
  }
  return columns;
}

export interface MarkerLayerOptions {
  /** The markers to draw now (read at every redraw). */
  markers(): readonly ChartMarker[];
  theme(): ChartTheme;
  /** A click on the chart at `step`. */
  onStepClick(step: number): void;
}

/** The hooks and the tooltip of one chart's markers. */
export class MarkerLayer {
  readonly tooltip: HTMLElement;
  private hovered = false;

  constructor(private readonly options: MarkerLayerOptions) {
    this.tooltip = document.createElement('div');
    this.tooltip.className = 'marker-tooltip';
    this.tooltip.hidden = true;
  }

  /** The uPlot hooks to add to a chart's options. */
  hooks(): uPlot.Hooks.Arrays {
    return {
      draw: [(plot) => this.draw(plot)],
      setCursor: [(plot) => this.showTooltip(plot)],
      ready: [(plot) => this.listen(plot)],
    };
  }

  private draw(plot: uPlot): void {
    const { min, max } = plot.scales.x;
    const markers = this.options.markers();
    if (min === undefined || max === undefined || markers.length === 0) return;
    const theme = this.options.theme();
    const { ctx } = plot;
    const { top, height } = plot.bbox;
    const ratio = typeof devicePixelRatio === 'number' ? devicePixelRatio : 1;
    ctx.save();
    ctx.lineWidth = Math.max(1, Math.round(ratio));
    ctx.globalAlpha = 0.75;
    for (const { x, marker } of markerColumns(markers, min, max, (step) => plot.valToPos(step, 'x', true))) {
      const color = theme.colors[MARKER_COLORS[marker.kind]];
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, top);
      ctx.lineTo(x + 0.5, top + height);
      ctx.stroke();
      const tick = TICK_PX * ratio;
      ctx.beginPath();
      ctx.moveTo(x + 0.5 - tick, top);
      ctx.lineTo(x + 0.5 + tick, top);
      ctx.lineTo(x + 0.5, top + tick * 1.5);
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
  }

  /** The markers near the cursor: within MARKER_HOVER_PX of it, or at the step the cursor snapped to. */
  private markersAtCursor(plot: uPlot): ChartMarker[] {
    const left = plot.cursor.left;
    if (left === undefined || left < 0) return [];
    const markers = this.options.markers();
    const near = markersBetween(markers, plot.posToVal(left - MARKER_HOVER_PX, 'x'), plot.posToVal(left + MARKER_HOVER_PX, 'x'));
    const idx = plot.cursor.idx;
    if (near.length === 0 && idx !== null && idx !== undefined) {
      const step = plot.data[0][idx];
      return markersBetween(markers, step, step);
    }
    return near;
  }

  private showTooltip(plot: uPlot): void {
    const near = this.hovered ? this.markersAtCursor(plot) : [];
    if (near.length === 0) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.textContent = markerTooltip(near);
    this.tooltip.hidden = false;
    // Right of the cursor on the chart's left half, left of it on the right half.
    const over = plot.over.getBoundingClientRect();
    const host = (this.tooltip.offsetParent ?? plot.over).getBoundingClientRect();
    const cursor = plot.cursor.left ?? 0;
    const left = over.left - host.left + cursor;
    const flip = cursor > over.width / 2;
    this.tooltip.style.left = `${flip ? Math.max(0, left - 12 - this.tooltip.offsetWidth) : left + 12}px`;
    this.tooltip.style.top = `${over.top - host.top + 4}px`;
  }

  private listen(plot: uPlot): void {
    const over = plot.over;
    over.addEventListener('mouseenter', () => {
      this.hovered = true;
    });
    over.addEventListener('mouseleave', () => {
      this.hovered = false;
      this.tooltip.hidden = true;
    });
    // uPlot stops the click that ends a drag (a zoom) before it reaches `over`.
    over.addEventListener('click', () => {
      const idx = plot.cursor.idx;
      const step = idx !== null && idx !== undefined ? plot.data[0][idx] : Math.round(plot.posToVal(plot.cursor.left ?? 0, 'x'));
      if (Number.isFinite(step) && step >= 0) this.options.onStepClick(Math.round(step));
    });
  }
}
