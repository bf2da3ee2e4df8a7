/**
 * Small, dependency-free SVG charts for the study report: line charts with an optional band per series
 * (mean and min-max over seeds), and dot charts of categories with error bars. Axes have "nice" ticks and
 * labels, every chart has a title and a legend, and every text is XML-escaped, so the files open in any
 * browser or Markdown viewer.
 */

export interface Point {
  x: number;
  y: number;
}

export interface LineSeries {
  name: string;
  color: string;
  /** SVG stroke-dasharray, e.g. "6 3". */
  dash?: string;
  points: Point[];
  /** A shaded band (e.g. min-max over seeds), drawn under the line. */
  band?: { x: number; low: number; high: number }[];
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  width?: number;
  height?: number;
  /** Fix the y range (e.g. [0, 1] for accuracy); default: the data's, padded. */
  yRange?: [number, number];
  /** Categorical x ticks: the values to tick (labels default to the numbers). */
  xTicks?: { value: number; label: string }[];
  /** A note under the title (smoothing, band meaning). */
  subtitle?: string;
}

export interface DotSeries {
  name: string;
  color: string;
  /** One entry per category (same order as `categories`); NaN mean = no data. */
  values: { mean: number; low?: number; high?: number; points?: number[] }[];
}

export interface DotChartSpec {
  title: string;
  yLabel: string;
  categories: string[];
  series: DotSeries[];
  width?: number;
  height?: number;
  yRange?: [number, number];
  subtitle?: string;
}

/** One colour per estimator, fixed so that every plot of a study reads the same way. */
export const ESTIMATOR_COLORS: Record<string, string> = {
  durian: '#d62728',
  grpo: '#1f77b4',
  dr_grpo: '#2ca02c',
  batch_std: '#9467bd',
  rloo: '#ff7f0e',
};

/** Further colours for sensitivity variants (and anything else beyond the five estimators). */
export const EXTRA_COLORS = ['#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#637939', '#843c39'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function fmt(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 100) / 100) : '0';
}

/** About `count` round tick values covering [low, high] (1, 2, 2.5, 5 x 10^k steps). */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!Number.isFinite(low) || !Number.isFinite(high)) return [];
  if (high === low) {
    const pad = Math.abs(low) > 0 ? Math.abs(low) * 0.1 : 1;
    low -= pad;
    high += pad;
  }
  const raw = (high - low) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(low / step - 1e-9) * step; v <= high + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(6)));
}

interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

function paddedRange(values: number[], fixed?: [number, number]): [number, number] {
  if (fixed) return fixed;
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [0, 1];
  let low = Math.min(...finite);
  let high = Math.max(...finite);
  if (low === high) {
    const pad = Math.abs(low) > 0 ? Math.abs(low) * 0.1 : 1;
    return [low - pad, high + pad];
  }
  const pad = (high - low) * 0.05;
  low -= pad;
  high += pad;
  return [low, high];
}

function header(width: number, height: number, title: string, subtitle?: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...(subtitle ? [`<text x="${width / 2}" y="37" text-anchor="middle" font-size="11" fill="#555555">${escapeXml(subtitle)}</text>`] : []),
  ];
}

