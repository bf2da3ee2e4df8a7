/**
 * Entry of the Compare Runs webview (bundled to dist/webview/compare.js): restores the saved view state,
 * announces `webview/ready`, checks every host message with `parseCompareHostToWebview` (a bad one is
 * dropped with a console line), folds the good ones into the model and redraws on the next frame.
 */
import { COMPARE, type CompareWebviewToHostMessage, parseCompareHostToWebview } from '../../src/protocol/compare.js';
import { WEBVIEW } from '../../src/protocol/webview.js';
import { readTheme, watchTheme } from '../dashboard/theme.js';
import { frameCoalescer } from '../shared/frame.js';
import { vscodeApi } from '../shared/vscodeApi.js';
import { CompareGrid } from './compareCharts.js';
import { type CompareViewState, applyMessage, createModel, restoreViewState } from './model.js';
import { CompareView } from './view.js';
// After compareCharts.js (which brings uPlot's stylesheet), so the panel's rules come later.
import './compare.css';

const api = vscodeApi<CompareWebviewToHostMessage>();
const state: CompareViewState = restoreViewState(api.getState());
const model = createModel();
let theme = readTheme();
let defaultGroupingApplied = api.getState() !== undefined;

const view = new CompareView(
  document.body,
  {
    changed: (change) => {
      Object.assign(state, change);
      api.setState(state);
      scheduleRender();
    },
  },
  state,
);
const grid = new CompareGrid(view.chartContainer, theme, {
  openStep: (runDir, step) => api.postMessage({ type: COMPARE.openStep, runDir, step }),
  exportChart: (message) => api.postMessage(message),
});

const scheduleRender = frameCoalescer(render);

function render(): void {
  const shown = grid.render(model, state);
  view.render(model, theme, shown);
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseCompareHostToWebview(event.data);
  if (!parsed.ok) {
    console.warn(`Compare: ignored a message from the host: ${parsed.error}`);
    return;
  }
  applyMessage(model, parsed.value);
  // A study opens grouped by arm, unless the user chose otherwise before.
  if (!defaultGroupingApplied && parsed.value.type === COMPARE.runs) {
    state.groupByArm = parsed.value.study;
    defaultGroupingApplied = true;
  }
  scheduleRender();
});

watchTheme(() => {
  theme = readTheme();
  grid.setTheme(theme);
  scheduleRender();
});

scheduleRender();
api.postMessage({ type: WEBVIEW.ready });
