/**
 * The Rollout Groups panel's DOM around the list: the header (run, state, step navigation, follow-live),
 * the coefficient editor (validated as typed, preview, apply, the step each value holds from), the
 * toolbar (search, filters, sort), the notices and the interventions section (pending, applied at step N,
 * undo). Built with createElement and textContent only.
 */
import { effectiveReasoningBins } from '../../src/core/difficulty/binning.js';
import type { FixedEstimatorOptions, LiveConfig } from '../../src/protocol/liveConfig.js';
import { EXTREME_ADVANTAGE } from '../../src/protocol/webview.js';
import { RunTitle } from '../shared/dom.js';
import { button, element, formatNumber, labelled, select } from './dom.js';
import { EXTREMES_ONLY_TITLE } from './labels.js';
import {
  type AccuracyFilter,
  type BucketFilter,
  type ConfigDraft,
  type DraftCheck,
  type DraftField,
  ESTIMATOR_OPTIONS,
  type Filters,
  type InterventionRow,
  type NavigationTarget,
  type RolloutsModel,
  SORT_KEYS,
  SORT_LABELS,
  type ConfigTimeline,
  fieldRange,
} from './state.js';

export interface ViewActions {
  navigate(target: NavigationTarget): void;
  followLive(follow: boolean): void;
  filtersChanged(change: Partial<Filters>): void;
  draftChanged(field: DraftField, value: string | undefined): void;
  togglePreview(): void;
  applyDraft(): void;
  resetDraft(): void;
  undo(controlId: string): void;
  dismissNotices(): void;
}

interface FieldSpec {
  field: DraftField;
  label: string;
  title: string;
  current: (config: LiveConfig) => string;
  since: keyof LiveConfig;
}

const FIELD_SPECS: FieldSpec[] = [
  { field: 'a_ori', label: 'a_ori', title: 'Weight of the GRPO term', current: (c) => String(c.durianWeights[0]), since: 'durianWeights' },
  { field: 'a_perc', label: 'a_perc', title: 'Weight of the perceptual term', current: (c) => String(c.durianWeights[1]), since: 'durianWeights' },
  { field: 'a_reas', label: 'a_reas', title: 'Weight of the reasoning term', current: (c) => String(c.durianWeights[2]), since: 'durianWeights' },
  { field: 'reasoningBins', label: 'bins b', title: 'Equal-frequency confidence bins', current: (c) => String(c.reasoningBins), since: 'reasoningBins' },
  { field: 'minPromptsPerBin', label: 'min/bin', title: 'Fewest prompts per reasoning bin', current: (c) => String(c.minPromptsPerBin), since: 'minPromptsPerBin' },
  { field: 'eps', label: 'eps', title: 'Added to every std', current: (c) => String(c.eps), since: 'eps' },
  { field: 'lr', label: 'lr', title: 'Learning rate', current: (c) => String(c.lr), since: 'lr' },
  { field: 'klBeta', label: 'KL beta', title: 'KL coefficient', current: (c) => String(c.klBeta), since: 'klBeta' },
  { field: 'clipLow', label: 'clip low', title: 'PPO clip below 1', current: (c) => String(c.clipLow), since: 'clipLow' },
  { field: 'clipHigh', label: 'clip high', title: 'PPO clip above 1', current: (c) => String(c.clipHigh), since: 'clipHigh' },
  { field: 'temperature', label: 'temperature', title: 'Sampling temperature', current: (c) => String(c.temperature), since: 'temperature' },
];

/** Durian's `maxPromptsPerBin` of the run (0: no cap), a fixed estimator option from its config.json. */
function maxPromptsPerBinOf(fixed: FixedEstimatorOptions): number {
  const value = fixed.maxPromptsPerBin;
  return typeof value === 'number' && value > 0 ? value : 0;
}