function axes(frame: Frame, yTicks: number[], xTicks: { value: number; label: string }[], xLabel: string, yLabel: string): string[] {
  const out: string[] = [];
  const { left, top, width, height } = frame;
  for (const tick of yTicks) {
    const y = frame.y(tick);
    out.push(`<line x1="${fmt(left)}" y1="${fmt(y)}" x2="${fmt(left + width)}" y2="${fmt(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${fmt(left - 6)}" y="${fmt(y + 4)}" text-anchor="end">${escapeXml(formatTick(tick))}</text>`);
  }
  for (const tick of xTicks) {
    const x = frame.x(tick.value);
    out.push(`<line x1="${fmt(x)}" y1="${fmt(top + height)}" x2="${fmt(x)}" y2="${fmt(top + height + 5)}" stroke="#333333"/>`);
    out.push(`<text x="${fmt(x)}" y="${fmt(top + height + 18)}" text-anchor="middle">${escapeXml(tick.label)}</text>`);
  }
  out.push(`<rect x="${fmt(left)}" y="${fmt(top)}" width="${fmt(width)}" height="${fmt(height)}" fill="none" stroke="#333333"/>`);
  out.push(`<text x="${fmt(left + width / 2)}" y="${fmt(top + height + 38)}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  const yMid = top + height / 2;
  out.push(`<text x="16" y="${fmt(yMid)}" text-anchor="middle" transform="rotate(-90 16 ${fmt(yMid)})">${escapeXml(yLabel)}</text>`);
  return out;
}

function legend(frame: Frame, entries: { name: string; color: string; dash?: string; band?: boolean }[]): string[] {
  const out: string[] = [];
  const x = frame.left + frame.width + 14;
  entries.forEach((entry, i) => {
    const y = frame.top + 10 + i * 20;
    if (entry.band) out.push(`<rect x="${x}" y="${y - 7}" width="24" height="14" fill="${entry.color}" fill-opacity="0.15"/>`);
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${entry.color}" stroke-width="2.5"${entry.dash ? ` stroke-dasharray="${entry.dash}"` : ''}/>`);
    out.push(`<text x="${x + 30}" y="${y + 4}">${escapeXml(entry.name)}</text>`);
  });
  return out;
}

const LEGEND_WIDTH = 190;

/** A line chart: one line per series, an optional shaded band under each, axes, ticks and a legend. */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 380;
  const top = spec.subtitle ? 50 : 36;
  const frameBox = { left: 70, top, width: width - 70 - LEGEND_WIDTH, height: height - top - 52 };
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x)).concat((spec.xTicks ?? []).map((t) => t.value));
  const ys = spec.series.flatMap((s) => [...s.points.map((p) => p.y), ...(s.band ?? []).flatMap((b) => [b.low, b.high])]);
  const finiteXs = xs.filter((v) => Number.isFinite(v));
  let [xLow, xHigh] = finiteXs.length ? [Math.min(...finiteXs), Math.max(...finiteXs)] : [0, 1];
  if (xLow === xHigh) {
    xLow -= 1;
    xHigh += 1;
  }
  const [yLow, yHigh] = paddedRange(ys, spec.yRange);
  const frame: Frame = {
    ...frameBox,
    x: (v) => frameBox.left + ((v - xLow) / (xHigh - xLow)) * frameBox.width,
    y: (v) => frameBox.top + frameBox.height - ((v - yLow) / (yHigh - yLow)) * frameBox.height,
  };
  const yTicks = niceTicks(yLow, yHigh).filter((t) => t >= yLow - 1e-12 && t <= yHigh + 1e-12);
  const xTicks = spec.xTicks ?? niceTicks(xLow, xHigh, 6).filter((t) => t >= xLow && t <= xHigh).map((t) => ({ value: t, label: formatTick(t) }));
  const out = header(width, height, spec.title, spec.subtitle);
  out.push(...axes(frame, yTicks, xTicks, spec.xLabel, spec.yLabel));
  const clip = (v: number) => Math.min(frameBox.top + frameBox.height, Math.max(frameBox.top, v));
  for (const series of spec.series) {
    const band = (series.band ?? []).filter((b) => Number.isFinite(b.low) && Number.isFinite(b.high));
    if (band.length > 1) {
      const upper = band.map((b) => `${fmt(frame.x(b.x))},${fmt(clip(frame.y(b.high)))}`);
      const lower = [...band].reverse().map((b) => `${fmt(frame.x(b.x))},${fmt(clip(frame.y(b.low)))}`);
      out.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${series.color}" fill-opacity="0.15" stroke="none"/>`);
    }
  }
  spec.series.forEach((series, k) => {
    const points = series.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (points.length === 0) return;
    const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(frame.x(p.x))},${fmt(clip(frame.y(p.y)))}`).join(' ');
    // Later series are drawn thinner, so that identical curves still show every colour.
    const width = spec.series.length > 1 ? Math.max(1.25, 3.5 - (2.25 * k) / (spec.series.length - 1)) : 2;
    out.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="${fmt(width)}"${series.dash ? ` stroke-dasharray="${series.dash}"` : ''}/>`);
    if (points.length <= 25) {
      for (const p of points) out.push(`<circle cx="${fmt(frame.x(p.x))}" cy="${fmt(clip(frame.y(p.y)))}" r="2.5" fill="${series.color}"/>`);
    }
  });
  out.push(...legend(frame, spec.series.map((s) => ({ name: s.name, color: s.color, dash: s.dash, band: (s.band?.length ?? 0) > 1 }))));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Categories along x; per series a dot at the mean, a bar from low to high, and faint dots per seed. */
