/**
 * The virtualised list of prompt groups: rows of a fixed height inside a scroller whose inner spacer has
 * the height of every row, and only the rows in view (plus a few) exist in the DOM. 512 prompts x 8
 * rollouts keep ~20 rows in the page; their thumbnails load only when their row exists.
 */
import type { RolloutGroup } from '../../src/protocol/events.js';
import { button, element, formatNumber, imageUri } from './dom.js';
import { type StepAdvantages, summarizeGroup } from './state.js';

export const ROW_HEIGHT = 150;
const OVERSCAN = 4;

export interface ListContext {
  imageBase: string;
  /** The preview's advantages by group position, when shown. */
  preview?: StepAdvantages;
  intervened: ReadonlyMap<string, ReadonlySet<string>>;
  live: boolean;
  selectedPromptId?: string;
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
  private context: ListContext = { imageBase: '', intervened: new Map(), live: false };
  private readonly built = new Map<number, HTMLElement>();
  /** Data that arrived while the user was editing in a row: applied when the focus leaves the rows. */
  private deferred: [readonly RolloutGroup[], readonly number[], ListContext] | undefined;

  constructor(private readonly actions: ListActions) {
    this.root.setAttribute('role', 'list');
    this.root.tabIndex = 0;
    this.root.append(this.spacer);
    this.root.addEventListener('scroll', () => this.update(), { passive: true });
    this.root.addEventListener('focusout', () =>
      setTimeout(() => {
        if (this.deferred && !this.editing()) this.setData(...this.deferred);
      }, 0),
    );
    new ResizeObserver(() => this.update()).observe(this.root);
  }

  /** Whether the focus is in a row's field or button (a live step must not replace it under the user). */
  private editing(): boolean {
    const active = document.activeElement;
    return !!active && active !== this.root && this.spacer.contains(active);
  }

  /** New rows (positions in `groups`) or context: every built row is dropped and rebuilt on demand. */
  setData(groups: readonly RolloutGroup[], rows: readonly number[], context: ListContext): void {
    if (this.editing()) {
      this.deferred = [groups, rows, context];
      return;
    }
    this.deferred = undefined;
    const sameGroups = groups === this.groups;
    this.groups = groups;
    this.rows = rows;
    this.context = context;
    for (const row of this.built.values()) row.remove();
    this.built.clear();
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    if (!sameGroups) this.root.scrollTop = Math.min(this.root.scrollTop, Math.max(0, rows.length * ROW_HEIGHT - this.root.clientHeight));
    this.update();
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

    const thumb = element('img', 'thumb');
    thumb.loading = 'lazy';
    thumb.decoding = 'async';
    thumb.alt = `image of ${group.promptId}`;
    thumb.src = imageUri(context.imageBase, group.image);

    const text = element('div', 'group-text');
    const question = element('div', 'question', group.question);
    question.title = group.question;
    const truth = element('div', 'ground-truth');
    truth.append(element('span', 'muted', 'Ground truth: '), element('span', 'truth-value', group.groundTruth));
    const badges = element('div', 'badges');
    badges.append(element('span', 'badge prompt-id', group.promptId));
    if (summary.extreme) badges.append(element('span', `badge extreme${summary.extreme === 'zero variance' ? ' zero' : ''}`, summary.extreme));
    if (group.excluded) badges.append(element('span', 'badge excluded', 'excluded'));
    if (group.weight !== 1) badges.append(element('span', 'badge weight', `weight ${formatNumber(group.weight, 2)}`));
    if (summary.relabeled) badges.append(element('span', 'badge relabeled', 'relabelled'));
    const acted = context.intervened.get(group.promptId);
    if (acted) badges.append(element('span', 'badge intervened', [...acted].join(' · ')));
    text.append(question, truth, badges);

    const difficulty = element('div', 'difficulty');
    const line = (label: string, value: string) => {
      const item = element('div', 'fact');
      item.append(element('span', 'muted', label), element('span', 'fact-value', value));
      difficulty.append(item);
    };
    line('entropy ', `${formatNumber(group.visualEntropy)} · ${group.perceptualBucket}`);
    line('confidence ', `${formatNumber(group.confidence)} · bin ${group.reasoningBin}`);
    line('accuracy ', `${summary.correct}/${summary.total} (${formatNumber(summary.meanAccuracy, 2)})`);
    line('std ', formatNumber(group.groupStd));
    line('pooled ', `perc ${formatNumber(group.perceptualPooledStd)} · reas ${formatNumber(group.reasoningPooledStd)}`);

    const table = rolloutTable(group, index, context.preview);

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

/** The rollouts of a group side by side: reward, mean log-prob, advantages (active, grpo, Durian terms, preview). */
export function rolloutTable(group: RolloutGroup, index: number, preview?: StepAdvantages): HTMLTableElement {
  const table = element('table', 'rollout-table');
  const head = element('tr');
  head.append(element('th', undefined, '#'));
  group.rollouts.forEach((_, i) => head.append(element('th', undefined, String(i))));
  table.append(head);
  const addRow = (label: string, values: (number | undefined)[], className: string, mark?: (i: number) => string | undefined) => {
    const tr = element('tr', className);
    tr.append(element('th', undefined, label));
    values.forEach((value, i) => {
      const cell = element('td', undefined, formatNumber(value, 2));
      if (value !== undefined && className !== 'row-logprob') cell.classList.add(value > 0 ? 'pos' : value < 0 ? 'neg' : 'zero');
      const extra = mark?.(i);
      if (extra) cell.classList.add(extra);
      tr.append(cell);
    });
    table.append(tr);
  };
  addRow('reward', group.rollouts.map((r) => r.reward), 'row-reward', (i) => (group.rollouts[i].relabeled ? 'relabeled' : undefined));
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
