/**
 * The markers on the Dashboard's step axis, with no DOM: every intervention (interventions.jsonl and the
 * live `trainer/applied` not logged yet), pause, resume, checkpoint, skipped step and resume boundary, each
 * with one line saying what happened in plain words; the coefficients in force after the interventions;
 * and the lookups the charts need (the markers in a step range, the tooltip of the markers at a step).
 */
import { CONTROL, type Control, type ControlKind } from '../../src/protocol/controls.js';
import { type InterventionLine, replayConfig } from '../../src/protocol/interventionLog.js';
import { LIVE_CONFIG_KEYS, type LiveConfig, type LiveConfigKey } from '../../src/protocol/liveConfig.js';
import { CONTROL_KIND_LABELS, LIVE_SETTING_LABELS, describeControl, shortValue } from '../../src/protocol/rolloutsWebview.js';
import type { RunMark, RunMarkKind } from '../../src/protocol/webview.js';

/** What a marker stands for: a kind of control (`setConfig`, `setGroupWeight`, ...) or a run mark. */
export type MarkerKind = Exclude<ControlKind, 'pause' | 'resume' | 'stop'> | RunMarkKind;

export interface ChartMarker {
  step: number;
  kind: MarkerKind;
  /** What changed, in plain words. */
  text: string;
}

/** A live `trainer/applied` not in the log read with the history. */
export interface AppliedControl {
  controlId: string;
  kind: ControlKind;
  step: number;
  /** The configuration in force before it and the one the trainer reported after it, when both are known. */
  change?: { before: LiveConfig; after: LiveConfig };
}

/** What the markers are built from. */
export interface MarkerLog {
  /** The live configuration the run started with. */
  baseConfig?: LiveConfig;
  interventions: InterventionLine[];
  marks: RunMark[];
  applied: AppliedControl[];
}

export function emptyMarkerLog(): MarkerLog {
  return { interventions: [], marks: [], applied: [] };
}

/** The names of Durian's three weights, as the method writes them. */
const WEIGHT_NAMES = ['a_ori', 'a_perc', 'a_reas'] as const;
/** Most lines of one tooltip; the rest are counted. */
export const MAX_TOOLTIP_LINES = 6;

/** `a_reas 0.7 -> 0.5` for each weight that changed; `lr 0.001 -> 0.0005` for any other setting. */
function describeChange(key: LiveConfigKey, before: unknown, after: unknown): string[] {
  if (key === 'durianWeights' && Array.isArray(before) && Array.isArray(after)) {
    const changed = WEIGHT_NAMES.flatMap((name, i) => (before[i] === after[i] ? [] : [`${name} ${shortValue(before[i])} -> ${shortValue(after[i])}`]));
    return changed.length > 0 ? changed : [`${WEIGHT_NAMES.join(', ')} unchanged`];
  }
  return [`${LIVE_SETTING_LABELS[key] ?? key} ${shortValue(before)} -> ${shortValue(after)}`];
}

/**
 * Walks the interventions in order: the configuration in force after them (from `base`; undefined
 * without it) and one marker per intervention. A setConfig (and the undo of one) says old -> new when the
 * configuration before it is known, else what it set.
 */
export function interventionMarkers(base: LiveConfig | undefined, lines: readonly InterventionLine[]): { markers: ChartMarker[]; config?: LiveConfig } {
  const replay = base ? replayConfig(base, lines) : undefined;
  const replayed = replay?.steps ?? lines.map((line) => ({ line, before: undefined, after: undefined, changed: [] as LiveConfigKey[] }));
  const controls = new Map<string, Control>();
  const markers = replayed.map(({ line, before, after, changed }) => {
    const control = line.control;
    controls.set(control.controlId, control);
    const since = `, since step ${line.step}`;
    const parts = before && after ? changed.flatMap((key) => describeChange(key, before[key], after[key])) : [];
    const text =
      parts.length === 0 ? describeControl(control, (id) => controls.get(id)) + since : `${control.type === CONTROL.undo ? 'undo: ' : ''}${parts.join(', ')}${since}`;
    return { step: line.step, kind: line.kind as MarkerKind, text };
  });
  return { markers, ...(replay ? { config: replay.config } : {}) };
}