export function dotChart(spec: DotChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 380;
  const top = spec.subtitle ? 50 : 36;
  const frameBox = { left: 70, top, width: width - 70 - LEGEND_WIDTH, height: height - top - 52 };
  const ys = spec.series.flatMap((s) => s.values.flatMap((v) => [v.mean, v.low ?? Number.NaN, v.high ?? Number.NaN, ...(v.points ?? [])]));
  const [yLow, yHigh] = paddedRange(ys, spec.yRange);
  const slots = Math.max(1, spec.categories.length);
  const frame: Frame = {
    ...frameBox,
    x: (v) => frameBox.left + ((v + 0.5) / slots) * frameBox.width,
    y: (v) => frameBox.top + frameBox.height - ((v - yLow) / (yHigh - yLow)) * frameBox.height,
  };
  const yTicks = niceTicks(yLow, yHigh).filter((t) => t >= yLow - 1e-12 && t <= yHigh + 1e-12);
  const out = header(width, height, spec.title, spec.subtitle);
  out.push(...axes(frame, yTicks, spec.categories.map((label, i) => ({ value: i, label })), '', spec.yLabel));
  const spread = Math.min(40, (frameBox.width / slots) * 0.6);
  // Series with data at a category share its slot side by side.
  const present = spec.categories.map((_, c) => spec.series.map((s, k) => (Number.isFinite(s.values[c]?.mean) ? k : -1)).filter((k) => k >= 0));
  spec.series.forEach((series, k) => {
    series.values.forEach((value, c) => {
      if (!Number.isFinite(value.mean)) return;
      const here = present[c] ?? [];
      const offset = here.length > 1 ? (here.indexOf(k) / (here.length - 1) - 0.5) * spread : 0;
      const x = frame.x(c) + offset;
      for (const p of value.points ?? []) {
        if (Number.isFinite(p)) out.push(`<circle cx="${fmt(x + 5)}" cy="${fmt(frame.y(p))}" r="2" fill="${series.color}" fill-opacity="0.35"/>`);
      }
      if (value.low !== undefined && value.high !== undefined && Number.isFinite(value.low) && Number.isFinite(value.high)) {
        out.push(`<line x1="${fmt(x)}" y1="${fmt(frame.y(value.low))}" x2="${fmt(x)}" y2="${fmt(frame.y(value.high))}" stroke="${series.color}" stroke-width="2"/>`);
        for (const end of [value.low, value.high]) out.push(`<line x1="${fmt(x - 4)}" y1="${fmt(frame.y(end))}" x2="${fmt(x + 4)}" y2="${fmt(frame.y(end))}" stroke="${series.color}" stroke-width="2"/>`);
      }
      out.push(`<circle cx="${fmt(x)}" cy="${fmt(frame.y(value.mean))}" r="4.5" fill="${series.color}"/>`);
    });
  });
  out.push(...legend(frame, spec.series.map((s) => ({ name: s.name, color: s.color }))));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Stacks whole SVG charts vertically into one file (each as a nested <svg>). */
export function stackCharts(title: string, charts: string[]): string {
  const sizes = charts.map((chart) => {
    const match = /<svg[^>]*\bwidth="(\d+(?:\.\d+)?)"[^>]*\bheight="(\d+(?:\.\d+)?)"/.exec(chart);
    return { width: match ? Number(match[1]) : 760, height: match ? Number(match[2]) : 380 };
  });
  const width = Math.max(...sizes.map((s) => s.width), 100);
  const height = sizes.reduce((total, s) => total + s.height, 0);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`, `<title>${escapeXml(title)}</title>`];
  let y = 0;
  charts.forEach((chart, i) => {
    out.push(chart.trim().replace(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, `<svg x="0" y="${y}"`));
    y += sizes[i].height;
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
