/**
 * A chart as a file: SVG drawn from the uPlot instance's data, scales and series (vector paths, the axes'
 * ticks, the title and a legend, in the theme's colours on the panel's background), or PNG from its canvas
 * with the title above. Used by the Dashboard's and the Compare panel's charts: `exportButtons` makes the
 * two buttons of a chart card, and the panel posts the `chart/export` message they build to the host.
 */
import uPlot from 'uplot';
import { CHART_EXPORT, type ChartExportFormat, type ChartExportMessage } from '../../src/protocol/compareExport.js';
import { formatValue } from './format.js';
import type { ChartTheme } from './theme.js';

/** A min-max band between two of the plot's series (indices into `plot.series`). */
export interface ExportBand {
  upper: number;
  lower: number;
  fill: string;
}

export interface ChartExportSource {
  plot: uPlot;
  /** File name (without extension) and heading. */
  name: string;
  title: string;
  theme: Pick<ChartTheme, 'text' | 'grid' | 'font'>;
  bands?: readonly ExportBand[];
}

const TITLE_HEIGHT = 24;
const LEGEND_ROW = 16;
const TICKS = 6;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The panel's background colour (VS Code's editor background, or white outside VS Code). */
function background(): string {
  const style = getComputedStyle(document.documentElement);
  return style.getPropertyValue('--vscode-editor-background').trim() || '#ffffff';
}

/** About `count` round tick values in [min, max] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(min: number, max: number, count = TICKS): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return Number.isFinite(min) ? [min] : [];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

/** A series' stroke colour (uPlot keeps it as a function after init). */
function strokeOf(plot: uPlot, index: number): string {
  const stroke = plot.series[index].stroke as unknown;
  const value: unknown = typeof stroke === 'function' ? (stroke as (u: uPlot, i: number) => unknown)(plot, index) : stroke;
  return typeof value === 'string' ? value : '#888888';
}

/** The SVG path of one series inside the plot area (gaps break it unless the series spans them). */
function seriesPath(plot: uPlot, index: number, left: number, top: number): string {
  const xs = plot.data[0];
  const ys = plot.data[index];
  const series = plot.series[index];
  const scale = series.scale ?? 'y';
  let path = '';
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y === null || y === undefined || !Number.isFinite(y)) {
      if (!series.spanGaps) pen = false;
      continue;
    }
    const px = left + plot.valToPos(xs[i], 'x');
    const py = top + plot.valToPos(y, scale);
    path += `${pen ? 'L' : 'M'}${px.toFixed(1)} ${py.toFixed(1)}`;
    pen = true;
  }
  return path;
}

/** The band between two series as one closed polygon (where both have values). */
function bandPath(plot: uPlot, band: ExportBand, left: number, top: number): string {
  const xs = plot.data[0];
  const upper: string[] = [];
  const lower: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const high = plot.data[band.upper][i];
    const low = plot.data[band.lower][i];
    if (high === null || high === undefined || low === null || low === undefined) continue;
    const px = (left + plot.valToPos(xs[i], 'x')).toFixed(1);
    upper.push(`${px} ${(top + plot.valToPos(high, 'y')).toFixed(1)}`);
    lower.push(`${px} ${(top + plot.valToPos(low, 'y')).toFixed(1)}`);
  }
  return upper.length === 0 ? '' : `M${upper.join('L')}L${lower.reverse().join('L')}Z`;
}

