/**
 * The virtualised list of prompt groups: rows of a fixed height inside a scroller whose inner spacer has
 * the height of every row, and only the rows in view (plus a few) exist in the DOM. 512 prompts x 8
 * rollouts keep ~20 rows in the page; their thumbnails load only when their row exists.
 */
import type { RolloutGroup } from '../../src/protocol/events.js';
import { button, element, formatNumber, imageUri, isField } from './dom.js';
import { FACT_TITLES, ROLLOUT_ROW_TITLES, extremeTitle } from './labels.js';
import { type RewardOverride, type StepAdvantages, rolloutKey, summarizeGroup } from './state.js';
import { ThumbnailCache } from './thumbnails.js';

export const ROW_HEIGHT = 150;
const OVERSCAN = 4;

export interface ListContext {
  imageBase: string;
  /** The preview's advantages by group position, when shown. */
  preview?: StepAdvantages;
  intervened: ReadonlyMap<string, ReadonlySet<string>>;
  live: boolean;
  selectedPromptId?: string;
  /** Reward overrides made on the rollouts of the step shown, by `rolloutKey`. */
  overrides: ReadonlyMap<string, RewardOverride>;
}

export interface ListActions {
  select(promptId: string): void;
  setWeight(promptId: string, weight: number): void;
  exclude(promptId: string): void;
}

export class VirtualList {
  readonly root = element('div', 'group-list');
  private readonly spacer = element('div', 'group-spacer');
  private groups: readonly RolloutGroup[] = [];
  private rows: readonly number[] = [];
  private context: ListContext = { imageBase: '', intervened: new Map(), live: false, overrides: new Map() };
  private readonly built = new Map<number, HTMLElement>();
  private readonly thumbnails = new ThumbnailCache();
  /** Data that arrived while the user was editing in a row: applied when the focus leaves the rows. */
  private deferred: [readonly RolloutGroup[], readonly number[], ListContext, boolean] | undefined;

  constructor(private readonly actions: ListActions) {
    this.root.setAttribute('role', 'list');
    this.root.tabIndex = 0;
    this.root.append(this.spacer);
    this.root.addEventListener('scroll', () => this.update(), { passive: true });
    this.root.addEventListener('focusout', () =>
      setTimeout(() => {
        if (this.deferred && !this.editing()) this.setData(this.deferred[0], this.deferred[1], this.deferred[2], true);
      }, 0),
    );
    new ResizeObserver(() => this.update()).observe(this.root);
  }

  /** Whether the user is typing in a row's field (a live step must not replace it under the user). */
  private editing(): boolean {
    const active = document.activeElement;
    return isField(active) && this.spacer.contains(active);
  }

  /**
   * New rows (positions in `groups`) or context. With `contextChanged` false (only rows or groups changed,
   * e.g. a live chunk appended to the step), a built row that still shows the same group object at the same
   * position is kept; every other one is dropped and rebuilt on demand (its thumbnail reused).
   */
  setData(groups: readonly RolloutGroup[], rows: readonly number[], context: ListContext, contextChanged = true): void {
    if (this.editing()) {
      const pending = this.deferred;
      this.deferred = [groups, rows, context, contextChanged || (pending?.[3] ?? false)];
      return;
    }
    const deferredChange = this.deferred?.[3] ?? false;
    this.deferred = undefined;
    const sameGroups = groups === this.groups;
    for (const [position, row] of this.built) {
      const kept = !contextChanged && !deferredChange && position < rows.length && this.groups[this.rows[position]] === groups[rows[position]];
      if (kept) continue;
      row.remove();
      this.built.delete(position);
    }
    this.groups = groups;
    this.rows = rows;
    this.context = context;
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    if (!sameGroups) this.root.scrollTop = Math.min(this.root.scrollTop, Math.max(0, rows.length * ROW_HEIGHT - this.root.clientHeight));
    this.update();
  }

  /** Whether every thumbnail of the rows in the DOM has finished loading (or failed). */
  thumbnailsSettled(): boolean {
    for (const row of this.built.values()) {
      const thumb = row.querySelector('img.thumb') as HTMLImageElement | null;
      if (thumb && !thumb.complete) return false;
    }
    return true;
  }

  /** How many rows exist in the DOM (for tests and the status line). */
  get builtRows(): number {
    return this.built.size;
  }

