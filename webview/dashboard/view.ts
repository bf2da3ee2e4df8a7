/**
 * The Dashboard's DOM around the charts: the header (run, estimator, backend/device, step/total,
 * elapsed/ETA, state), the controls (pause/resume/stop, open folder, smoothing, raw toggle) and the
 * notices. Built with createElement and textContent only: nothing the host sends is parsed as HTML.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { DASHBOARD, type WebviewToHostMessage } from '../../src/protocol/webview.js';
import { RunTitle, element } from '../shared/dom.js';
import { formatDuration } from './format.js';
import type { DashboardViewState } from './settings.js';
import { smoothingSlider } from './smoothingSlider.js';
import { describeCoefficients } from './markers.js';
import { type DashboardModel, type DashboardNotice, type HeaderState, currentCoefficients, estimateEtaMs } from './state.js';

/** What the user did in the view. */
export interface ViewActions {
  send(message: WebviewToHostMessage): void;
  settingsChanged(change: Partial<Pick<DashboardViewState, 'smoothing' | 'showRaw'>>): void;
  dismissNotices(): void;
}

/** Minimal typing of the vscode-elements controls used here. */
type ButtonElement = HTMLElement & { disabled: boolean; secondary: boolean };
type CheckboxElement = HTMLElement & { checked: boolean; label: string };

function button(text: string, secondary: boolean, onClick: () => void): ButtonElement {
  const created = document.createElement('vscode-button') as ButtonElement;
  created.textContent = text;
  created.secondary = secondary;
  created.addEventListener('click', () => {
    if (!created.disabled) onClick();
  });
  return created;
}

export class DashboardView {
  /** Where the chart grid goes. */
  readonly chartContainer: HTMLElement;
  private readonly title = new RunTitle();
  private readonly facts = element('div', 'run-facts');
  /** The coefficients in force: the run's configuration plus its applied setConfig controls. */
  private readonly coefficients = element('div', 'run-coefficients');
  private readonly progress = element('div', 'progress-fill');
  private readonly pause: ButtonElement;
  private readonly resume: ButtonElement;
  private readonly stop: ButtonElement;
  private readonly openFolder: ButtonElement;
  private readonly rawCheckbox = document.createElement('vscode-checkbox') as CheckboxElement;
  private readonly notices = element('div', 'notices');
  private readonly emptyMessage = element('p', 'empty-message');
  /** What to do about a crashed run (under the error). */
  private readonly advice = element('div', 'state-advice');
  /** A command sent and not yet answered by a state change: its button stays disabled meanwhile. */
  private pending: WebviewToHostMessage['type'] | undefined;
  /** The notices drawn last, to redraw them only when they change. */
  private noticesShown: { list: DashboardNotice[]; length: number; last: DashboardNotice | undefined } | undefined;

  constructor(root: HTMLElement, private readonly actions: ViewActions, settings: DashboardViewState) {
    const sendOnce = (type: WebviewToHostMessage['type']) => () => {
      this.pending = type;
      actions.send({ type } as WebviewToHostMessage);
    };
    this.pause = button('Pause', false, sendOnce(DASHBOARD.pause));
    this.resume = button('Resume', false, sendOnce(DASHBOARD.resume));
    this.stop = button('Stop', true, sendOnce(DASHBOARD.stop));
    this.openFolder = button('Open Run Folder', true, () => actions.send({ type: DASHBOARD.openRunFolder }));

    const header = element('header', 'run-header');
    const titleRow = element('div', 'title-row');
    const commands = element('div', 'commands');
    commands.append(this.pause, this.resume, this.stop, this.openFolder);
    titleRow.append(this.title.runName, this.title.stateBadge, commands);
    const progressTrack = element('div', 'progress-track');
    progressTrack.append(this.progress);
    header.append(titleRow, this.facts, this.coefficients, this.title.stateMessage, this.advice, progressTrack);

    const toolbar = element('div', 'toolbar');
    const smoothingLabel = smoothingSlider(settings.smoothing, (smoothing) => actions.settingsChanged({ smoothing }));
    this.rawCheckbox.label = 'Show raw values';
    this.rawCheckbox.checked = settings.showRaw;
    this.rawCheckbox.addEventListener('change', () => actions.settingsChanged({ showRaw: this.rawCheckbox.checked }));
    const hint = element('span', 'hint', 'Drag to zoom, double-click to reset, click a step to open its rollout groups; hover a marker to see what changed');
    toolbar.append(smoothingLabel, this.rawCheckbox, hint);

    this.chartContainer = element('main', 'chart-grid');
    root.append(header, toolbar, this.notices, this.emptyMessage, this.chartContainer);
  }