export class RolloutsHeader {
  readonly root = element('header', 'rollouts-header');
  private readonly title = new RunTitle();
  private readonly stepFacts = element('div', 'step-facts');
  private readonly first: HTMLButtonElement;
  private readonly previous: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly latest: HTMLButtonElement;
  private readonly slider = element('input', 'step-slider');
  private readonly sliderValue = element('output', 'slider-value');
  private readonly follow = element('input', 'follow-live');
  private readonly goTo = element('input', 'step-input');
  // editor
  private readonly editor = element('details', 'config-editor');
  private readonly editorSummary = element('summary');
  private readonly estimator: HTMLSelectElement;
  private readonly pool = element('input', 'pool-zero-variance');
  private readonly inputs = new Map<DraftField, { input: HTMLInputElement; hint: HTMLElement }>();
  private readonly estimatorHint = element('span', 'hint');
  private readonly poolHint = element('span', 'hint');
  private readonly weightSum = element('span', 'weight-sum');
  private readonly editorStatus = element('div', 'editor-status');
  private readonly previewButton: HTMLButtonElement;
  private readonly applyButton: HTMLButtonElement;
  private readonly resetButton: HTMLButtonElement;
  // toolbar
  private readonly search = element('input', 'search');
  private readonly count = element('span', 'count');
  private readonly notices = element('div', 'notices');
  private steps: number[] = [];
  /** The estimator in force (the draft leaves it out when chosen). */
  private currentEstimator: string | undefined;

