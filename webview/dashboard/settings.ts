/**
 * What the Dashboard keeps across being hidden and shown (`vscode.getState`/`setState`): the view's
 * settings and the last step it showed. The data itself is not kept: the host sends it again.
 * `restoreViewState` reads whatever was saved (an older version, junk) without failing.
 */
import { clampSmoothing } from './smoothing.js';

export const VIEW_STATE_VERSION = 1;

export interface DashboardViewState {
  version: typeof VIEW_STATE_VERSION;
  /** EMA weight of the smoothing slider. */
  smoothing: number;
  /** Draw the unsmoothed values faintly behind the smoothed lines. */
  showRaw: boolean;
  /** The last step shown, told to the host in `webview/ready`. */
  lastStep?: number;
}

/** TensorBoard's default smoothing. */
export const DEFAULT_VIEW_STATE: DashboardViewState = { version: VIEW_STATE_VERSION, smoothing: 0.6, showRaw: true };

export function restoreViewState(saved: unknown): DashboardViewState {
  const state: DashboardViewState = { ...DEFAULT_VIEW_STATE };
  if (saved === null || typeof saved !== 'object') return state;
  const { smoothing, showRaw, lastStep } = saved as Record<string, unknown>;
  if (typeof smoothing === 'number') state.smoothing = clampSmoothing(smoothing);
  if (typeof showRaw === 'boolean') state.showRaw = showRaw;
  if (typeof lastStep === 'number' && Number.isInteger(lastStep) && lastStep >= 0) state.lastStep = lastStep;
  return state;
}