/** The chart as an SVG document. */
export function chartSvg(source: ChartExportSource): string {
  const { plot, theme } = source;
  const ratio = uPlot.pxRatio || 1;
  const width = Math.round(plot.width);
  const plotHeight = Math.round(plot.height);
  const left = plot.bbox.left / ratio;
  const top = TITLE_HEIGHT + plot.bbox.top / ratio;
  const areaWidth = plot.bbox.width / ratio;
  const areaHeight = plot.bbox.height / ratio;
  const shown = plot.series.map((series, index) => ({ series, index })).filter(({ series, index }) => index > 0 && series.show !== false && series.label && !String(series.class ?? '').includes('band-edge'));
  const height = TITLE_HEIGHT + plotHeight + LEGEND_ROW * (shown.length + 1);
  const family = `font-family="${escapeXml(theme.font.replace(/^\d+px\s*/, ''))}"`;
  const font = `${family} font-size="11"`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="${escapeXml(background())}"/>`,
    `<text x="8" y="16" fill="${escapeXml(theme.text)}" ${family} font-size="13" font-weight="600">${escapeXml(source.title)}</text>`,
    `<defs><clipPath id="area"><rect x="${left}" y="${top}" width="${areaWidth}" height="${areaHeight}"/></clipPath></defs>`,
  ];
  const x = plot.scales.x;
  const y = plot.scales.y;
  for (const tick of niceTicks(x.min ?? 0, x.max ?? 0)) {
    const px = left + plot.valToPos(tick, 'x');
    parts.push(`<line x1="${px.toFixed(1)}" y1="${top}" x2="${px.toFixed(1)}" y2="${top + areaHeight}" stroke="${escapeXml(theme.grid)}"/>`);
    parts.push(`<text x="${px.toFixed(1)}" y="${top + areaHeight + 14}" fill="${escapeXml(theme.text)}" ${font} text-anchor="middle">${escapeXml(String(tick))}</text>`);
  }
  for (const tick of niceTicks(y.min ?? 0, y.max ?? 0)) {
    const py = top + plot.valToPos(tick, 'y');
    parts.push(`<line x1="${left}" y1="${py.toFixed(1)}" x2="${left + areaWidth}" y2="${py.toFixed(1)}" stroke="${escapeXml(theme.grid)}"/>`);
    parts.push(`<text x="${left - 6}" y="${(py + 4).toFixed(1)}" fill="${escapeXml(theme.text)}" ${font} text-anchor="end">${escapeXml(formatValue(tick))}</text>`);
  }
  parts.push(`<g clip-path="url(#area)" fill="none" stroke-linejoin="round">`);
  for (const band of source.bands ?? []) {
    if (plot.series[band.upper]?.show === false) continue;
    const d = bandPath(plot, band, left, top);
    if (d) parts.push(`<path d="${d}" fill="${escapeXml(band.fill)}" stroke="none"/>`);
  }
  for (const { series, index } of shown) {
    const d = seriesPath(plot, index, left, top);
    if (!d) continue;
    const dash = series.dash && series.dash.length > 0 ? ` stroke-dasharray="${series.dash.join(' ')}"` : '';
    const alpha = series.alpha !== undefined && series.alpha < 1 ? ` stroke-opacity="${series.alpha}"` : '';
    parts.push(`<path d="${d}" stroke="${escapeXml(strokeOf(plot, index))}" stroke-width="${series.width ?? 1}"${dash}${alpha}><title>${escapeXml(String(series.label))}</title></path>`);
  }
  parts.push('</g>');
  shown.forEach(({ series, index }, row) => {
    const ly = TITLE_HEIGHT + plotHeight + LEGEND_ROW * (row + 1);
    parts.push(`<line x1="12" y1="${ly - 4}" x2="32" y2="${ly - 4}" stroke="${escapeXml(strokeOf(plot, index))}" stroke-width="2"${series.dash ? ` stroke-dasharray="${series.dash.join(' ')}"` : ''}/>`);
    parts.push(`<text x="38" y="${ly}" fill="${escapeXml(theme.text)}" ${font}>${escapeXml(String(series.label))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The chart's canvas as PNG (base64), with the title above, on the panel's background. */
export function chartPng(source: ChartExportSource): string {
  const canvas = source.plot.ctx.canvas;
  const ratio = uPlot.pxRatio || 1;
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height + Math.round(TITLE_HEIGHT * ratio);
  const context = out.getContext('2d');
  if (!context) throw new Error('no 2D canvas context');
  context.fillStyle = background();
  context.fillRect(0, 0, out.width, out.height);
  context.fillStyle = source.theme.text;
  context.font = `600 ${Math.round(13 * ratio)}px ${source.theme.font.replace(/^\d+px\s*/, '')}`;
  context.fillText(source.title, 8 * ratio, 16 * ratio);
  context.drawImage(canvas, 0, Math.round(TITLE_HEIGHT * ratio));
  return out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

export function chartExportMessage(source: ChartExportSource, format: ChartExportFormat): ChartExportMessage {
  return { type: CHART_EXPORT.save, format, name: source.name, data: format === 'svg' ? chartSvg(source) : chartPng(source) };
}

/** The SVG and PNG buttons of a chart card; `source` is undefined while the card has no plot. */
export function exportButtons(source: () => ChartExportSource | undefined, send: (message: ChartExportMessage) => void): HTMLElement {
  const box = document.createElement('div');
  box.className = 'chart-export';
  for (const format of ['svg', 'png'] as const) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `chart-export-${format}`;
    button.textContent = format.toUpperCase();
    button.title = `Export this chart as ${format.toUpperCase()}`;
    button.addEventListener('click', (event) => {
      event.stopPropagation();
      const current = source();
      if (current) send(chartExportMessage(current, format));
    });
    box.append(button);
  }
  return box;
}
