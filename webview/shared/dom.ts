/**
 * DOM helpers every panel uses. Every text the host sends goes into the page with `textContent` or an
 * attribute, never as HTML.
 */
import type { DashboardRunState } from '../../src/protocol/webview.js';

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (className) created.className = className;
  if (text !== undefined) created.textContent = text;
  return created;
}

/** A panel's run state: the host's, or `waiting` until the host says. */
export type PanelRunState = DashboardRunState | 'waiting';

/** The state badge's texts. */
export const RUN_STATE_LABELS: Record<PanelRunState, string> = {
  waiting: 'Waiting for the host',
  starting: 'Starting',
  running: 'Running',
  paused: 'Paused',
  stopped: 'Stopped',
  completed: 'Completed',
  crashed: 'Crashed',
};

/** The run's name (its directory as the tooltip), state badge and state message of a panel's header. */
export class RunTitle {
  readonly runName = element('h1', 'run-name');
  readonly stateBadge = element('span', 'state-badge');
  readonly stateMessage = element('div', 'state-message');

  render(run: { runName: string; runDir: string; state: PanelRunState; message?: string }, fallbackName: string): void {
    this.runName.textContent = run.runName || fallbackName;
    this.runName.title = run.runDir;
    this.stateBadge.textContent = RUN_STATE_LABELS[run.state];
    this.stateBadge.dataset.state = run.state;
    this.stateMessage.textContent = run.message ?? '';
    this.stateMessage.hidden = !run.message;
  }
}
