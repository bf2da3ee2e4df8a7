/**
 * Entry of the Dashboard webview (bundled to dist/webview/dashboard.js): restores the saved view
 * settings, announces `webview/ready`, checks every host message with `parseHostToWebview` (a bad one
 * becomes a notice and is ignored), folds the good ones into the model and redraws on the next frame.
 */
import { DASHBOARD, WEBVIEW, type WebviewToHostMessage, parseHostToWebview } from '../../src/protocol/webview.js';
import type { ChartExportMessage } from '../../src/protocol/compareExport.js';
import { frameCoalescer } from '../shared/frame.js';
import { vscodeApi } from '../shared/vscodeApi.js';
import { ChartGrid } from './charts.js';
import { type DashboardViewState, restoreViewState } from './settings.js';
import { addNotice, applyMessage, clearNotices, createModel } from './state.js';
import { readTheme, watchTheme } from './theme.js';
import { DashboardView } from './view.js';
// After charts.js (which brings uPlot's stylesheet), so the panel's rules come later in dashboard.css.
import './dashboard.css';

/**
 * Charts redraw at most this often while steps stream in (the header redraws every frame), and less
 * often when a redraw is slow: the gap is at least CHART_BUSY_RATIO times the last redraw's cost, so
 * the charts never take more than a fifth of the main thread.
 */
const CHART_REDRAW_INTERVAL_MS = 200;
const CHART_BUSY_RATIO = 4;
/** Longest rejection text shown for a bad message. */
const MAX_NOTICE_CHARS = 400;

const api = vscodeApi<WebviewToHostMessage | ChartExportMessage>();
const settings: DashboardViewState = restoreViewState(api.getState());
const model = createModel();
if (settings.lastStep !== undefined) model.header.step = settings.lastStep;

const view = new DashboardView(document.body, {
  send: (message) => api.postMessage(message),
  settingsChanged: (change) => {
    Object.assign(settings, change);
    chartsDirty = true;
    scheduleRender();
  },
  dismissNotices: () => {
    clearNotices(model);
    scheduleRender();
  },
}, settings);
const charts = new ChartGrid(
  view.chartContainer,
  readTheme(),
  (step) => api.postMessage({ type: DASHBOARD.openStep, step }),
  (message) => api.postMessage(message),
);

const scheduleRender = frameCoalescer(render);
let chartsDirty = true;
let chartsRevision = -1;
let chartsShown = 0;
let nextChartDraw = 0;
let chartTimer: ReturnType<typeof setTimeout> | undefined;

function render(now: number): void {
  if (chartsDirty || chartsRevision !== model.revision) {
    const wait = nextChartDraw - now;
    if (wait > 0 && !chartsDirty) {
      chartTimer ??= setTimeout(() => {
        chartTimer = undefined;
        scheduleRender();
      }, wait);
    } else {
      const started = performance.now();
      chartsShown = charts.render(model, settings);
      chartsRevision = model.revision;
      chartsDirty = false;
      nextChartDraw = now + Math.max(CHART_REDRAW_INTERVAL_MS, CHART_BUSY_RATIO * (performance.now() - started));
    }
  }
  view.render(model, chartsShown);
  settings.lastStep = model.header.step;
  api.setState(settings);
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseHostToWebview(event.data);
  if (!parsed.ok) {
    addNotice(model, `Ignored a message from the host: ${parsed.error}`.slice(0, MAX_NOTICE_CHARS));
  } else {
    if (parsed.value.type !== DASHBOARD.event) view.clearPending();
    // A new history replaces every series: draw it at once rather than after the throttle.
    if (parsed.value.type === DASHBOARD.history) chartsDirty = true;
    applyMessage(model, parsed.value);
  }
  scheduleRender();
});

watchTheme(() => {
  charts.setTheme(readTheme());
  chartsDirty = true;
  scheduleRender();
});

scheduleRender();
api.postMessage({ type: WEBVIEW.ready, ...(settings.lastStep !== undefined ? { lastStep: settings.lastStep } : {}) });