  constructor(private readonly actions: ViewActions, filters: Filters) {
    this.first = button('« First', () => actions.navigate('first'), 'button small secondary nav-first', 'First step');
    this.previous = button('◀ Prev', () => actions.navigate('previous'), 'button small secondary nav-previous', 'Previous step');
    this.next = button('Next ▶', () => actions.navigate('next'), 'button small secondary nav-next', 'Next step');
    this.latest = button('Latest', () => actions.navigate('latest'), 'button small nav-latest', 'The newest step');
    Object.assign(this.slider, { type: 'range', min: '0', max: '0', step: '1', value: '0' });
    this.slider.setAttribute('aria-label', 'step');
    this.slider.addEventListener('input', () => {
      const step = this.steps[Number(this.slider.value)];
      if (step !== undefined) this.sliderValue.textContent = `step ${step}`;
    });
    this.slider.addEventListener('change', () => {
      const step = this.steps[Number(this.slider.value)];
      if (step !== undefined) actions.navigate(step);
    });
    Object.assign(this.goTo, { type: 'number', min: '0', step: '1', placeholder: 'step', title: 'Go to step (Enter)' });
    this.goTo.setAttribute('aria-label', 'go to step');
    this.goTo.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      const step = Number(this.goTo.value);
      if (this.goTo.value.trim() !== '' && Number.isInteger(step) && step >= 0) actions.navigate(step);
    });
    this.follow.type = 'checkbox';
    this.follow.addEventListener('change', () => actions.followLive(this.follow.checked));

    const titleRow = element('div', 'title-row');
    titleRow.append(this.title.runName, this.title.stateBadge, this.stepFacts);
    const nav = element('div', 'step-nav');
    const followLabel = element('label', 'follow');
    followLabel.append(this.follow, element('span', undefined, 'Follow live'));
    nav.append(this.first, this.previous, this.slider, this.sliderValue, this.next, this.latest, this.goTo, followLabel);

    // Coefficient editor.
    // Each estimator once; the one in force is marked "(current)" and choosing it changes nothing.
    this.estimator = select(
      ESTIMATOR_OPTIONS.map((name) => ({ value: name, label: name })),
      ESTIMATOR_OPTIONS[0],
      (value) => actions.draftChanged('estimator', value === this.currentEstimator ? undefined : value),
    );
    this.estimator.title = 'Advantage estimator of the updates from the next step on';
    this.estimator.classList.add('field-estimator');
    this.pool.type = 'checkbox';
    this.pool.addEventListener('change', () => actions.draftChanged('poolZeroVariance', String(this.pool.checked)));
    const grid = element('div', 'editor-grid');
    const estimatorField = labelled('estimator', this.estimator);
    estimatorField.append(this.estimatorHint);
    grid.append(estimatorField);
    for (const spec of FIELD_SPECS) {
      const input = element('input', `field-input field-${spec.field}`);
      const range = fieldRange(spec.field);
      input.type = 'text';
      input.inputMode = 'decimal';
      input.title = `${spec.title}${range ? ` (${range.min ?? ''}..${range.max ?? ''})` : ''}`;
      input.dataset.field = spec.field;
      input.addEventListener('input', () => actions.draftChanged(spec.field, input.value));
      const hint = element('span', 'hint');
      const field = labelled(spec.label, input);
      field.append(hint);
      grid.append(field);
      this.inputs.set(spec.field, { input, hint });
      if (spec.field === 'a_reas') {
        const sum = element('label', 'field');
        sum.append(element('span', 'field-label', 'sum of weights'), this.weightSum);
        grid.append(sum);
      }
    }
    const poolField = labelled('pool zero-variance', this.pool);
    poolField.append(this.poolHint);
    grid.append(poolField);
    this.previewButton = button('Preview', actions.togglePreview, 'button small secondary preview', "Recompute this step's advantages with the edited coefficients (locally)");
    this.applyButton = button('Apply', actions.applyDraft, 'button small apply', 'Send to the trainer: holds from the next step');
    this.resetButton = button('Reset', actions.resetDraft, 'button small secondary reset');
    const editorCommands = element('div', 'editor-commands');
    editorCommands.append(this.previewButton, this.applyButton, this.resetButton, this.editorStatus);
    this.editorSummary.textContent = 'Coefficients';
    this.editor.open = true;
    this.editor.append(this.editorSummary, grid, editorCommands);

    // Toolbar.
    const toolbar = element('div', 'toolbar');
    Object.assign(this.search, { type: 'search', placeholder: 'Search questions and responses', value: filters.search });
    this.search.addEventListener('input', () => actions.filtersChanged({ search: this.search.value }));
    const bucket = select<BucketFilter>(
      [
        { value: 'all', label: 'All buckets' },
        { value: 'low', label: 'Low entropy' },
        { value: 'mid', label: 'Mid entropy' },
        { value: 'high', label: 'High entropy' },
      ],
      filters.bucket,
      (value) => actions.filtersChanged({ bucket: value }),
    );
    bucket.classList.add('filter-bucket');
    const accuracy = select<AccuracyFilter>(
      [
        { value: 'all', label: 'Any accuracy' },
        { value: 'all-wrong', label: 'All wrong' },
        { value: 'mixed', label: 'Mixed' },
        { value: 'all-right', label: 'All right' },
      ],
      filters.accuracy,
      (value) => actions.filtersChanged({ accuracy: value }),
    );
    accuracy.classList.add('filter-accuracy');
    const sort = select(SORT_KEYS.map((key) => ({ value: key, label: `Sort: ${SORT_LABELS[key]}` })), filters.sort, (value) => actions.filtersChanged({ sort: value }));
    sort.classList.add('sort');
    const checkbox = (text: string, checked: boolean, className: string, onChange: (checked: boolean) => void, title?: string) => {
      const input = element('input', className);
      input.type = 'checkbox';
      input.checked = checked;
      input.addEventListener('change', () => onChange(input.checked));
      const label = element('label', 'check');
      if (title) label.title = title;
      label.append(input, element('span', undefined, text));
      return label;
    };
    toolbar.append(
      this.search,
      bucket,
      accuracy,
      sort,
      checkbox('Descending', filters.descending, 'descending', (descending) => actions.filtersChanged({ descending })),
      checkbox(`Extremes only (|A| > ${EXTREME_ADVANTAGE})`, filters.extremesOnly, 'extremes-only', (extremesOnly) => actions.filtersChanged({ extremesOnly }), EXTREMES_ONLY_TITLE),
      checkbox('Acted on only', filters.intervenedOnly, 'intervened-only', (intervenedOnly) => actions.filtersChanged({ intervenedOnly }), 'Only groups with a reward override, a weight other than 1, or excluded'),
      this.count,
    );
    this.root.append(titleRow, this.title.stateMessage, nav, this.editor, toolbar, this.notices);
  }

  render(model: RolloutsModel, timeline: ConfigTimeline | undefined, check: DraftCheck | undefined, shownCount: number): void {
    const { run, shown } = model;
    this.title.render(run, 'Rollout Groups');

    const facts: string[] = [];
    if (shown) facts.push(`step ${shown.step}${shown.source === 'live' ? ' (live)' : ''}`);
    else if (model.wantedStep !== undefined) facts.push(`loading step ${model.wantedStep}…`);
    if (model.latestStep !== undefined) facts.push(`latest ${model.latestStep}${run.totalSteps ? ` / ${run.totalSteps}` : ''}`);
    if (shown) facts.push(`${shown.groups.length} groups`);
    if (shown?.estimator) facts.push(`estimator ${shown.estimator}`);
    if (shown?.skipped) facts.push(`${shown.skipped} unreadable lines skipped`);
    this.stepFacts.textContent = facts.join('  ·  ');

    this.steps = model.steps;
    const position = shown ? model.steps.indexOf(shown.step) : model.steps.length - 1;
    this.slider.max = String(Math.max(0, model.steps.length - 1));
    if (document.activeElement !== this.slider) {
      this.slider.value = String(Math.max(0, position));
      this.sliderValue.textContent = shown ? `step ${shown.step}` : '';
    }
    const none = model.steps.length === 0;
    this.slider.disabled = none;
    this.first.disabled = this.previous.disabled = none || position <= 0;
    this.next.disabled = none || position >= model.steps.length - 1;
    this.latest.disabled = none;
    this.goTo.disabled = none;
    this.follow.checked = model.followLive;

    this.renderEditor(model, timeline, check);
    this.count.textContent = shown ? `${shownCount} of ${shown.groups.length} groups` : '';
    this.renderNotices(model);
  }

  private renderEditor(model: RolloutsModel, timeline: ConfigTimeline | undefined, check: DraftCheck | undefined): void {
    const draft: ConfigDraft = model.draft;
    const config = timeline?.config;
    const sinceText = (key: keyof LiveConfig) => {
      const step = timeline?.since[key];
      return step === undefined ? 'from the start' : `since step ${step}`;
    };
    this.editor.classList.toggle('disabled', !config);
    // b is raised so that no bin holds more than maxPromptsPerBin prompts (when set), and capped so that each
    // bin holds minPromptsPerBin of the step's prompts: say what the shown step used.
    const prompts = model.shown?.groups.length ?? 0;
    const maxPerBin = maxPromptsPerBinOf(model.fixedOptions);
    const binsInUse = config && prompts > 0 ? { prompts, used: effectiveReasoningBins(prompts, config.reasoningBins, config.minPromptsPerBin, maxPerBin) } : undefined;
    const binsDiffer = config !== undefined && binsInUse !== undefined && binsInUse.used !== config.reasoningBins;
    for (const spec of FIELD_SPECS) {
      const { input, hint } = this.inputs.get(spec.field) as { input: HTMLInputElement; hint: HTMLElement };
      if (document.activeElement !== input) input.value = draft[spec.field] ?? (config ? spec.current(config) : '');
      input.disabled = !config;
      const error = check?.errors[spec.field];
      input.classList.toggle('invalid', !!error);
      input.classList.toggle('edited', draft[spec.field] !== undefined && !error && config !== undefined && draft[spec.field] !== spec.current(config));
      input.setAttribute('aria-invalid', String(!!error));
      hint.textContent = error ?? (config ? sinceText(spec.since) : '');
      if (!error && config && spec.field === 'reasoningBins' && binsInUse && binsDiffer) {
        const perBin = binsInUse.used > config.reasoningBins ? `at most ${maxPerBin}/bin` : `${config.minPromptsPerBin}/bin`;
        hint.textContent = `${binsInUse.used} in use (${binsInUse.prompts} prompts, ${perBin}) · ${hint.textContent}`;
      }
      hint.classList.toggle('error', !!error);
    }
    this.currentEstimator = config?.estimator;
    for (const option of this.estimator.options) option.textContent = option.value === config?.estimator ? `${option.value} (current)` : option.value;
    if (document.activeElement !== this.estimator) this.estimator.value = draft.estimator ?? config?.estimator ?? ESTIMATOR_OPTIONS[0];
    this.estimator.disabled = !config;
    this.estimatorHint.textContent = config ? sinceText('estimator') : '';
    this.pool.checked = draft.poolZeroVariance !== undefined ? draft.poolZeroVariance === 'true' : (config?.poolZeroVariance ?? true);
    this.pool.disabled = !config;
    this.poolHint.textContent = config ? sinceText('poolZeroVariance') : '';
    if (check) {
      const sum = check.weightSum;
      this.weightSum.textContent = `${formatNumber(sum, 3)}${Math.abs(sum - 1) > 1e-9 ? ' (≠ 1)' : ''}`;
      this.weightSum.classList.toggle('warning', Math.abs(sum - 1) > 1e-9);
    } else {
      this.weightSum.textContent = '';
    }
    const changes = check ? Object.keys(check.changes).length : 0;
    const errors = check ? Object.keys(check.errors).length : 0;
    this.applyButton.disabled = !model.run.live || changes === 0 || errors > 0;
    this.resetButton.disabled = Object.keys(draft).length === 0;
    this.previewButton.textContent = model.previewOn ? 'Hide preview' : 'Preview';
    this.previewButton.setAttribute('aria-pressed', String(model.previewOn));
    this.previewButton.disabled = !config || !model.shown || errors > 0;
    const pendingConfig = model.pending.filter((p) => p.control.type === 'control/setConfig' && (p.status === 'sending' || p.status === 'sent') && p.appliedStep === undefined).length;
    const status: string[] = [];
    if (!config) status.push('The run’s configuration is not known yet.');
    else if (errors > 0) status.push(`${errors} invalid value${errors === 1 ? '' : 's'}`);
    else if (changes > 0) status.push(`${changes} change${changes === 1 ? '' : 's'} to apply: they hold from the next step`);
    if (!model.run.live && config) status.push('The run is not training: coefficients cannot be applied.');
    if (pendingConfig > 0) status.push(`${pendingConfig} change${pendingConfig === 1 ? '' : 's'} pending (applied at the next step boundary)`);
    this.editorStatus.textContent = status.join(' · ');
    this.editorSummary.textContent = config
      ? `Coefficients: ${config.estimator} · (a_ori, a_perc, a_reas) = (${config.durianWeights.map((w) => formatNumber(w, 3)).join(', ')}) · b ${binsInUse && binsDiffer ? `${binsInUse.used} (of ${config.reasoningBins})` : config.reasoningBins} · lr ${config.lr} · KL ${config.klBeta}`
      : 'Coefficients';
  }

  private renderNotices(model: RolloutsModel): void {
    this.notices.replaceChildren();
    this.notices.hidden = model.notices.length === 0;
    if (model.notices.length === 0) return;
    const list = element('ul', 'notice-list');
    for (const notice of model.notices) list.append(element('li', `notice ${notice.level}`, notice.text));
    this.notices.append(list, button('Dismiss', this.actions.dismissNotices, 'button small secondary'));
  }
}

