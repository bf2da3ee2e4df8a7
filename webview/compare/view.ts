/**
 * The Compare panel's DOM around the charts: the title, the toolbar (smoothing, group by arm), the shared
 * legend (one toggle per run or arm: its colour, name, estimator / G / seed) and the summary table (sortable
 * by any column). createElement and textContent only: nothing the host sends is parsed as HTML.
 */
import { element } from '../shared/dom.js';
import { formatDuration, formatValue } from '../dashboard/format.js';
import { smoothingSlider } from '../dashboard/smoothingSlider.js';
import type { ChartTheme } from '../dashboard/theme.js';
import { legendEntries } from './compareData.js';
import { type CompareModel, type CompareViewState, SUMMARY_COLUMNS, type SummaryColumn, type SummaryRow, sortedSummary } from './model.js';

export interface CompareViewActions {
  changed(change: Partial<CompareViewState>): void;
}

const COLUMN_TITLES: Record<SummaryColumn, string> = {
  run: 'Run',
  estimator: 'Estimator',
  groupSize: 'G',
  seed: 'Seed',
  steps: 'Steps',
  finalAccuracy: 'Final val. acc.',
  bestAccuracy: 'Best val. acc.',
  duration: 'Duration',
  backend: 'Backend',
};

function cellText(row: SummaryRow, column: SummaryColumn): string {
  const value = row[column];
  if (value === undefined) return '—';
  if (column === 'finalAccuracy' || column === 'bestAccuracy') return (value as number).toFixed(3);
  if (column === 'duration') return formatDuration(value as number);
  return typeof value === 'number' ? formatValue(value) : value;
}

export class CompareView {
  readonly chartContainer: HTMLElement;
  private readonly title = element('h1', 'compare-title');
  private readonly subtitle = element('div', 'compare-subtitle');
  private readonly groupInput = element('input', 'group-input');
  private readonly legend = element('div', 'compare-legend');
  private readonly table = element('table', 'summary-table');
  private readonly emptyMessage = element('p', 'empty-message');

  constructor(root: HTMLElement, private readonly actions: CompareViewActions, private readonly state: CompareViewState) {
    const header = element('header', 'compare-header');
    header.append(this.title, this.subtitle);

    const toolbar = element('div', 'toolbar');
    const smoothing = smoothingSlider(state.smoothing, (value) => actions.changed({ smoothing: value }));
    const group = element('label', 'group-by-arm');
    this.groupInput.type = 'checkbox';
    this.groupInput.checked = state.groupByArm;
    this.groupInput.addEventListener('change', () => actions.changed({ groupByArm: this.groupInput.checked, hidden: [] }));
    group.append(this.groupInput, element('span', undefined, 'Group by arm (mean, min-max band over seeds)'));
    const hint = element('span', 'hint', 'Drag to zoom all charts, double-click to reset; click a step to open that run’s rollout groups');
    toolbar.append(smoothing, group, hint);

    this.chartContainer = element('main', 'chart-grid');
    const tableBox = element('section', 'summary');
    tableBox.append(element('h2', 'summary-title', 'Summary'), this.table);
    root.append(header, toolbar, this.legend, this.emptyMessage, this.chartContainer, tableBox);
  }

  render(model: CompareModel, theme: ChartTheme, chartsShown: number): void {
    this.title.textContent = model.title ? `Compare: ${model.title}` : 'Compare runs';
    this.subtitle.textContent = model.received ? `${model.runs.length} run${model.runs.length === 1 ? '' : 's'}${model.study ? ' of a durian study' : ''}` : 'Waiting for the host…';
    this.groupInput.checked = this.state.groupByArm;
    this.renderLegend(model, theme);
    this.renderTable(model);
    this.emptyMessage.hidden = chartsShown > 0 || !model.received;
    this.emptyMessage.textContent = model.runs.length === 0 ? 'No runs to compare.' : 'No steps yet: the charts appear with the first step.';
  }

  private renderLegend(model: CompareModel, theme: ChartTheme): void {
    const hidden = new Set(this.state.hidden);
    this.legend.replaceChildren(
      ...legendEntries(model, this.state.groupByArm).map((entry) => {
        const item = element('label', 'legend-entry');
        item.dataset.key = entry.key;
        const toggle = element('input', 'legend-toggle');
        toggle.type = 'checkbox';
        toggle.checked = !hidden.has(entry.key);
        toggle.addEventListener('change', () => {
          const next = new Set(this.state.hidden);
          if (toggle.checked) next.delete(entry.key);
          else next.add(entry.key);
          this.actions.changed({ hidden: [...next] });
        });
        const swatch = element('span', 'legend-swatch');
        swatch.style.borderTopColor = theme.colors[entry.color];
        swatch.style.borderTopStyle = entry.dash ? 'dashed' : 'solid';
        item.append(toggle, swatch, element('span', 'legend-label', entry.label), element('span', 'legend-detail', entry.detail));
        item.title = entry.runs.map((run) => run.meta.runDir).join('\n');
        return item;
      }),
    );
  }

  private renderTable(model: CompareModel): void {
    const { sort } = this.state;
    const head = element('thead');
    const headRow = element('tr');
    for (const column of SUMMARY_COLUMNS) {
      const cell = element('th', undefined, COLUMN_TITLES[column]);
      cell.dataset.column = column;
      cell.tabIndex = 0;
      cell.setAttribute('aria-sort', sort.column === column ? (sort.descending ? 'descending' : 'ascending') : 'none');
      if (sort.column === column) cell.textContent += sort.descending ? ' ▼' : ' ▲';
      const choose = () => this.actions.changed({ sort: { column, descending: sort.column === column ? !sort.descending : false } });
      cell.addEventListener('click', choose);
      cell.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') choose();
      });
      headRow.append(cell);
    }
    head.append(headRow);
    const body = element('tbody');
    for (const row of sortedSummary(model.runs, sort)) {
      const tr = element('tr');
      tr.dataset.runDir = row.runDir;
      for (const column of SUMMARY_COLUMNS) tr.append(element('td', column === 'run' || column === 'estimator' || column === 'backend' ? 'text' : 'number', cellText(row, column)));
      body.append(tr);
    }
    this.table.replaceChildren(head, body);
  }
}
