/**
 * The Compare webview's real code (webview/compare/main.ts, bundled as the build does) in Chromium, with
 * 10 runs x 10,000 steps posted as the host would: the shared legend and the summary table list every run,
 * the table sorts on a header click, a run switched off leaves every chart, a chart exports as SVG, and a
 * click sends `compare/openStep` for a run of the comparison. Also measures (and prints, for the README; not
 * asserted: timings are the bench's business) the first paint and one hover frame.
 *
 * Needs the e2e setup's Chromium and playwright-core (`bash scripts/e2e-setup.sh`); skipped without them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compareRunsMessage } from '../../src/cli/bench/compare.js';
import { type EvaluatePage, type WebviewPage, RECORDING_VSCODE_API, openWebviewPage, webviewDomSkipReason } from '../support/webviewPage.js';

const RUNS = 10;
const STEPS = 10_000;

describe('the Compare webview in a real DOM (Chromium), 10 runs x 10,000 steps', { skip: webviewDomSkipReason(), timeout: 300_000 }, () => {
  let served: WebviewPage;
  let page: EvaluatePage;
  const sent = () => page.evaluate(() => (window as unknown as { sent: { type: string; data?: string; runDir?: string; step?: number; format?: string }[] }).sent, undefined);

  before(async () => {
    served = await openWebviewPage({
      entry: 'compare',
      bodyClass: 'vscode-dark',
      beforeScript: RECORDING_VSCODE_API,
      viewport: { width: 1400, height: 1000 },
    });
    page = served.page;
    page.setDefaultTimeout(60_000);
    await page.goto(`${served.base}/index.html`);
    // Sent as JSON (playwright's arguments) and turned back into Float64Arrays in the page, as VS Code delivers them.
    const message = compareRunsMessage(RUNS, STEPS);
    const plain = { ...message, runs: message.runs.map((run) => ({ ...run, train: { steps: [...run.train.steps], columns: Object.fromEntries(Object.entries(run.train.columns).map(([name, values]) => [name, [...values]])) }, validation: { steps: [...run.validation.steps], accuracy: [...run.validation.accuracy], reward: [...run.validation.reward] } })) };
    await page.evaluate((json: string) => {
      const parsed = JSON.parse(json) as { runs: { train: { steps: number[] | Float64Array; columns: Record<string, number[] | Float64Array> }; validation: Record<string, number[] | Float64Array> }[] };
      for (const run of parsed.runs) {
        run.train.steps = Float64Array.from(run.train.steps);
        for (const name of Object.keys(run.train.columns)) run.train.columns[name] = Float64Array.from(run.train.columns[name]);
        for (const name of Object.keys(run.validation)) run.validation[name] = Float64Array.from(run.validation[name]);
      }
      (window as unknown as { message: unknown }).message = parsed;
    }, JSON.stringify(plain));
  });

  after(async () => {
    await served?.close();
  });

  it('paints every chart, the legend and the table (first paint measured)', async () => {
    const firstPaintMs = await page.evaluate(async () => {
      const started = performance.now();
      window.postMessage((window as unknown as { message: unknown }).message, '*');
      // The message is handled, then the render frame draws the charts; the frame after it is the first paint.
      while (document.querySelectorAll('.chart-card:not([hidden]) .u-over').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      return performance.now() - started;
    }, undefined);
    const counts = await page.evaluate(
      () => ({
        charts: document.querySelectorAll('.chart-card:not([hidden])').length,
        legend: document.querySelectorAll('.legend-entry').length,
        rows: document.querySelectorAll('.summary-table tbody tr').length,
      }),
      undefined,
    );
    console.log(`compare first paint, ${RUNS} runs x ${STEPS} steps, ${counts.charts} charts: ${firstPaintMs.toFixed(0)} ms`);
    assert.equal(counts.legend, RUNS);
    assert.equal(counts.rows, RUNS);
    assert.ok(counts.charts >= 20, `charts shown: ${counts.charts}`);
  });

  /** Moves the real mouse into the first chart (so it counts as hovered). */
  const hoverFirstChart = async (fraction: number) => {
    const box = await page.evaluate(() => {
      const rect = (document.querySelector('.chart-card:not([hidden]) .u-over') as HTMLElement).getBoundingClientRect();
      return { x: rect.left, y: rect.top, width: rect.width, height: rect.height };
    }, undefined);
    assert.ok(box);
    await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  };

  it('one hover frame (measured): the hovered chart shows the values of every run at the step', async () => {
    await hoverFirstChart(0.1);
    const frames = await page.evaluate(async () => {
      const over = document.querySelector('.chart-card:not([hidden]) .u-over') as HTMLElement;
      const rect = over.getBoundingClientRect();
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        over.dispatchEvent(new MouseEvent('mousemove', { clientX: rect.left + rect.width * (0.2 + i * 0.03), clientY: rect.top + rect.height / 2, bubbles: true }));
        await new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const readout = (document.querySelector('.chart-card:not([hidden]) .chart-readout') as HTMLElement).textContent ?? '';
      return { median: times[times.length >> 1], readout };
    }, undefined);
    console.log(`compare hover frame (cursor synced over every chart, readout updated), median of 20: ${frames.median.toFixed(1)} ms`);
    assert.match(frames.readout, /^step \d+/);
    assert.equal(frames.readout.split('\n').length, 1 + RUNS, frames.readout);
  });

  it('sorts the table on a header click, both ways', async () => {
    // The table is redrawn on the next animation frame: read it after two frames (a busy machine delays them).
    const firstRun = () =>
      page.evaluate(() => new Promise<string>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(document.querySelector('.summary-table tbody tr td')?.textContent ?? '')))), undefined);
    await page.locator('.summary-table th[data-column="seed"]').click();
    const ascending = await firstRun();
    await page.locator('.summary-table th[data-column="seed"]').click();
    const descending = await firstRun();
    assert.match(ascending, /-s1$/);
    assert.match(descending, /-s5$/);
  });

  it('a run switched off in the legend leaves every chart', async () => {
    const series = () => page.evaluate(() => document.querySelector('.chart-card:not([hidden]) .chart-title')?.textContent ?? '', undefined);
    assert.ok(await series());
    await page.locator('.legend-entry input').first().click();
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))), undefined);
    await hoverFirstChart(0.5);
    await hoverFirstChart(0.55);
    const readout = await page.evaluate(() => (document.querySelector('.chart-card:not([hidden]) .chart-readout') as HTMLElement).textContent ?? '', undefined);
    assert.equal(readout.split('\n').length, RUNS, `one run fewer: ${readout}`);
    assert.doesNotMatch(readout, /durian-G8-s1:/);
  });

  it('exports a chart as SVG and sends compare/openStep on a click', async () => {
    const before = (await sent()).length;
    await page.locator('.chart-card:not([hidden]) .chart-export-svg').first().click();
    const exported = (await sent()).slice(before);
    assert.equal(exported.length, 1);
    assert.equal(exported[0].type, 'chart/export');
    assert.match(exported[0].data ?? '', /^<svg[\s\S]*<path d="M[\s\S]*<\/svg>$/);
    const box = await page.evaluate(() => {
      const rect = (document.querySelector('.chart-card:not([hidden]) .u-over') as HTMLElement).getBoundingClientRect();
      return { x: rect.left, y: rect.top, width: rect.width, height: rect.height };
    }, undefined);
    assert.ok(box);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.up();
    const clicked = (await sent()).slice(before + 1);
    assert.equal(clicked.length, 1, JSON.stringify(clicked));
    assert.equal(clicked[0].type, 'compare/openStep');
    assert.match(clicked[0].runDir ?? '', /^\/runs\/bench-\d$/);
    assert.ok(Number.isInteger(clicked[0].step) && (clicked[0].step as number) > 1000);
  });
});
