/**
 * The Rollout Groups panel and the Dashboard fed a live run at the paper's rollout batch (128 prompts x G 8),
 * their real webview code in Chromium (test/support/webviewPage.ts). Properties, not timings (those are in
 * test/webview/measure/panelsAt128x8.ts): every group of a step split over several messages arrives, the
 * latest step is the one shown, the list keeps only the rows in view in the DOM; every streamed step reaches
 * every chart, a chart out of view is drawn only when it comes into view, and then with the latest step.
 *
 * Needs the e2e setup's Chromium and playwright-core (`bash scripts/e2e-setup.sh`); skipped without them.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DASHBOARD, type DashboardHistoryMessage, ROLLOUTS, groupsEvents } from '../../src/protocol/index.js';
import { BASE_LIVE_CONFIG, type WebviewPage, RECORDING_VSCODE_API, openWebviewPage, webviewDomSkipReason } from '../support/webviewPage.js';
import { PROMPTS, metricsAt, stepGroups } from './paperBatch.js';

/** The page functions are transpiled with named helpers wrapped in tsx's `__name`: give the page one. */
const NAME_HELPER = '<script>window.__name = (f) => f;</script>';
const LIVE_STEPS = 15;
/** Small events, so that each step of 128 x 8 comes in several `rollouts/live` messages (the host relays each). */
const EVENT_CHARS = 48 * 1024;

/** Posts the batches from inside the page, one batch per macrotask (a fast run), and resolves when all are posted. */
function postBatches(served: WebviewPage, batches: unknown[][]): Promise<void> {
  return served.page.evaluate(
    (list: unknown[][]) =>
      new Promise<void>((resolve) => {
        let k = 0;
        const next = () => {
          if (k >= list.length) return resolve();
          for (const message of list[k++]) window.postMessage(message, '*');
          setTimeout(next, 0);
        };
        next();
      }),
    batches,
  );
}