/** The interventions section: every control of the run, newest first, with its status and an Undo. */
export class InterventionsSection {
  readonly root = element('details', 'interventions');
  private readonly summary = element('summary');
  private readonly list = element('table', 'intervention-list');
  private readonly dismiss: HTMLButtonElement;
  private shownKey = '';

  constructor(private readonly onUndo: (controlId: string) => void, onDismiss: () => void) {
    this.root.open = true;
    this.dismiss = button('Clear failed', onDismiss, 'button small secondary');
    this.root.append(this.summary, this.list, this.dismiss);
  }

  render(rows: readonly InterventionRow[]): void {
    const key = JSON.stringify(rows);
    if (key === this.shownKey) return;
    this.shownKey = key;
    const pending = rows.filter((row) => row.status === 'pending').length;
    this.summary.textContent = `Interventions (${rows.length}${pending ? `, ${pending} pending` : ''})`;
    this.dismiss.hidden = !rows.some((row) => row.status === 'failed');
    this.list.replaceChildren();
    if (rows.length === 0) {
      const tr = element('tr');
      tr.append(element('td', 'muted', 'None yet: override a reward, reweight or exclude a prompt, or apply coefficients.'));
      this.list.append(tr);
      return;
    }
    for (const row of rows) {
      const tr = element('tr', `intervention ${row.status}`);
      tr.dataset.controlId = row.controlId;
      const cell = element('td');
      if (row.canUndo) cell.append(button('Undo', () => this.onUndo(row.controlId), 'button small secondary undo', `Undo from the next step on: ${row.description}`));
      tr.append(element('td', 'intervention-kind', row.kind), element('td', 'intervention-description', row.description), element('td', 'intervention-status', row.statusText), cell);
      this.list.append(tr);
    }
  }
}
