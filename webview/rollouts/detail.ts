/**
 * The detail view of one prompt group: the full image, the question and ground truth, every response in
 * full with its numbers and a relabel field, a bar chart of its rollouts' advantages under each estimator
 * (SVG built element by element), and the prompt's history across steps.
 */
import type { EstimatorName } from '../../src/core/estimators/registry.js';
import type { RolloutGroup } from '../../src/protocol/events.js';
import type { PromptHistoryPoint } from '../../src/protocol/rolloutsWebview.js';
import { button, element, formatNumber, imageUri } from './dom.js';
import { HISTORY_TITLES, extremeTitle } from './labels.js';
import { describeOverride } from './list.js';
import { type RewardOverride, rolloutKey, summarizeGroup } from './state.js';

const SVG = 'http://www.w3.org/2000/svg';

export interface DetailContext {
  step: number;
  imageBase: string;
  live: boolean;
  /** The trainer's estimator for this step. */
  estimator?: EstimatorName;
  /** Every estimator's advantages of this group's rollouts, recomputed locally. */
  estimators: Partial<Record<EstimatorName, number[]>>;
  preview?: number[];
  history?: PromptHistoryPoint[];
  /** Reward overrides made on the rollouts of this step, by `rolloutKey`. */
  overrides: ReadonlyMap<string, RewardOverride>;
}

export interface DetailActions {
  close(): void;
  relabel(rollout: number, reward: number): void;
  exclude(): void;
  setWeight(weight: number): void;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const created = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) created.setAttribute(name, String(value));
  return created;
}

export interface ChartSeries {
  name: string;
  values: number[];
}

/** A grouped bar chart: one group of bars per rollout, one bar per series, zero line in the middle. */
export function advantageChart(series: readonly ChartSeries[], rollouts: number): SVGSVGElement {
  const width = 560;
  const height = 180;
  const pad = { left: 36, right: 8, top: 8, bottom: 20 };
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const extent = Math.max(1e-9, ...all.map(Math.abs));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'advantage-chart', role: 'img', 'aria-label': 'advantages of the rollouts under each estimator' });
  const plotHeight = height - pad.top - pad.bottom;
  const y = (v: number) => pad.top + plotHeight / 2 - (v / extent) * (plotHeight / 2);
  const slot = (width - pad.left - pad.right) / Math.max(1, rollouts);
  const barWidth = Math.max(1, (slot * 0.8) / Math.max(1, series.length));
  chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), class: 'axis' }));
  for (const [value, label] of [[extent, formatNumber(extent, 2)], [-extent, formatNumber(-extent, 2)]] as const) {
    const text = svg('text', { x: pad.left - 4, y: y(value) + 4, class: 'tick', 'text-anchor': 'end' });
    text.textContent = label;
    chart.append(text);
  }
  for (let i = 0; i < rollouts; i++) {
    const x0 = pad.left + i * slot + slot * 0.1;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (!Number.isFinite(v)) return;
      const top = Math.min(y(0), y(v));
      const rect = svg('rect', { x: x0 + k * barWidth, y: top, width: Math.max(1, barWidth - 1), height: Math.max(0.5, Math.abs(y(v) - y(0))), class: `bar series-${k}` });
      const title = svg('title', {});
      title.textContent = `rollout ${i}, ${s.name}: ${formatNumber(v, 4)}`;
      rect.append(title);
      chart.append(rect);
    });
    const label = svg('text', { x: x0 + (slot * 0.8) / 2, y: height - 6, class: 'tick', 'text-anchor': 'middle' });
    label.textContent = String(i);
    chart.append(label);
  }
  return chart;
}

