/**
 * Measures the Rollout Groups panel and the Dashboard at the paper's rollout batch (128 prompts x G 8) in
 * Chromium (the DOM tests' page: the real webview bundles, host messages posted as VS Code would). Not a test:
 * timings depend on the machine; the DOM tests assert properties (nothing dropped, the latest step shown).
 *
 *   node --import tsx test/webview/measure/panelsAt128x8.ts [--steps 40] [--only rollouts|dashboard] [--profile] [--out FILE.json]
 *
 * Prints, for each panel: first paint; main-thread time per streamed step (the page's message handler, and the
 * frame that draws it); frame intervals while steps stream, while the list scrolls and while the mouse moves
 * over rows or a chart (median, p95, max), with the load average at the start.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { DASHBOARD, type DashboardHistoryMessage, ROLLOUTS, groupsEvents } from '../../../src/protocol/index.js';
import { BASE_LIVE_CONFIG, type EvaluatePage, openWebviewPage, webviewDomSkipReason } from '../../support/webviewPage.js';
import { G, METRIC_NAMES, PROMPTS, metricsAt, png, stepGroups } from '../paperBatch.js';


function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}
const STEPS = Number(flag('--steps', '40'));
const OUT = flag('--out', '');
/** Prints where the page's time went while steps stream back to back (Chrome's CPU profiler). */
const PROFILE = process.argv.includes('--profile');

