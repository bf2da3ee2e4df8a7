/**
 * Rollout groups as a table for pandas: one row per rollout (its group's prompt and difficulty signals
 * repeated on each), written as CSV (RFC 4180: a field holding a comma, a quote or a line break is quoted,
 * quotes doubled) or as Parquet (hyparquet-writer; `pandas.read_parquet` reads it).
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { RolloutGroup } from '../protocol/index.js';

type Cell = string | number | boolean;

/** The columns, in order, with how each is read from a group and one of its rollouts. */
const COLUMNS: readonly { name: string; type: 'STRING' | 'INT32' | 'DOUBLE' | 'BOOLEAN'; value: (group: RolloutGroup, index: number, step: number) => Cell }[] = [
  { name: 'step', type: 'INT32', value: (_g, _i, step) => step },
  { name: 'prompt_id', type: 'STRING', value: (g) => g.promptId },
  { name: 'question', type: 'STRING', value: (g) => g.question },
  { name: 'ground_truth', type: 'STRING', value: (g) => g.groundTruth },
  { name: 'perceptual_bucket', type: 'STRING', value: (g) => g.perceptualBucket },
  { name: 'reasoning_bin', type: 'INT32', value: (g) => g.reasoningBin },
  { name: 'visual_entropy', type: 'DOUBLE', value: (g) => g.visualEntropy },
  { name: 'confidence', type: 'DOUBLE', value: (g) => g.confidence },
  { name: 'group_std', type: 'DOUBLE', value: (g) => g.groupStd },
  { name: 'group_weight', type: 'DOUBLE', value: (g) => g.weight },
  { name: 'excluded', type: 'BOOLEAN', value: (g) => g.excluded },
  { name: 'rollout', type: 'INT32', value: (_g, i) => i },
  { name: 'response', type: 'STRING', value: (g, i) => g.rollouts[i].response },
  { name: 'reward', type: 'DOUBLE', value: (g, i) => g.rollouts[i].reward },
  { name: 'accuracy', type: 'DOUBLE', value: (g, i) => g.rollouts[i].accuracy },
  { name: 'format', type: 'DOUBLE', value: (g, i) => g.rollouts[i].format },
  { name: 'advantage', type: 'DOUBLE', value: (g, i) => g.rollouts[i].advantage },
  { name: 'advantage_grpo', type: 'DOUBLE', value: (g, i) => g.rollouts[i].advantageGrpo },
  { name: 'mean_logprob', type: 'DOUBLE', value: (g, i) => g.rollouts[i].meanLogprob },
  { name: 'relabeled', type: 'BOOLEAN', value: (g, i) => g.rollouts[i].relabeled === true },
];

export const GROUP_EXPORT_COLUMNS: readonly string[] = COLUMNS.map((column) => column.name);

/** The table's columns: `columns[c][r]` is column c of row r (one row per rollout, groups in order). */
function columnsOf(groups: readonly RolloutGroup[], step: number): Cell[][] {
  const columns: Cell[][] = COLUMNS.map(() => []);
  for (const group of groups) {
    for (let i = 0; i < group.rollouts.length; i++) {
      COLUMNS.forEach((column, c) => columns[c].push(column.value(group, i, step)));
    }
  }
  return columns;
}

/** One CSV field: quoted when it holds a comma, a quote or a line break (quotes doubled inside). */
export function csvField(value: Cell): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The groups as CSV text: a header line, then one line per rollout. */
export function groupsToCsv(groups: readonly RolloutGroup[], step: number): string {
  const columns = columnsOf(groups, step);
  const rows = columns[0]?.length ?? 0;
  const lines = [COLUMNS.map((column) => csvField(column.name)).join(',')];
  for (let r = 0; r < rows; r++) lines.push(columns.map((values) => csvField(values[r])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The groups as a Parquet file (one row group; strings UTF-8, numbers DOUBLE or INT32). */
export function groupsToParquet(groups: readonly RolloutGroup[], step: number): Uint8Array {
  const columns = columnsOf(groups, step);
  const buffer = parquetWriteBuffer({
    columnData: COLUMNS.map((column, c) => ({ name: column.name, type: column.type, data: columns[c], nullable: false })),
  });
  return new Uint8Array(buffer);
}