/** One line for a mark that is not an intervention. */
function describeMark(mark: RunMark): string {
  switch (mark.kind) {
    case 'checkpoint':
      return `checkpoint saved at step ${mark.step}`;
    case 'skipped':
      return `step ${mark.step} skipped (non-finite): ${mark.detail ?? 'no update, the weights were kept'}`;
    case 'pause':
      return `paused after step ${mark.step}`;
    case 'resume':
      return `resumed after step ${mark.step}`;
    case 'resumedFrom':
      return `run resumed from its checkpoint of step ${mark.step}${mark.detail ? ` (${mark.detail})` : ''}: the later steps were trained again`;
  }
}

/** Every marker of `log`, ascending by step (stable: same-step markers keep their order). */
export function buildMarkers(log: MarkerLog): ChartMarker[] {
  const { markers } = interventionMarkers(log.baseConfig, log.interventions);
  const logged = new Set(log.interventions.map((line) => line.controlId));
  for (const applied of log.applied) {
    if (logged.has(applied.controlId) || applied.kind === 'pause' || applied.kind === 'resume' || applied.kind === 'stop') continue;
    const changed = applied.change ? LIVE_CONFIG_KEYS.filter((key) => JSON.stringify(applied.change?.before[key]) !== JSON.stringify(applied.change?.after[key])) : [];
    const parts = changed.flatMap((key) => describeChange(key, applied.change?.before[key], applied.change?.after[key]));
    const what = parts.length > 0 ? `${applied.kind === 'undo' ? 'undo: ' : ''}${parts.join(', ')}` : `${CONTROL_KIND_LABELS[applied.kind]} applied`;
    markers.push({ step: applied.step, kind: applied.kind, text: `${what}, since step ${applied.step}` });
  }
  for (const mark of log.marks) markers.push({ step: mark.step, kind: mark.kind, text: describeMark(mark) });
  return markers.map((marker, order) => ({ marker, order })).sort((a, b) => a.marker.step - b.marker.step || a.order - b.order).map(({ marker }) => marker);
}

/** Index of the first marker at a step >= `step` (markers ascending). */
export function firstMarkerFrom(markers: readonly ChartMarker[], step: number): number {
  let low = 0;
  let high = markers.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (markers[mid].step < step) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The markers with `from <= step <= to`. */
export function markersBetween(markers: readonly ChartMarker[], from: number, to: number): ChartMarker[] {
  const out: ChartMarker[] = [];
  for (let i = firstMarkerFrom(markers, from); i < markers.length && markers[i].step <= to; i++) out.push(markers[i]);
  return out;
}

/** The tooltip of some markers: one line each (`step 12: ...`), at most MAX_TOOLTIP_LINES, then a count. */
export function markerTooltip(markers: readonly ChartMarker[]): string {
  const lines = markers.slice(0, MAX_TOOLTIP_LINES).map((marker) => `step ${marker.step}: ${marker.text}`);
  if (markers.length > MAX_TOOLTIP_LINES) lines.push(`and ${markers.length - MAX_TOOLTIP_LINES} more`);
  return lines.join('\n');
}

/** The header's coefficients: estimator, and for Durian its weights and bins, then lr and KL. */
export function describeCoefficients(config: LiveConfig): string {
  const parts = [`estimator ${config.estimator}`];
  if (config.estimator === 'durian') {
    parts.push(WEIGHT_NAMES.map((name, i) => `${name} ${shortValue(config.durianWeights[i])}`).join(', '));
    parts.push(`bins ${config.reasoningBins}`);
  }
  parts.push(`lr ${shortValue(config.lr)}`, `KL ${shortValue(config.klBeta)}`);
  return parts.join(' · ');
}