  scrollToPrompt(promptId: string): void {
    const position = this.rows.findIndex((i) => this.groups[i].promptId === promptId);
    if (position >= 0) this.root.scrollTop = position * ROW_HEIGHT;
  }

  private update(): void {
    const height = this.root.clientHeight || 800;
    const first = Math.max(0, Math.floor(this.root.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length - 1, Math.ceil((this.root.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    for (const [position, row] of this.built) {
      if (position < first || position > last) {
        row.remove();
        this.built.delete(position);
      }
    }
    for (let position = first; position <= last; position++) {
      if (this.built.has(position)) continue;
      const row = this.buildRow(position);
      this.built.set(position, row);
      this.spacer.append(row);
    }
  }

  private buildRow(position: number): HTMLElement {
    const index = this.rows[position];
    const group = this.groups[index];
    const { context, actions } = this;
    const summary = summarizeGroup(group);
    const row = element('div', 'group-row');
    row.setAttribute('role', 'listitem');
    row.dataset.promptId = group.promptId;
    row.style.transform = `translateY(${position * ROW_HEIGHT}px)`;
    row.style.height = `${ROW_HEIGHT}px`;
    if (group.promptId === context.selectedPromptId) row.classList.add('selected');
    if (group.excluded) row.classList.add('excluded');
    row.addEventListener('click', () => actions.select(group.promptId));

    const thumb = this.thumbnails.get(imageUri(context.imageBase, group.image), `image of ${group.promptId}`);

    const text = element('div', 'group-text');
    const question = element('div', 'question', group.question);
    question.title = group.question;
    const truth = element('div', 'ground-truth');
    truth.append(element('span', 'muted', 'Ground truth: '), element('span', 'truth-value', group.groundTruth));
    const badges = element('div', 'badges');
    const badge = (className: string, text: string, title: string | undefined) => {
      const created = element('span', `badge ${className}`, text);
      if (title) created.title = title;
      badges.append(created);
    };
    badge('prompt-id', group.promptId, 'Prompt id (the search finds it)');
    if (summary.extreme) badge(`extreme${summary.extreme === 'zero variance' ? ' zero' : ''}`, summary.extreme, extremeTitle(summary));
    if (group.excluded) badge('excluded', 'excluded', 'Left out of the update (excluded, or weight 0)');
    if (group.weight !== 1) badge('weight', `weight ${formatNumber(group.weight, 2)}`, 'Group weight: its advantages are multiplied by it');
    if (summary.relabeled) badge('relabeled', 'reward override', 'A reward override set earlier applies to a response of this group (marked * in the reward row)');
    const acted = context.intervened.get(group.promptId);
    if (acted) badge('intervened', [...acted].map((what) => INTERVENED_LABELS[what] ?? what).join(' · '), 'What you did to this prompt (see Interventions below)');
    text.append(question, truth, badges);

    const difficulty = element('div', 'difficulty');
    const line = (label: string, value: string) => {
      const item = element('div', 'fact');
      item.title = FACT_TITLES[label.trim()] ?? '';
      item.append(element('span', 'muted', label), element('span', 'fact-value', value));
      difficulty.append(item);
    };
    line('entropy ', `${formatNumber(group.visualEntropy)} · ${group.perceptualBucket}`);
    line('confidence ', `${formatNumber(group.confidence)} · bin ${group.reasoningBin}`);
    line('accuracy ', `${summary.correct}/${summary.total} (${formatNumber(summary.meanAccuracy, 2)})`);
    line('std ', formatNumber(group.groupStd));
    line('pooled ', `perc ${formatNumber(group.perceptualPooledStd)} · reas ${formatNumber(group.reasoningPooledStd)}`);

    const table = rolloutTable(group, index, context.preview, context.overrides);

    const commands = element('div', 'row-actions');
    const weight = element('input', 'weight-input');
    Object.assign(weight, { type: 'number', min: '0', max: '100', step: '0.1', value: String(group.weight), title: 'Weight of this prompt group (0 = exclude)' });
    weight.setAttribute('aria-label', `weight of ${group.promptId}`);
    weight.addEventListener('click', (event) => event.stopPropagation());
    const setWeight = button('Reweight', () => {
      const value = Number(weight.value);
      if (weight.value.trim() !== '' && Number.isFinite(value) && value >= 0 && value <= 100) actions.setWeight(group.promptId, value);
      else weight.setCustomValidity('a weight in [0, 100]');
    }, 'button small set-weight');
    setWeight.disabled = !context.live;
    const exclude = button('Exclude', () => actions.exclude(group.promptId), 'button small secondary exclude', 'Mark the ground truth as wrong: leave this prompt out from now on');
    exclude.disabled = !context.live;
    const details = button('Details', () => actions.select(group.promptId), 'button small secondary details');
    commands.append(weight, setWeight, exclude, details);

    row.append(thumb, text, difficulty, table, commands);
    return row;
  }
}

/** What the "intervened" badge lists. */
const INTERVENED_LABELS: Record<string, string> = { relabel: 'reward override', weight: 'reweighted', exclude: 'excluded' };

/** A table header cell with its tooltip. */
function headerCell(label: string, title: string | undefined): HTMLTableCellElement {
  const cell = element('th', undefined, label);
  if (title) cell.title = title;
  return cell;
}

/**
 * The rollouts of a group side by side: reward, mean log-prob, advantages (active, grpo, Durian terms,
 * preview). A rollout with a reward override shows the new reward (`1 -> 0` in its tooltip).
 */
export function rolloutTable(group: RolloutGroup, index: number, preview?: StepAdvantages, overrides: ReadonlyMap<string, RewardOverride> = new Map()): HTMLTableElement {
  const table = element('table', 'rollout-table');
  const head = element('tr');
  head.append(headerCell('#', ROLLOUT_ROW_TITLES['#']));
  group.rollouts.forEach((_, i) => head.append(headerCell(String(i), `Rollout ${i} of ${group.rollouts.length}`)));
  table.append(head);
  const addRow = (label: string, values: (number | undefined)[], className: string, mark?: (i: number, cell: HTMLTableCellElement) => void) => {
    const tr = element('tr', className);
    tr.append(headerCell(label, ROLLOUT_ROW_TITLES[label]));
    values.forEach((value, i) => {
      const cell = element('td', undefined, formatNumber(value, 2));
      if (value !== undefined && className !== 'row-logprob') cell.classList.add(value > 0 ? 'pos' : value < 0 ? 'neg' : 'zero');
      mark?.(i, cell);
      tr.append(cell);
    });
    table.append(tr);
  };
  const rewards = group.rollouts.map((r, i) => overrides.get(rolloutKey(group.promptId, i))?.reward ?? r.reward);
  addRow('reward', rewards, 'row-reward', (i, cell) => {
    const rollout = group.rollouts[i];
    const override = overrides.get(rolloutKey(group.promptId, i));
    if (override) {
      cell.classList.add('relabeled');
      cell.title = describeOverride(rollout.reward, override);
    } else if (rollout.relabeled) {
      cell.classList.add('relabeled');
      cell.title = 'This response earns a reward override set earlier';
    }
  });
  addRow('logp', group.rollouts.map((r) => r.meanLogprob), 'row-logprob');
  addRow('A', group.rollouts.map((r) => r.advantage), 'row-advantage');
  addRow('A grpo', group.rollouts.map((r) => r.advantageGrpo), 'row-grpo');
  if (group.rollouts.some((r) => r.components)) {
    addRow('ori', group.rollouts.map((r) => r.components?.grpo), 'row-component');
    addRow('perc', group.rollouts.map((r) => r.components?.perceptual), 'row-component');
    addRow('reas', group.rollouts.map((r) => r.components?.reasoning), 'row-component');
  }
  const previewed = preview?.advantages[index];
  if (previewed) addRow('preview', previewed, 'row-preview');
  return table;
}

/** `1 -> 0 from step 12`, or `1 -> 0 from the next step (pending)`: what a reward override changed. */
export function describeOverride(before: number, override: RewardOverride): string {
  const when = override.fromStep !== undefined ? `from step ${override.fromStep}` : 'from the next step (pending)';
  return `reward ${formatReward(before)} -> ${formatReward(override.reward)} ${when}`;
}

/** A reward as people write it: `1.0`, `0.0`, `0.25`. */
function formatReward(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(Number(value.toPrecision(4)));
}
