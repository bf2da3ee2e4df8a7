/**
 * The e2e harness: the packaged extension in a real VS Code (code-server) driven by Debian's Chromium
 * through playwright-core, as ../shared/docs/e2e-in-real-vscode.md describes. One call starts everything:
 *
 *   const vscode = await startVsCode({ name: 'runs-view', workspaceFiles: { 'runs/r1/status.json': '...' } });
 *   try { await vscode.runCommand('Durian: Refresh Runs'); ... } finally { await vscode.stop(); }
 *
 * `stop()` closes the browser, kills code-server by its process group and removes the run folder; an exit
 * trap does the same if the test process dies. Screenshots land in test-results/e2e/<name>/.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Browser, loadPlaywright } from './playwright.js';
import { ensureVsix, type ServerOptions, startServer, type VsCodeServer } from './server.js';
import { e2ePaths } from './setup.js';
import { stepOf } from '../support/processes.js';
import { Workbench, sleep } from './workbench.js';

export { e2eSkip, e2ePaths } from './setup.js';
export { sampleBatches, writeWorkspace } from './server.js';
export { sleep } from './workbench.js';

/** Chromium's flags: no sandbox as root, no GPU, and no background traffic to a network that is closed. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface VsCodeOptions extends ServerOptions {
  /** Names the screenshot folder and the saved log: test-results/e2e/<name>/. */
  name: string;
  /** Browser window size (default 1400 x 900). */
  viewport?: { width: number; height: number };
}

/**
 * User settings of a small but real training session (built-in tasks, frozen encoder, a 5-step warm-up, 8
 * prompts x 4 rollouts a step), effectively endless: the test stops it. `overrides` change or add settings.
 */
export function smallSession(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'durian.training.steps': 1_000_000,
    'durian.training.batchSize': 8,
    'durian.training.groupSize': 4,
    'durian.training.trainSize': 64,
    'durian.training.validationSize': 16,
    'durian.training.validationEvery': 1000,
    'durian.training.warmupSteps': 5,
    'durian.durian.reasoningBins': 4,
    ...overrides,
  };
}

/** Console messages that are noise in an offline code-server (Open VSX lookups, a few 404s). */
const consoleNoise = /open-vsx|marketplace|Failed to load resource|404|ERR_NAME_NOT_RESOLVED|ERR_CONNECTION_REFUSED|gallery/i;

export class VsCodeSession extends Workbench {
  /** Errors the page logged (noise filtered out): useful in assertion messages. */
  readonly consoleErrors: string[] = [];
  private stopped = false;

  constructor(
    readonly server: VsCodeServer,
    private readonly browser: Browser,
    page: Workbench['page'],
    readonly resultsDir: string,
  ) {
    super(page, resultsDir);
    page.on('console', (message) => {
      if (message.type() === 'error' && !consoleNoise.test(message.text())) this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(String(error)));
  }

  get workspaceDir(): string {
    return this.server.workspaceDir;
  }

  /** The newest run folder under the workspace's runs/. */
  latestRunDir(): string {
    const runs = path.join(this.workspaceDir, 'runs');
    const names = existsSync(runs) ? readdirSync(runs).sort() : [];
    assert.ok(names.length > 0, 'a run folder exists');
    return path.join(runs, names[names.length - 1]);
  }

  /** The training step the status bar shows, running or paused (fails if it shows a crash). */
  async statusStep(timeoutMs = 120_000): Promise<number> {
    const text = await this.statusBarText(/Durian (paused · )?step \d+\/\d+|Durian crashed/, timeoutMs);
    assert.ok(!/crashed/.test(text), `the trainer crashed: ${text}`);
    return stepOf(text);
  }

  /** Waits until the status bar shows a step above `step`; returns it. */
  async waitForStepAbove(step: number, timeoutMs = 120_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await this.statusStep(timeoutMs);
      if (current > step) return current;
      assert.ok(Date.now() < deadline, `the step did not pass ${step} within ${timeoutMs} ms`);
      await sleep(250);
    }
  }

  /**
   * Runs one stage of a test: on failure it saves a FAILED screenshot and adds code-server's log tail and
   * the page's errors to the message, then rethrows.
   */
  async step<T>(name: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      const shot = await this.screenshot(`FAILED-${name}`).catch(() => '(no screenshot)');
      const detail = `screenshot: ${shot}\npage errors: ${JSON.stringify(this.consoleErrors.slice(-10))}\ncode-server log (tail):\n${this.server.logTail(20)}`;
      if (error instanceof Error) {
        error.message = `${error.message}\n${detail}`;
        throw error;
      }
      throw new Error(`${String(error)}\n${detail}`);
    }
  }

  /** Closes the browser and stops code-server (keeping its log in the results folder). Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.browser.close().catch(() => undefined);
    writeFileSync(path.join(this.resultsDir, 'code-server.log'), this.server.logTail(10_000));
    await this.server.stop();
  }
}

/** Starts code-server with the packaged extension, opens the workbench in Chromium and waits for it. */
export async function startVsCode(options: VsCodeOptions): Promise<VsCodeSession> {
  const vsix = options.vsix ?? ensureVsix();
  const resultsDir = path.join(e2ePaths.results, options.name);
  rmSync(resultsDir, { recursive: true, force: true });
  const server = await startServer({ ...options, vsix });
  let browser: Browser | undefined;
  try {
    const { chromium } = loadPlaywright(e2ePaths.playwrightDir);
    browser = await chromium.launch({ executablePath: e2ePaths.chromium, args: chromiumArgs, headless: true, timeout: 60_000 });
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const session = new VsCodeSession(server, browser, page, resultsDir);
    await page.goto(server.url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await session.step('workbench', () => session.waitForWorkbench());
    return session;
  } catch (error) {
    await browser?.close().catch(() => undefined);
    await server.stop();
    throw error;
  }
}
