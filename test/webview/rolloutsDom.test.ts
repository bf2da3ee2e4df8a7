/**
 * The Rollout Groups webview's real code (webview/rollouts/main.ts, bundled as the build does) in a real
 * DOM: Debian's Chromium through playwright-core, the page served by a small HTTP server of this test, the
 * host's messages posted to the page as VS Code would. Checks what only a browser shows: thumbnails load
 * while following a fast live run, the list keeps its columns apart when the details open, the relabel box
 * holds the current reward and a relabelled rollout shows its new reward, no protocol name or control id
 * reaches the page, every header and badge has a tooltip, the estimator list names each estimator once,
 * and disabled buttons look disabled.
 *
 * Needs the e2e setup's Chromium and playwright-core (`bash scripts/e2e-setup.sh`); skipped without them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTROL, EVENT, ROLLOUTS, type RolloutGroup, type RolloutsHostToWebviewMessage } from '../../src/protocol/index.js';
import { projectRoot } from '../e2e/setup.js';
import { BASE_LIVE_CONFIG as BASE, type EvaluatePage, type WebviewPage, openWebviewPage, webviewDomSkipReason } from '../support/webviewPage.js';
import { fixtureRollouts, png } from './paperBatch.js';

/** Milliseconds the server holds each image (a webview's resource loads take about this long). */
const IMAGE_DELAY_MS = 150;
/** A fast live run: a new step every this many ms (the small e2e session reaches ~20 steps a second). */
const LIVE_STEP_MS = 40;


/** Some of Default Light Modern's colours, as VS Code passes them to a webview. */
const LIGHT_MODERN: Record<string, string> = {
  foreground: '#3b3b3b',
  descriptionForeground: '#3b3b3b',
  disabledForeground: 'rgba(97, 97, 97, 0.5)',
  'editor-background': '#ffffff',
  'button-background': '#005fb8',
  'button-foreground': '#ffffff',
  'button-secondaryBackground': '#e5e5e5',
  'button-secondaryForeground': '#3b3b3b',
  'panel-border': '#e5e5e5',
  'charts-blue': '#1a85ff',
  'charts-orange': '#d18616',
  'charts-green': '#388a34',
  'charts-purple': '#652d90',
  'charts-red': '#e51400',
  'charts-yellow': '#bf8803',
  'focusBorder': '#005fb8',
};

/** A group of 8 rollouts; `rewards` 1 = right. */
function group(promptId: string, image: string, rewards: number[]): RolloutGroup {
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (rewards.length - 1));
  return {
    promptId,
    question: `How many red circles are in the picture of ${promptId}? Count carefully and answer with a number.`,
    groundTruth: '3',
    image,
    visualEntropy: 1.2345,
    confidence: -0.8765,
    perceptualBucket: 'mid',
    reasoningBin: 1,
    groupStd: std,
    perceptualPooledStd: 0.4567,
    reasoningPooledStd: 0.4321,
    weight: 1,
    excluded: false,
    rollouts: fixtureRollouts(rewards, (r, i) => `there are ${r === 1 ? 3 : 4} red circles, answer ${r === 1 ? 3 : 4} (${i})`),
  };
}

const PATTERNS = [
  [1, 1, 1, 1, 1, 1, 1, 0],
  [0, 0, 0, 0, 0, 0, 1, 0],
  [1, 1, 1, 1, 1, 1, 1, 1],
  [1, 0, 1, 0, 1, 0, 1, 1],
];

function stepGroups(step: number, count = 8): RolloutGroup[] {
  return Array.from({ length: count }, (_, i) => group(`train-${String(step * 100 + i).padStart(6, '0')}`, `images/s${step}-p${i}.png`, PATTERNS[i % PATTERNS.length]));
}

