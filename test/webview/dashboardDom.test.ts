/**
 * The Dashboard webview's real code (webview/dashboard/main.ts, bundled as the build does) in a real DOM:
 * Debian's Chromium through playwright-core, the page served by a small HTTP server of this test, the
 * host's messages posted to the page as VS Code would, and `acquireVsCodeApi` recording what the page sends.
 * Checks what only a browser shows: a marker is drawn on the chart's canvas at its step, hovering it shows
 * what changed, the header shows the coefficients, a click sends `dashboard/openStep` with the step under
 * the cursor and a drag (zoom) sends nothing.
 *
 * Needs the e2e setup's Chromium and playwright-core (`bash scripts/e2e-setup.sh`); skipped without them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTROL, DASHBOARD, type DashboardHistoryMessage } from '../../src/protocol/index.js';
import { projectRoot } from '../e2e/setup.js';
import { BASE_LIVE_CONFIG as BASE, type EvaluatePage, type WebviewPage, RECORDING_VSCODE_API, openWebviewPage, webviewDomSkipReason } from '../support/webviewPage.js';

const STEPS = 100;
const MARKED_STEP = 40;

function history(): DashboardHistoryMessage {
  return {
    type: DASHBOARD.history,
    runName: 'run-dom',
    runDir: '/runs/run-dom',
    state: 'completed',
    totalSteps: STEPS,
    metrics: Array.from({ length: STEPS }, (_, i) => ({ step: i + 1, elapsedMs: (i + 1) * 1000, 'reward/mean': Math.sin(i / 10), 'accuracy/mean': i / STEPS })),
    validations: [],
    baseConfig: BASE,
    interventions: [
      {
        step: MARKED_STEP,
        at: '2026-12-02T01:00:00.000Z',
        kind: 'setConfig',
        controlId: 'c-1',
        control: { type: CONTROL.setConfig, controlId: 'c-1', changes: { durianWeights: [0.1, 0.4, 0.5] } },
      },
    ],
    marks: [{ kind: 'skipped', step: 70, detail: 'the gradients are non-finite' }],
  };
}

interface ChartGeometry {
  /** Page coordinates of the plotting area (.u-over). */
  left: number;
  top: number;
  width: number;
  height: number;
}

describe('the Dashboard webview in a real DOM (Chromium)', { skip: webviewDomSkipReason(), timeout: 120_000 }, () => {
  let served: WebviewPage;
  let page: EvaluatePage;

  /** The first chart's plotting area. */
  const geometry = () =>
    page.evaluate(() => {
      const over = document.querySelector('.chart-card:not([hidden]) .u-over') as HTMLElement;
      const rect = over.getBoundingClientRect();
      return { left: rect.left, top: rect.top, width: rect.width, height: rect.height };
    });
  /** Page x of `step` on a chart whose x axis spans steps 1..STEPS. */
  const xOf = (chart: ChartGeometry, step: number) => chart.left + ((step - 1) / (STEPS - 1)) * chart.width;
  const sent = () => page.evaluate(() => (window as unknown as { sent: unknown[] }).sent);

  before(async () => {
    served = await openWebviewPage({
      entry: 'dashboard',
      bodyClass: 'vscode-dark',
      beforeScript: RECORDING_VSCODE_API,
      viewport: { width: 1200, height: 900 },
    });
    page = served.page;
    await page.goto(`${served.base}/index.html`);
    await page.evaluate((message: unknown) => window.postMessage(message, '*'), history());
    await page.locator('.chart-card:not([hidden]) .u-over').first().waitFor({ timeout: 10_000 });
  });

  after(async () => {
    await served?.close();
  });

  it('shows the coefficients in force in the header', async () => {
    const text = await page.evaluate(() => document.querySelector('.run-coefficients')?.textContent ?? '');
    assert.equal(text, 'now: estimator durian · a_ori 0.1, a_perc 0.4, a_reas 0.5 · bins 4 · lr 0.001 · KL 0.01');
  });

  it('draws the marker on the canvas at its step, and nothing a few pixels away', async () => {
    const chart = await geometry();
    const pixels = await page.evaluate(
      ({ chart, x }: { chart: ChartGeometry; x: number }) => {
        const card = document.querySelector('.chart-card:not([hidden])') as HTMLElement;
        const canvas = card.querySelector('canvas') as HTMLCanvasElement;
        const rect = canvas.getBoundingClientRect();
        const scale = canvas.width / rect.width;
        const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
        // Just under the top edge of the plot: the marker's tick, where no series or grid line runs.
        const y = Math.round((chart.top - rect.top + 1) * scale);
        // (No helper function here: tsx would name it with a helper the page does not have.)
        const [marker, beside] = [x, x + 12].map((px) => Array.from(ctx.getImageData(Math.round((px - rect.left) * scale), y, 1, 1).data));
        return { marker, beside };
      },
      { chart, x: xOf(chart, MARKED_STEP) },
    );
    assert.ok(pixels.marker[3] > 100, `a marker pixel at step ${MARKED_STEP}: ${pixels.marker}`);
    assert.ok(pixels.beside[3] < 50, `no marker 12 px away: ${pixels.beside}`);
  });

  it('hovering the marker says what changed, in plain words', async () => {
    const chart = await geometry();
    await page.mouse.move(xOf(chart, MARKED_STEP), chart.top + chart.height / 2);
    const tip = page.locator('.chart-card:not([hidden]) .marker-tooltip').first();
    await tip.waitFor({ state: 'visible', timeout: 5_000 });
    const text = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.marker-tooltip')].filter((el) => !el.hidden).map((el) => el.textContent));
    assert.deepEqual(text, ['step 40: a_perc 0.2 -> 0.4, a_reas 0.7 -> 0.5, since step 40'], 'one tooltip, on the hovered chart only');
    await page.screenshot({ path: path.join(projectRoot, 'test-results', 'webview', 'dashboard-markers.png') });
    await page.mouse.move(xOf(chart, 70), chart.top + chart.height / 2);
    const skipped = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.marker-tooltip')].filter((el) => !el.hidden).map((el) => el.textContent));
    assert.deepEqual(skipped, ['step 70: step 70 skipped (non-finite): the gradients are non-finite']);
    await page.mouse.move(xOf(chart, 20), chart.top + chart.height / 2);
    const none = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.marker-tooltip')].filter((el) => !el.hidden).length);
    assert.equal(none, 0, 'no tooltip away from markers');
  });

  it('a click sends dashboard/openStep with the step under the cursor; a drag to zoom sends nothing', async () => {
    const chart = await geometry();
    const before = (await sent()).length;
    const y = chart.top + chart.height / 2;
    await page.mouse.move(xOf(chart, 25), y);
    await page.mouse.down();
    await page.mouse.up();
    const afterClick = (await sent()).slice(before);
    assert.deepEqual(afterClick, [{ type: 'dashboard/openStep', step: 25 }]);
    await page.mouse.move(xOf(chart, 30), y);
    await page.mouse.down();
    await page.mouse.move(xOf(chart, 60), y, { steps: 5 });
    await page.mouse.up();
    const afterDrag = (await sent()).slice(before + 1);
    assert.deepEqual(afterDrag, [], 'zooming is not a click');
  });
});
