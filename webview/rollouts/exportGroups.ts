/**
 * The Rollout Groups panel's export buttons: the groups shown (the step on screen, the filter and sort
 * applied) go to the host in one `groups/export`, which writes them as CSV or Parquet for pandas
 * (src/extension/exportGroups.ts: one row per rollout).
 */
import { GROUPS_EXPORT, type GroupsExportFormat, type GroupsExportMessage } from '../../src/protocol/compareExport.js';
import type { RolloutGroup } from '../../src/protocol/events.js';

/** What the panel shows now. */
export interface ShownGroups {
  step: number;
  runName: string;
  groups: RolloutGroup[];
}

const LABELS: Record<GroupsExportFormat, string> = { csv: 'Export CSV', parquet: 'Export Parquet' };

/** The two buttons; `current` is undefined while no step is shown (a click then does nothing). */
export function groupsExportButtons(current: () => ShownGroups | undefined, send: (message: GroupsExportMessage) => void): HTMLElement {
  const box = document.createElement('span');
  box.className = 'groups-export';
  for (const format of ['csv', 'parquet'] as const) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `groups-export-${format}`;
    button.textContent = LABELS[format];
    button.title = `Save the groups shown (this step, filter and sort) as ${format === 'csv' ? 'CSV' : 'Parquet'}: one row per rollout`;
    button.addEventListener('click', () => {
      const shown = current();
      if (shown) send({ type: GROUPS_EXPORT.save, format, step: shown.step, runName: shown.runName, groups: shown.groups });
    });
    box.append(button);
  }
  return box;
}