/** Accuracy (0..1) and mean |advantage| of a prompt over the steps it was drawn at. */
export function historyChart(points: readonly PromptHistoryPoint[]): SVGSVGElement {
  const width = 560;
  const height = 120;
  const pad = { left: 36, right: 8, top: 8, bottom: 18 };
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'history-chart', role: 'img', 'aria-label': 'accuracy and mean absolute advantage over steps' });
  if (points.length === 0) return chart;
  const first = points[0].step;
  const last = points[points.length - 1].step;
  const x = (step: number) => pad.left + ((step - first) / Math.max(1, last - first)) * (width - pad.left - pad.right);
  const meanAbs = points.map((p) => p.advantages.reduce((a, v) => a + Math.abs(v), 0) / Math.max(1, p.advantages.length));
  const top = Math.max(1, ...meanAbs);
  const y = (v: number) => pad.top + (1 - v / top) * (height - pad.top - pad.bottom);
  const line = (values: number[], className: string) =>
    svg('polyline', { points: values.map((v, i) => `${x(points[i].step).toFixed(1)},${y(v).toFixed(1)}`).join(' '), class: className });
  chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), class: 'axis' }));
  chart.append(line(points.map((p) => p.accuracy), 'history-accuracy'), line(meanAbs, 'history-advantage'));
  for (const p of points) chart.append(svg('circle', { cx: x(p.step), cy: y(p.accuracy), r: 2, class: 'history-accuracy-dot' }));
  for (const [text, xPos, anchor] of [[`step ${first}`, pad.left, 'start'], [`step ${last}`, width - pad.right, 'end']] as const) {
    const label = svg('text', { x: xPos, y: height - 4, class: 'tick', 'text-anchor': anchor });
    label.textContent = text;
    chart.append(label);
  }
  const topLabel = svg('text', { x: pad.left - 4, y: pad.top + 8, class: 'tick', 'text-anchor': 'end' });
  topLabel.textContent = formatNumber(top, 1);
  chart.append(topLabel);
  return chart;
}

