/**
 * Export messages (webview -> host), shared by the panels that export: `chart/export` carries one chart as
 * SVG text or PNG bytes (the Dashboard's and the Compare panel's charts), `groups/export` carries the rollout
 * groups the Rollout Groups panel shows (its step and filter) to be written as CSV or Parquet. The host asks
 * where to save (a save dialog) and writes the file; the webview never touches the file system.
 */
import { type RolloutGroup, rolloutGroup } from './events.js';
import { MAX_GROUPS, MAX_LABEL_CHARS, MAX_TEXT_CHARS, STEP_RANGE } from './limits.js';
import { type ParseResult, parseTypedMessage } from './parse.js';
import { type Check, FieldError, arrayOf, childPath, finite, object, oneOf, text } from './schema.js';

export const CHART_EXPORT = {
  /** Webview -> host: save this chart. */
  save: 'chart/export',
} as const;

export const GROUPS_EXPORT = {
  /** Webview -> host: save these rollout groups. */
  save: 'groups/export',
} as const;

export const CHART_EXPORT_FORMATS = ['svg', 'png'] as const;
export type ChartExportFormat = (typeof CHART_EXPORT_FORMATS)[number];
export const GROUPS_EXPORT_FORMATS = ['csv', 'parquet'] as const;
export type GroupsExportFormat = (typeof GROUPS_EXPORT_FORMATS)[number];

/** Largest chart: an SVG of 10 runs x 10,000 points, or a PNG at the screen's pixel ratio. */
export const MAX_CHART_EXPORT_CHARS = 24 * 1024 * 1024;

export interface ChartExportMessage {
  type: typeof CHART_EXPORT.save;
  format: ChartExportFormat;
  /** The chart's name, for the file name offered (`reward` -> `reward.svg`). */
  name: string;
  /** SVG: the document's text. PNG: the image's bytes in base64 (no `data:` prefix). */
  data: string;
}

export interface GroupsExportMessage {
  type: typeof GROUPS_EXPORT.save;
  format: GroupsExportFormat;
  /** The step the groups belong to. */
  step: number;
  /** The run's folder name, for the file name offered. */
  runName: string;
  /** The groups shown, in the order shown (the panel's filter and sort applied). */
  groups: RolloutGroup[];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const chartExportMessage: Check<ChartExportMessage> = (value, path) => {
  const message = object({
    type: oneOf([CHART_EXPORT.save]),
    format: oneOf(CHART_EXPORT_FORMATS),
    name: text({ max: MAX_LABEL_CHARS, min: 1 }),
    data: text({ max: MAX_CHART_EXPORT_CHARS, min: 1 }),
  })(value, path) as ChartExportMessage;
  if (message.format === 'png' && !BASE64.test(message.data)) throw new FieldError(childPath(path, 'data'), 'must be base64 without a data: prefix for a PNG');
  if (message.format === 'svg' && !message.data.trimStart().startsWith('<svg')) throw new FieldError(childPath(path, 'data'), 'must start with <svg for an SVG');
  return message;
};

const groupsExportMessage = object({
  type: oneOf([GROUPS_EXPORT.save]),
  format: oneOf(GROUPS_EXPORT_FORMATS),
  step: finite(STEP_RANGE),
  runName: text({ max: MAX_TEXT_CHARS }),
  groups: arrayOf(rolloutGroup, { max: MAX_GROUPS }),
}) as Check<GroupsExportMessage>;

/** Largest `groups/export`: a step of MAX_GROUPS prompts with long responses. */
const MAX_GROUPS_EXPORT_CHARS = 256 * 1024 * 1024;

/** Checks a `chart/export` (from any panel that exports charts). */
export function parseChartExport(input: unknown): ParseResult<ChartExportMessage> {
  return parseTypedMessage(input, { [CHART_EXPORT.save]: chartExportMessage }, MAX_CHART_EXPORT_CHARS + 4096, 'from a webview');
}

/** Checks a `groups/export` (from the Rollout Groups panel). */
export function parseGroupsExport(input: unknown): ParseResult<GroupsExportMessage> {
  return parseTypedMessage(input, { [GROUPS_EXPORT.save]: groupsExportMessage }, MAX_GROUPS_EXPORT_CHARS, 'from a webview');
}

/** Whether a raw webview message is an export (to be routed to the export handler before the panel's own parser). */
export function isExportMessage(input: unknown): boolean {
  const type = (input as { type?: unknown } | null)?.type;
  return type === CHART_EXPORT.save || type === GROUPS_EXPORT.save;
}