describe('the Rollout Groups webview in a real DOM (Chromium)', { skip: webviewDomSkipReason(), timeout: 180_000 }, () => {
  let served: WebviewPage;
  let base: string;
  let page: EvaluatePage;
  let imageRequests = 0;

  const post = (messages: RolloutsHostToWebviewMessage[]) =>
    page.evaluate((list: unknown[]) => {
      for (const message of list) window.postMessage(message, '*');
    }, messages);

  /** A fresh page of the webview, told about a live run at `steps`. */
  const open = async (viewport = { width: 1400, height: 900 }, run: Partial<Extract<RolloutsHostToWebviewMessage, { type: 'rollouts/run' }>> = {}) => {
    await page.setViewportSize(viewport);
    await page.goto(`${base}/index.html`);
    await page.locator('.rollouts-header').waitFor({ timeout: 10_000 });
    await post([
      {
        type: ROLLOUTS.run,
        runName: 'run-dom',
        runDir: '/runs/run-dom',
        state: 'running',
        imageBase: `${base}/run`,
        steps: [],
        totalSteps: 1000,
        baseConfig: BASE,
        fixedOptions: {},
        interventions: [],
        live: true,
        ...run,
      },
    ]);
  };

  before(async () => {
    // A few of the variables VS Code sets on a webview (values of Default Light Modern).
    const theme = Object.entries(LIGHT_MODERN).map(([name, value]) => `--vscode-${name}: ${value};`).join(' ');
    const image = png(32, 32, [200, 40, 40]);
    served = await openWebviewPage({
      entry: 'rollouts',
      htmlAttributes: `style="${theme}"`,
      bodyClass: 'vscode-light',
      viewport: { width: 1400, height: 900 },
      // Images are held IMAGE_DELAY_MS, as a webview's resource loads are.
      route(url, request, response) {
        if (!url.startsWith('/run/images/')) return false;
        imageRequests++;
        const timer = setTimeout(() => {
          response.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' });
          response.end(image);
        }, IMAGE_DELAY_MS);
        request.on('close', () => clearTimeout(timer));
        return true;
      },
    });
    ({ page, base } = served);
  });

  after(async () => {
    await served?.close();
  });

  it('loads the thumbnails while following a live run of a step every 40 ms', async () => {
    await open();
    imageRequests = 0;
    // The host relays each live step as it comes; the page is left to keep up.
    await page.evaluate(
      ({ template, everyMs, steps }: { template: RolloutGroup[]; everyMs: number; steps: number }) =>
        new Promise<void>((resolve) => {
          let step = 1;
          const timer = setInterval(() => {
            const groups = template.map((g, i) => ({ ...g, promptId: `train-${String(step * 100 + i).padStart(6, '0')}`, image: `images/s${step}-p${i}.png` }));
            window.postMessage({ type: 'rollouts/live', step, estimator: 'durian', groups: groups.slice(0, 4) }, '*');
            window.postMessage({ type: 'rollouts/live', step, estimator: 'durian', groups: groups.slice(4) }, '*');
            if (++step > steps) clearInterval(timer);
          }, everyMs);
          (window as unknown as { stopLive: () => void }).stopLive = () => clearInterval(timer);
          resolve();
        }),
      { template: stepGroups(0), everyMs: LIVE_STEP_MS, steps: 150 },
    );
    // Sample the page while the steps stream in: at some moment every thumbnail shown must have loaded.
    const samples: string[] = [];
    let allLoaded = false;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !allLoaded) {
      const sample = await page.evaluate(() => {
        const thumbs = [...document.querySelectorAll<HTMLImageElement>('.group-row img.thumb')];
        return {
          facts: document.querySelector('.step-facts')?.textContent ?? '',
          following: document.querySelector<HTMLInputElement>('.follow-live')?.checked ?? false,
          shown: thumbs.length,
          loaded: thumbs.filter((img) => img.complete && img.naturalWidth > 0).length,
        };
      }, undefined);
      samples.push(`${sample.facts.slice(0, 24)} ${sample.loaded}/${sample.shown}`);
      allLoaded = sample.following && /\(live\)/.test(sample.facts) && sample.shown === 8 && sample.loaded === 8;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(allLoaded, `every thumbnail loaded at some moment while following live; samples: ${samples.join(' | ')}`);
    // And the view keeps following the run (at a pace a person can read).
    const stepShown = async () => Number(/^step (\d+) \(live\)/.exec(await page.locator('.step-facts').innerText())?.[1]);
    const loadedAt = await stepShown();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const later = await stepShown();
    await page.evaluate(() => (window as unknown as { stopLive: () => void }).stopLive(), undefined);
    assert.ok(later > loadedAt, `the view moved on from step ${loadedAt} (now ${later})`);
    // Each image was asked for about once (none thrown away and asked again).
    assert.ok(imageRequests < 150 * 8 * 1.5, `${imageRequests} image requests`);
  });

  it('keeps the list readable when the details open, in a wide and a narrow panel', async () => {
    for (const width of [1400, 1000, 760]) {
      await open({ width, height: 900 });
      await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1), skipped: 0 }]);
      await page.locator('.group-row').first().waitFor();
      // A click on the row opens its details (narrow lists have no Details button).
      await page.locator('.group-row .question').first().click();
      await page.locator('.group-detail .detail-title').waitFor();
      const problems = await page.evaluate(() => {
        const out: string[] = [];
        const list = document.querySelector('.group-list') as HTMLElement;
        for (const row of [...document.querySelectorAll<HTMLElement>('.group-row')].slice(0, 4)) {
          const cells = [...row.children].filter((cell) => getComputedStyle(cell).display !== 'none') as HTMLElement[];
          const boxes = cells.map((cell) => cell.getBoundingClientRect());
          const rowBox = row.getBoundingClientRect();
          cells.forEach((cell, i) => {
            if (boxes[i].right > rowBox.right + 0.5) out.push(`${row.dataset.promptId}: ${cell.className} is cut off by the row (${boxes[i].right} > ${rowBox.right})`);
          });
          for (let i = 1; i < boxes.length; i++) {
            if (boxes[i].left < boxes[i - 1].right - 0.5) out.push(`${row.dataset.promptId}: ${cells[i].className} overlaps ${cells[i - 1].className}`);
          }
          for (const cell of cells) {
            if (cell.scrollWidth > cell.clientWidth + 1) out.push(`${row.dataset.promptId}: ${cell.className} overflows (${cell.scrollWidth} > ${cell.clientWidth})`);
            if (cell.getBoundingClientRect().width < 40) out.push(`${row.dataset.promptId}: ${cell.className} squeezed to ${cell.getBoundingClientRect().width}px`);
          }
          for (const text of row.querySelectorAll<HTMLElement>('.question, .ground-truth')) {
            if (text.getBoundingClientRect().width < 120) out.push(`${row.dataset.promptId}: ${text.className} is ${text.getBoundingClientRect().width}px wide`);
          }
        }
        const detail = (document.querySelector('.group-detail') as HTMLElement).getBoundingClientRect();
        if (detail.width < 250) out.push(`the details are ${detail.width}px wide`);
        if (list.getBoundingClientRect().width < 100 && getComputedStyle(document.querySelector('.group-detail') as Element).position !== 'absolute') out.push('the list is squeezed away');
        return out;
      }, undefined);
      await page.screenshot({ path: path.join(projectRoot, 'test-results', 'webview', `rollouts-detail-${width}.png`) });
      assert.deepEqual(problems, [], `at ${width}px`);
    }
  });

  it('prefills the relabel box with the current reward and shows a relabelled rollout as old -> new from step N', async () => {
    await open();
    await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1), skipped: 0 }]);
    const row = page.locator('.group-row[data-prompt-id="train-000100"]');
    await row.locator('.details').click();
    // Pattern 0: rollouts 0..6 right (reward 1), rollout 7 wrong (reward 0).
    const right = page.locator('.group-detail .response[data-rollout="0"]');
    const wrong = page.locator('.group-detail .response[data-rollout="7"]');
    assert.equal(await right.locator('.relabel-input').inputValue(), '1', 'the current reward, not its opposite');
    assert.equal(await wrong.locator('.relabel-input').inputValue(), '0');
    assert.match(await right.locator('.relabel-button').innerText(), /override/i);
    await right.locator('.relabel-input').fill('0');
    await right.locator('.relabel-button').click();
    await right.locator('.response-meta').filter({ hasText: 'reward 1.0 -> 0.0 from the next step (pending)' }).waitFor();
    const relabel = await page.evaluate(() => {
      const row = document.querySelector('.intervention .intervention-description');
      return row?.textContent ?? '';
    }, undefined);
    assert.equal(relabel, 'reward override for this response to train-000100 (#0 at step 1: "there are 3 red circles, answer 3 (0)") = 0', 'the control carries the response text');
    const controlId = await page.locator('.intervention').first().getAttribute('data-control-id');
    await post([{ type: ROLLOUTS.event, event: { type: EVENT.applied, controlId: controlId as string, kind: 'relabel', step: 9 } }]);
    await right.locator('.response-meta').filter({ hasText: 'reward 1.0 -> 0.0 from step 9' }).waitFor();
    assert.equal(await right.locator('.relabel-input').inputValue(), '0', 'the box now holds the reward in force');
    const cell = row.locator('.row-reward td').first();
    assert.equal(await cell.innerText(), '0', 'the list shows the new reward');
    assert.equal(await cell.getAttribute('title'), 'reward 1.0 -> 0.0 from step 9');
  });

  it('names interventions in the user\'s words: no protocol name or control id on the page', async () => {
    const weight = { type: CONTROL.setGroupWeight, controlId: 'rg-weight-mx59f49q-2', promptId: 'train-006866', weight: 2 } as const;
    const exclude = { type: CONTROL.excludePrompt, controlId: 'rg-exclude-mx59f49q-3', promptId: 'train-000012' } as const;
    const undo = { type: CONTROL.undo, controlId: 'rg-undo-mx59f49q-4', targetControlId: weight.controlId } as const;
    const line = (step: number, control: typeof weight | typeof exclude | typeof undo) => ({ step, at: '2026-01-01T00:00:00.000Z', kind: control.type.slice('control/'.length) as 'undo', controlId: control.controlId, control });
    await open(undefined, { steps: [1], interventions: [line(3, weight), line(4, exclude), line(5, undo)] });
    await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1), skipped: 0 }]);
    await page.locator('.intervention').nth(2).waitFor();
    const text = await page.locator('body').innerText();
    assert.match(text, /weight of train-006866 = 2/);
    assert.match(text, /exclude prompt train-000012/);
    assert.match(text, /undo: weight of train-006866 = 2/);
    assert.doesNotMatch(text, /setGroupWeight|excludePrompt|setConfig|rg-(weight|exclude|undo)-/);
  });

  it('explains every column, row label and badge in a tooltip and lists each estimator once', async () => {
    await open();
    await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1), skipped: 0 }]);
    await page.locator('.group-row .details').first().click();
    await post([{ type: ROLLOUTS.promptHistory, promptId: 'train-000100', points: [{ step: 1, accuracy: 0.875, reward: 0.875, advantages: [0.3, -2.4], advantagesGrpo: [0.3, -2.4], weight: 1, excluded: false }] }]);
    await page.locator('.history-table').waitFor();
    // (No named helpers inside the page functions: the test's transpiler would wrap them in a Node-only `__name`.)
    const untitled = await page.evaluate(
      () => ['th', '.badge', '.fact'].flatMap((selector) => [...document.querySelectorAll<HTMLElement>(selector)].filter((e) => !e.title.trim()).map((e) => `${selector}: ${e.textContent}`)),
      undefined,
    );
    assert.deepEqual(untitled, []);
    const badges = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.badge.extreme')].map((b) => [b.textContent, b.title]), undefined);
    assert.deepEqual(badges.map(([text]) => text).sort(), ['1:7', '1:7', '7:1', '7:1', 'zero variance', 'zero variance']);
    assert.ok(badges.every(([text, title]) => (title ?? '').startsWith(text === 'zero variance' ? 'Zero variance' : (text as string))), JSON.stringify(badges));
    assert.match(await page.locator('label.check').filter({ hasText: 'Extremes only' }).getAttribute('title') ?? '', /\|advantage\|.*exceeds 2.*Extreme advantages \|A\| > 2/);
    const options = await page.evaluate(() => [...document.querySelectorAll<HTMLOptionElement>('.field-estimator option')].map((o) => [o.value, o.textContent ?? '']), undefined);
    assert.deepEqual(options.map(([value]) => value), ['grpo', 'dr_grpo', 'rloo', 'batch_std', 'durian']);
    assert.equal(options.filter(([, text]) => /durian/.test(text)).length, 1, `durian listed once: ${JSON.stringify(options)}`);
    assert.deepEqual(options.find(([value]) => value === 'durian'), ['durian', 'durian (current)']);
    assert.equal(await page.locator('.field-estimator').inputValue(), 'durian');
  });

  it('says how many reasoning bins a step really used when b is capped by its prompts', async () => {
    await open({ width: 1400, height: 900 }, { baseConfig: { ...BASE, reasoningBins: 12 } });
    await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1), skipped: 0 }]);
    await page.locator('.group-row').first().waitFor();
    // 8 prompts at 2 per bin fill 4 bins, not the 12 asked for.
    assert.match(await page.locator('summary').first().innerText(), /· b 4 \(of 12\) ·/);
    const hint = await page.evaluate(() => document.querySelector('.field-reasoningBins')?.closest('label')?.querySelector('.hint')?.textContent ?? '', undefined);
    assert.match(hint, /^4 in use \(8 prompts, 2\/bin\) · from the start$/);
    await open();
    await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1), skipped: 0 }]);
    await page.locator('.group-row').first().waitFor();
    assert.match(await page.locator('summary').first().innerText(), /· b 4 ·/, 'an uncapped b is shown as it is');
  });

  it("shows the bins a step used when Durian's maxPromptsPerBin raises b", async () => {
    // 16 prompts at most 2 per bin need 8 bins, not the 2 asked for (min 2 per bin allows 8).
    await open({ width: 1400, height: 900 }, { baseConfig: { ...BASE, reasoningBins: 2, minPromptsPerBin: 2 }, fixedOptions: { maxPromptsPerBin: 2 } });
    await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1, 16), skipped: 0 }]);
    await page.locator('.group-row').first().waitFor();
    assert.match(await page.locator('summary').first().innerText(), /· b 8 \(of 2\) ·/);
    const hint = await page.evaluate(() => document.querySelector('.field-reasoningBins')?.closest('label')?.querySelector('.hint')?.textContent ?? '', undefined);
    assert.match(hint, /^8 in use \(16 prompts, at most 2\/bin\) · from the start$/);
    // minPromptsPerBin still wins over the raise: 16 prompts at 4 per bin fill at most 4 bins.
    await open({ width: 1400, height: 900 }, { baseConfig: { ...BASE, reasoningBins: 2, minPromptsPerBin: 4 }, fixedOptions: { maxPromptsPerBin: 2 } });
    await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1, 16), skipped: 0 }]);
    await page.locator('.group-row').first().waitFor();
    assert.match(await page.locator('summary').first().innerText(), /· b 4 \(of 2\) ·/);
  });

  it('draws disabled buttons unlike enabled ones, and the pressed preview toggle as pressed', async () => {
    await open(undefined, { live: false, state: 'stopped' });
    await post([{ type: ROLLOUTS.step, step: 1, groups: stepGroups(1), skipped: 0 }]);
    await page.locator('.group-row').first().waitFor();
    const [disabled, enabled] = await page.evaluate(
      () =>
        ['.group-row .set-weight', '.group-row .details'].map((selector) => {
          const button = document.querySelector(selector) as HTMLButtonElement;
          const style = getComputedStyle(button);
          return { background: style.backgroundColor, border: style.borderStyle, cursor: style.cursor, disabled: button.disabled };
        }),
      undefined,
    );
    const looks = { disabled, enabled };
    assert.equal(looks.disabled.disabled, true);
    assert.equal(looks.enabled.disabled, false);
    assert.equal(looks.disabled.background, 'rgba(0, 0, 0, 0)', 'no fill');
    assert.equal(looks.disabled.border, 'dashed');
    assert.equal(looks.disabled.cursor, 'not-allowed');
    assert.notEqual(looks.enabled.border, 'dashed');
    await page.locator('.button.preview').click();
    // The page renders on the next animation frame: wait for it rather than read the attribute at once.
    await page.locator('.button.preview[aria-pressed="true"]').waitFor({ timeout: 5_000 }).catch(() => undefined);
    assert.equal(await page.locator('.button.preview').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.locator('.button.preview').innerText(), 'Hide preview');
  });
});