/** The handle left of the detail pane: dragging it sets the pane's width (within its CSS min and max). */
export function detailResizer(pane: HTMLElement): HTMLElement {
  const handle = element('div', 'detail-resizer');
  handle.setAttribute('role', 'separator');
  handle.setAttribute('aria-orientation', 'vertical');
  handle.title = 'Drag to resize the details';
  handle.addEventListener('pointerdown', (down) => {
    const startX = down.clientX;
    const startWidth = pane.getBoundingClientRect().width;
    handle.setPointerCapture(down.pointerId);
    handle.classList.add('dragging');
    const move = (event: PointerEvent) => {
      pane.style.width = `${Math.max(0, startWidth + startX - event.clientX)}px`;
    };
    const up = () => {
      handle.classList.remove('dragging');
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  });
  return handle;
}

export function renderDetail(root: HTMLElement, group: RolloutGroup, context: DetailContext, actions: DetailActions): void {
  root.replaceChildren();
  const summary = summarizeGroup(group);
  const head = element('div', 'detail-head');
  head.append(element('h2', 'detail-title', `${group.promptId} · step ${context.step}`), button('Close', actions.close, 'button small secondary close-detail'));

  const image = element('img', 'detail-image');
  image.alt = `image of ${group.promptId}`;
  image.src = imageUri(context.imageBase, group.image);

  const question = element('p', 'detail-question', group.question);
  const truth = element('p', 'detail-truth');
  truth.append(element('span', 'muted', 'Ground truth: '), element('span', 'truth-value', group.groundTruth));
  const facts = element(
    'p',
    'detail-facts',
    [
      `visual entropy ${formatNumber(group.visualEntropy)} (${group.perceptualBucket} bucket)`,
      `confidence ${formatNumber(group.confidence)} (reasoning bin ${group.reasoningBin})`,
      `group std ${formatNumber(group.groupStd)}`,
      `pooled std: perceptual ${formatNumber(group.perceptualPooledStd)}, reasoning ${formatNumber(group.reasoningPooledStd)}`,
      `weight ${formatNumber(group.weight, 2)}${group.excluded ? ' (excluded)' : ''}`,
      `accuracy ${summary.correct}/${summary.total}${summary.extreme ? ` · ${summary.extreme}` : ''}`,
    ].join(' · '),
  );
  const extreme = extremeTitle(summary);
  if (extreme) facts.title = extreme;

  const commands = element('div', 'detail-commands');
  const weight = element('input', 'weight-input');
  Object.assign(weight, { type: 'number', min: '0', max: '100', step: '0.1', value: String(group.weight) });
  weight.setAttribute('aria-label', 'group weight');
  weight.title = 'Weight of this prompt group from the next step on (0 = leave it out)';
  const reweight = button('Reweight', () => {
    const value = Number(weight.value);
    if (weight.value.trim() !== '' && Number.isFinite(value) && value >= 0 && value <= 100) actions.setWeight(value);
  }, 'button small');
  const exclude = button('Ground truth is wrong: exclude prompt', actions.exclude, 'button small secondary', 'Leave this prompt out of every later update and of sampling (undo it in Interventions)');
  reweight.disabled = exclude.disabled = !context.live;
  commands.append(weight, reweight, exclude);

  // Chart: the trainer's advantages, then every estimator recomputed locally, then the preview.
  const series: { name: string; values: number[] }[] = [
    { name: `trainer (${context.estimator ?? 'active'})`, values: group.rollouts.map((r) => r.advantage) },
  ];
  for (const [name, values] of Object.entries(context.estimators)) if (values) series.push({ name, values });
  if (context.preview) series.push({ name: 'preview', values: context.preview });
  const legend = element('div', 'chart-legend');
  series.forEach((s, k) => {
    const item = element('span', 'legend-item');
    item.append(element('span', `swatch series-${k}`), element('span', undefined, s.name));
    legend.append(item);
  });
  const chartBox = element('section', 'detail-chart');
  chartBox.append(element('h3', undefined, 'Advantages by estimator'), legend, advantageChart(series, group.rollouts.length));

  const responses = element('section', 'responses');
  responses.append(element('h3', undefined, `Responses (${group.rollouts.length})`));
  group.rollouts.forEach((rollout, i) => {
    const item = element('article', 'response');
    item.dataset.rollout = String(i);
    const override = context.overrides.get(rolloutKey(group.promptId, i));
    const numbers = [
      `#${i}`,
      override ? describeOverride(rollout.reward, override) : `reward ${formatNumber(rollout.reward)}${rollout.relabeled ? ' (reward override)' : ''}`,
      `accuracy ${formatNumber(rollout.accuracy, 2)}`,
      `format ${formatNumber(rollout.format, 2)}`,
      `mean log-prob ${formatNumber(rollout.meanLogprob)}`,
      `A ${formatNumber(rollout.advantage)}`,
      `A grpo ${formatNumber(rollout.advantageGrpo)}`,
      ...(rollout.components
        ? [`ori ${formatNumber(rollout.components.grpo)}`, `perc ${formatNumber(rollout.components.perceptual)}`, `reas ${formatNumber(rollout.components.reasoning)}`]
        : []),
    ];
    const meta = element('div', `response-meta${override ? ' overridden' : ''}`, numbers.join(' · '));
    const text = element('pre', 'response-text', rollout.response);
    const relabel = element('div', 'relabel');
    const reward = element('input', 'relabel-input');
    // Prefilled with the reward in force (the override's, if any): the user types the one it should be.
    Object.assign(reward, { type: 'number', step: '0.1', value: String(override?.reward ?? rollout.reward) });
    reward.setAttribute('aria-label', `reward override of response ${i}`);
    reward.title = 'The reward this response to this prompt should earn';
    const send = button('Override reward', () => {
      const value = Number(reward.value);
      if (reward.value.trim() !== '' && Number.isFinite(value) && Math.abs(value) <= 1e6) actions.relabel(i, value);
    }, 'button small relabel-button', 'Reward override: from the next step on, this response to this prompt earns this reward (undo it in Interventions)');
    send.disabled = !context.live;
    relabel.append(element('span', 'muted', 'Reward override: '), reward, send);
    item.append(meta, text, relabel);
    responses.append(item);
  });

  const history = element('section', 'prompt-history');
  history.append(element('h3', undefined, 'History of this prompt'));
  if (!context.history) {
    history.append(element('p', 'muted', 'Reading the run’s rollouts…'));
  } else if (context.history.length === 0) {
    history.append(element('p', 'muted', 'No other step of this run drew this prompt (or the run does not write rollouts).'));
  } else {
    const points = context.history;
    const legendHistory = element('div', 'chart-legend');
    for (const [name, className] of [['accuracy', 'history-accuracy'], ['mean |A|', 'history-advantage']]) {
      const item = element('span', 'legend-item');
      item.append(element('span', `swatch ${className}`), element('span', undefined, name));
      legendHistory.append(item);
    }
    const table = element('table', 'history-table');
    const headRow = element('tr');
    for (const title of ['step', 'accuracy', 'reward', 'weight', 'advantages']) {
      const cell = element('th', undefined, title);
      cell.title = HISTORY_TITLES[title] ?? '';
      headRow.append(cell);
    }
    table.append(headRow);
    for (const point of points.slice(-200).reverse()) {
      const tr = element('tr');
      tr.append(
        element('td', undefined, String(point.step)),
        element('td', undefined, formatNumber(point.accuracy, 2)),
        element('td', undefined, formatNumber(point.reward)),
        element('td', undefined, `${formatNumber(point.weight, 2)}${point.excluded ? ' (excluded)' : ''}`),
        element('td', undefined, point.advantages.map((a) => formatNumber(a, 2)).join(' ')),
      );
      table.append(tr);
    }
    history.append(element('p', 'muted', `Drawn at ${points.length} step${points.length === 1 ? '' : 's'}.`), legendHistory, historyChart(points), table);
  }

  root.append(head, image, question, truth, facts, commands, chartBox, responses, history);
}