type CdpSession = { send(method: string, params?: Record<string, unknown>): Promise<unknown> };
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Starts the CPU profiler; the returned function stops it and prints the 15 functions with the most self time. */
async function startProfile(page: EvaluatePage): Promise<() => Promise<void>> {
  const cdp = (await (page as unknown as { context(): { newCDPSession(page: unknown): Promise<CdpSession> } }).context().newCDPSession(page)) as CdpSession;
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
    const self = new Map<string, number>();
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, k) => {
      const node = byId.get(id);
      if (!node) return;
      const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber}`;
      self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[k] ?? 0) / 1000);
    });
    for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.error(`${ms.toFixed(1).padStart(8)} ms  ${name}`);
  };
}

interface Summary {
  n: number;
  median: number;
  p95: number;
  max: number;
}

function summary(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { n: sorted.length, median: round(at(0.5)), p95: round(at(0.95)), max: round(sorted[sorted.length - 1] ?? NaN) };
}

/**
 * Installed before the bundle: a message listener that stamps when each message arrives (it runs before the
 * panel's own); `window.__handled` gets the panel's handling time once the page adds its after-listener.
 */
const TIMING_SCRIPT = `<script>
window.__name = (f) => f; // the helper tsx wraps named functions of the page functions in
window.sent = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.sent.push(m), getState: () => undefined, setState: () => undefined });
window.__arrived = 0; window.__handled = [];
window.addEventListener('message', () => { window.__arrived = performance.now(); });
</script>`;

/** Adds the after-listener and a rAF loop that records frame intervals into `window.__frames` while `window.__recording`. */
async function instrument(page: EvaluatePage): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __arrived: number; __handled: number[]; __frames: number[]; __recording: boolean; __last: number };
    window.addEventListener('message', () => w.__handled.push(performance.now() - w.__arrived));
    w.__frames = [];
    w.__recording = false;
    w.__last = performance.now();
    // Tasks over 50 ms (Chrome's long tasks): main-thread work a frame had to wait for.
    new PerformanceObserver((list) => {
      if (w.__recording) for (const entry of list.getEntries()) (w as unknown as { __long: number[] }).__long.push(entry.duration);
    }).observe({ entryTypes: ['longtask'] });
    const tick = (now: number) => {
      if (w.__recording) w.__frames.push(now - w.__last);
      w.__last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }, undefined);
}

interface Recorded {
  frames: number[];
  handled: number[];
  long: number[];
}

async function record(page: EvaluatePage, during: () => Promise<unknown>): Promise<Recorded> {
  await page.evaluate(() => {
    const w = window as unknown as { __handled: number[]; __frames: number[]; __long: number[]; __recording: boolean; __last: number };
    w.__frames = [];
    w.__handled = [];
    w.__long = [];
    w.__recording = true;
    // The frame before (handing the page the batches blocks it: not the panel's time) is not counted.
    w.__last = performance.now();
  }, undefined);
  await during();
  return page.evaluate(() => {
    const w = window as unknown as { __handled: number[]; __frames: number[]; __long: number[]; __recording: boolean };
    w.__recording = false;
    return { frames: w.__frames, handled: w.__handled, long: w.__long };
  }, undefined);
}

/** What a phase measured: the handler's time per message, frame intervals, long tasks (count, longest). */
function phase(recorded: Recorded): Record<string, unknown> {
  return {
    ...(recorded.handled.length > 0 ? { handlerMs: summary(recorded.handled) } : {}),
    frameMs: summary(recorded.frames),
    longTasks: { count: recorded.long.length, ...(recorded.long.length > 0 ? { ms: summary(recorded.long) } : {}) },
  };
}

/**
 * Hands `batches` to the page first (playwright's transfer of a large argument blocks the page: not the
 * panel's cost), then posts them from inside the page, `everyMs` apart (0: one per macrotask); resolves when
 * all are posted and drawn. Call `load` before `record`, `stream` inside it.
 */
async function load(page: EvaluatePage, batches: unknown[][]): Promise<void> {
  await page.evaluate((list: unknown[][]) => {
    (window as unknown as { __batches: unknown[][] }).__batches = list;
  }, batches);
}

function stream(page: EvaluatePage, everyMs: number): Promise<void> {
  return page.evaluate(
    (everyMs: number) =>
      new Promise<void>((resolve) => {
        const batches = (window as unknown as { __batches: unknown[][] }).__batches;
        let k = 0;
        const next = () => {
          if (k >= batches.length) {
            requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
            return;
          }
          for (const message of batches[k++]) window.postMessage(message, '*');
          setTimeout(next, everyMs);
        };
        next();
      }),
    everyMs,
  );
}

/** Milliseconds from posting `message` to the first frame drawn after an element matching `selector` exists. */
function firstPaintMs(page: EvaluatePage, message: unknown, selector: string): Promise<number> {
  return page.evaluate(
    ([posted, wanted]: [unknown, string]) =>
      new Promise<number>((resolve) => {
        const t0 = performance.now();
        window.postMessage(posted, '*');
        const poll = () => {
          if (document.querySelector(wanted)) requestAnimationFrame(() => resolve(performance.now() - t0));
          else requestAnimationFrame(poll);
        };
        requestAnimationFrame(poll);
      }),
    [message, selector] as [unknown, string],
  );
}

async function measureRollouts(): Promise<Record<string, unknown>> {
  const image = png(64, 64);
  const served = await openWebviewPage({
    entry: 'rollouts',
    bodyClass: 'vscode-dark',
    beforeScript: TIMING_SCRIPT,
    viewport: { width: 1400, height: 900 },
    route(url, _request, response) {
      if (!url.startsWith('/run/images/')) return false;
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(image);
      return true;
    },
  });
  const { page, base } = served;
  try {
    await page.goto(`${base}/index.html`);
    await page.locator('.rollouts-header').waitFor({ timeout: 10_000 });
    await instrument(page);
    const run = { type: ROLLOUTS.run, runName: 'run-128x8', runDir: '/runs/run-128x8', state: 'running', imageBase: `${base}/run`, steps: [1], totalSteps: 1000, baseConfig: { ...BASE_LIVE_CONFIG, batchSize: PROMPTS, reasoningBins: 12 }, fixedOptions: {}, interventions: [], live: true };
    await page.evaluate((message: unknown) => window.postMessage(message, '*'), run);
    // First paint: a kept step of 128 x 8 posted, until its rows are in the DOM and a frame has drawn them.
    const firstPaint = await firstPaintMs(page, { type: ROLLOUTS.step, step: 1, groups: stepGroups(1), skipped: 0 }, '.group-row');
    const builtRows = await page.evaluate(() => document.querySelectorAll('.group-row').length, undefined);

    // Live steps, as the host relays the trainer's `trainer/groups` events (groupsEvents' chunks).
    const liveBatches = (from: number, count: number) =>
      Array.from({ length: count }, (_, k) => groupsEvents(from + k, 'durian', stepGroups(from + k)).events.map((event) => ({ type: ROLLOUTS.live, step: event.step, estimator: event.estimator, groups: event.groups })));
    await load(page, liveBatches(2, STEPS));
    const profiler = PROFILE ? await startProfile(page) : undefined;
    const fast = await record(page, () => stream(page, 0));
    if (profiler) await profiler();
    await load(page, liveBatches(2 + STEPS, 20));
    const paced = await record(page, () => stream(page, 250));

    // Scrolling the list while steps stream at 4 a second (stopped following: the list stays on one step).
    await page.locator('.follow-live').click();
    await load(page, liveBatches(2 + STEPS + 20, 12));
    const scrolling = await record(page, async () => {
      const streaming = stream(page, 250);
      await page.evaluate(
        () =>
          new Promise<void>((resolve) => {
            const list = document.querySelector('.group-list') as HTMLElement;
            const started = performance.now();
            const step = () => {
              list.scrollTop += 60;
              if (performance.now() - started < 3000) requestAnimationFrame(step);
              else resolve();
            };
            requestAnimationFrame(step);
          }),
        undefined,
      );
      await streaming;
    });
    // Hovering rows (the mouse moved over the list, row to row).
    const hovering = await record(page, async () => {
      for (let k = 0; k < 60; k++) await page.mouse.move(300 + (k % 10) * 60, 350 + (k % 15) * 30);
    });
    const facts = await page.evaluate(() => document.querySelector('.step-facts')?.textContent ?? '', undefined);
    return {
      firstPaintMs: Math.round(firstPaint),
      rowsInDom: builtRows,
      streamedBackToBack: { steps: STEPS, ...phase(fast) },
      streamedEvery250ms: { steps: 20, ...phase(paced) },
      scrollingWhileStreaming: phase(scrolling),
      hoveringRows: phase(hovering),
      stepFactsAtEnd: facts,
    };
  } finally {
    await served.close();
  }
}

async function measureDashboard(historySteps: number, width: number): Promise<Record<string, unknown>> {
  const served = await openWebviewPage({ entry: 'dashboard', bodyClass: 'vscode-dark', beforeScript: TIMING_SCRIPT, viewport: { width, height: 900 } });
  const { page, base } = served;
  try {
    await page.goto(`${base}/index.html`);
    await instrument(page);
    const history: DashboardHistoryMessage = {
      type: DASHBOARD.history,
      runName: 'run-128x8',
      runDir: '/runs/run-128x8',
      state: 'running',
      totalSteps: historySteps + 1000,
      metrics: Array.from({ length: historySteps }, (_, i) => ({ step: i + 1, elapsedMs: (i + 1) * 3000, ...metricsAt(i + 1) })),
      validations: Array.from({ length: Math.floor(historySteps / 20) }, (_, i) => ({ step: (i + 1) * 20, accuracy: 0.4 + i / 1000, reward: 0.5 })),
      baseConfig: { ...BASE_LIVE_CONFIG, batchSize: PROMPTS, reasoningBins: 12 },
      interventions: [],
      marks: [],
    };
    const firstPaint = await firstPaintMs(page, history, '.chart-card:not([hidden]) canvas');
    const event = (step: number) => ({ type: DASHBOARD.event, event: { type: 'trainer/step', step, totalSteps: historySteps + 1000, metrics: metricsAt(step), elapsedMs: step * 3000 } });
    const batches = (from: number, count: number) => Array.from({ length: count }, (_, k) => [event(from + k)]);
    await load(page, batches(historySteps + 1, STEPS));
    const profiler = PROFILE ? await startProfile(page) : undefined;
    const fast = await record(page, () => stream(page, 0));
    if (profiler) await profiler();
    await load(page, batches(historySteps + 1 + STEPS, 20));
    const paced = await record(page, () => stream(page, 250));
    const over = await page.evaluate(() => {
      const rect = (document.querySelector('.chart-card:not([hidden]) .u-over') as HTMLElement).getBoundingClientRect();
      return { left: rect.left, top: rect.top, width: rect.width, height: rect.height };
    }, undefined);
    await load(page, batches(historySteps + 21 + STEPS, 12));
    const hovering = await record(page, async () => {
      const streaming = stream(page, 250);
      for (let k = 0; k < 80; k++) await page.mouse.move(over.left + ((k % 40) / 40) * over.width, over.top + over.height / 2);
      await streaming;
    });
    return {
      viewport: `${width} x 900`,
      historySteps,
      metrics: METRIC_NAMES.length,
      firstPaintMs: Math.round(firstPaint),
      streamedBackToBack: { steps: STEPS, ...phase(fast) },
      streamedEvery250ms: { steps: 20, ...phase(paced) },
      hoveringChartWhileStreaming: phase(hovering),
    };
  } finally {
    await served.close();
  }
}

async function main(): Promise<void> {
  const skip = webviewDomSkipReason();
  if (skip) {
    console.error(`cannot measure: ${skip}`);
    process.exit(1);
  }
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const only = flag('--only', '');
  const rollouts = only === 'dashboard' ? undefined : await measureRollouts();
  const dashboard = only === 'rollouts' ? undefined : [await measureDashboard(2000, 1400), await measureDashboard(2000, 800)];
  const result = { at: new Date().toISOString(), cpus: os.cpus().length, loadAverageAtStart: load, loadAverageAtEnd: os.loadavg().map((x) => x.toFixed(2)).join(' '), batch: `${PROMPTS} x ${G}`, rollouts, dashboard };
  console.log(JSON.stringify(result, null, 2));
  if (OUT) writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
}

void main();