  /** Redraws everything but the charts. `chartsShown` is how many charts have data. */
  render(model: DashboardModel, chartsShown: number): void {
    const { header } = model;
    this.title.render(header, 'Durian RL run');
    this.title.stateMessage.dataset.state = header.state;
    this.advice.textContent = header.advice ?? '';
    this.advice.hidden = !header.advice;

    const facts: string[] = [];
    if (header.estimator) facts.push(`estimator ${header.estimator}`);
    const where = [header.backend, header.device].filter(Boolean).join(' · ');
    if (where) facts.push(where);
    if (header.step !== undefined) facts.push(`step ${header.step}${header.totalSteps ? ` / ${header.totalSteps}` : ''}`);
    if (header.elapsedMs !== undefined) facts.push(`elapsed ${formatDuration(header.elapsedMs)}`);
    const eta = estimateEtaMs(model);
    if (eta !== undefined) facts.push(`ETA ${formatDuration(eta)}`);
    if (header.lastCheckpointStep !== undefined) facts.push(`checkpoint at step ${header.lastCheckpointStep}`);
    this.facts.textContent = facts.join('   ·   ');
    const coefficients = currentCoefficients(model);
    this.coefficients.textContent = coefficients ? `now: ${describeCoefficients(coefficients)}` : '';
    this.coefficients.hidden = !coefficients;

    const fraction = header.totalSteps && header.step !== undefined ? Math.min(1, header.step / header.totalSteps) : 0;
    this.progress.style.width = `${(fraction * 100).toFixed(2)}%`;

    this.renderCommands(header.state, header.runDir);
    this.renderNotices(model);
    this.emptyMessage.hidden = chartsShown > 0;
    this.emptyMessage.textContent =
      header.state === 'waiting'
        ? 'Waiting for the run…'
        : header.state === 'crashed' && header.step === undefined
          ? 'No steps: the run crashed before its first step.'
          : 'No steps yet: the charts appear with the first step.';
  }

  /** A state message arrived: commands answered, buttons follow the new state. */
  clearPending(): void {
    this.pending = undefined;
  }

  private renderCommands(state: HeaderState, runDir: string): void {
    const paused = state === 'paused';
    this.pause.hidden = paused;
    this.resume.hidden = !paused;
    this.pause.disabled = state !== 'running' || this.pending === DASHBOARD.pause;
    this.resume.disabled = !paused || this.pending === DASHBOARD.resume;
    this.stop.disabled = !(state === 'running' || paused || state === 'starting') || this.pending === DASHBOARD.stop;
    this.openFolder.disabled = runDir === '';
  }

  private renderNotices(model: DashboardModel): void {
    const shown = { list: model.notices, length: model.notices.length, last: model.notices[model.notices.length - 1] };
    const before = this.noticesShown;
    if (before && before.list === shown.list && before.length === shown.length && before.last === shown.last) return;
    this.noticesShown = shown;
    this.notices.replaceChildren();
    this.notices.hidden = model.notices.length === 0;
    if (model.notices.length === 0) return;
    const list = element('ul', 'notice-list');
    for (const notice of model.notices) {
      const item = element('li', `notice ${notice.level}`, notice.text);
      list.append(item);
    }
    const dismiss = button('Dismiss', true, () => this.actions.dismissNotices());
    this.notices.append(list, dismiss);
  }
}