describe('the panels at the paper\'s batch, 128 prompts x 8 rollouts, in a real DOM (Chromium)', { skip: webviewDomSkipReason(), timeout: 180_000 }, () => {
  const opened: WebviewPage[] = [];
  after(async () => {
    for (const served of opened) await served.close();
  });

  it('Rollout Groups follows a fast live run: no group dropped, the latest step shown, only the rows in view built', async () => {
    const served = await openWebviewPage({ entry: 'rollouts', bodyClass: 'vscode-dark', beforeScript: NAME_HELPER, viewport: { width: 1400, height: 900 } });
    opened.push(served);
    const { page, base } = served;
    await page.goto(`${base}/index.html`);
    await page.locator('.rollouts-header').waitFor({ timeout: 10_000 });
    const baseConfig = { ...BASE_LIVE_CONFIG, batchSize: PROMPTS, reasoningBins: 12 };
    await page.evaluate((message: unknown) => window.postMessage(message, '*'), { type: ROLLOUTS.run, runName: 'run-128x8', runDir: '/runs/run-128x8', state: 'running', imageBase: `${base}/run`, steps: [], totalSteps: 1000, baseConfig, fixedOptions: {}, interventions: [], live: true });
    const batches = Array.from({ length: LIVE_STEPS }, (_, k) =>
      groupsEvents(k + 1, 'durian', stepGroups(k + 1), EVENT_CHARS).events.map((event) => ({ type: ROLLOUTS.live, step: event.step, estimator: event.estimator, groups: event.groups })),
    );
    assert.ok(batches.every((messages) => messages.length >= 3), `each step comes in several messages: ${batches.map((m) => m.length).join(', ')}`);
    await postBatches(served, batches);

    // The list moves on to a newer live step at most once a second: the last one is shown soon after.
    const facts = page.locator('.step-facts');
    await facts.filter({ hasText: new RegExp(`^step ${LIVE_STEPS} \\(live\\)`) }).waitFor({ timeout: 20_000 });
    assert.match(await facts.innerText(), new RegExp(`latest ${LIVE_STEPS} / 1000 +· +${PROMPTS} groups`));
    assert.equal(await page.locator('.count').innerText(), `${PROMPTS} of ${PROMPTS} groups`);
    assert.equal(await page.locator('.step-slider').getAttribute('max'), String(LIVE_STEPS - 1), 'every streamed step can be navigated to');
    const built = await page.locator('.group-row').count();
    assert.ok(built > 0 && built < 30, `only the rows in view (and a few more) are in the DOM: ${built}`);

    // The last group of the step is there at the bottom of the list.
    const last = stepGroups(LIVE_STEPS)[PROMPTS - 1].promptId;
    await page.evaluate(() => {
      const list = document.querySelector('.group-list') as HTMLElement;
      list.scrollTop = list.scrollHeight;
    }, undefined);
    await page.locator(`.group-row[data-prompt-id="${last}"]`).waitFor({ timeout: 5_000 });

    // A filter counts over every group of the step, not only those built.
    const allWrong = stepGroups(LIVE_STEPS).filter((group) => group.rollouts.every((rollout) => rollout.reward === 0)).length;
    assert.ok(allWrong > 0 && allWrong < PROMPTS);
    await page.locator('.filter-accuracy').evaluate((select) => {
      (select as HTMLSelectElement).value = 'all-wrong';
      select.dispatchEvent(new Event('change'));
    });
    await page.locator('.count').filter({ hasText: `${allWrong} of ${PROMPTS} groups` }).waitFor({ timeout: 5_000 });
  });

  it('the Dashboard takes every streamed step; a chart out of view is drawn when it comes into view, at the latest step', async () => {
    // A narrow panel: one column of charts, most of them below the fold.
    const served = await openWebviewPage({ entry: 'dashboard', bodyClass: 'vscode-dark', beforeScript: `${NAME_HELPER}${RECORDING_VSCODE_API}`, viewport: { width: 800, height: 900 } });
    opened.push(served);
    const { page, base } = served;
    await page.goto(`${base}/index.html`);
    const historySteps = 50;
    const streamed = 150;
    const lastStep = historySteps + streamed;
    const history: DashboardHistoryMessage = {
      type: DASHBOARD.history,
      runName: 'run-128x8',
      runDir: '/runs/run-128x8',
      state: 'running',
      totalSteps: 1000,
      metrics: Array.from({ length: historySteps }, (_, i) => ({ step: i + 1, elapsedMs: (i + 1) * 3000, ...metricsAt(i + 1) })),
      validations: [],
      baseConfig: { ...BASE_LIVE_CONFIG, batchSize: PROMPTS, reasoningBins: 12 },
      interventions: [],
      marks: [],
    };
    await page.evaluate((message: unknown) => window.postMessage(message, '*'), history);
    await page.locator('.chart-card[data-chart="reward"] .u-over').waitFor({ timeout: 10_000 });
    const events = Array.from({ length: streamed }, (_, k) => [
      { type: DASHBOARD.event, event: { type: 'trainer/step', step: historySteps + k + 1, totalSteps: 1000, metrics: metricsAt(historySteps + k + 1), elapsedMs: (historySteps + k + 1) * 3000 } },
    ]);
    await postBatches(served, events);

    // With no cursor on a chart, its legend's step is the latest step it has drawn.
    const legendStep = (chart: string) =>
      page.locator(`.chart-card[data-chart="${chart}"] .u-legend .u-series:first-child .u-value`).filter({ hasText: new RegExp(`^${lastStep}$`) });
    await legendStep('reward').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('.run-facts, header').first().innerText(), new RegExp(`step ${lastStep} / 1000`));

    // The last chart with data sits far below the fold: not drawn yet, then drawn with every step once scrolled to.
    const bottom = page.locator('.chart-card[data-chart="timing"]');
    assert.equal(await bottom.evaluate((card) => card.getBoundingClientRect().top > window.innerHeight + 200), true, 'the chart is out of view');
    assert.equal(await bottom.locator('canvas').count(), 0, 'a chart out of view is not drawn');
    await bottom.evaluate((card) => card.scrollIntoView());
    await legendStep('timing').waitFor({ timeout: 10_000 });
    const drawnSteps = await bottom.evaluate(() => document.querySelectorAll('.chart-card[data-chart="timing"] canvas').length);
    assert.ok(drawnSteps > 0);
  });
});
