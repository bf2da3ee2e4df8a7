/**
 * A panel's real webview code in a real DOM, for tests of what only a browser shows: the entry bundled as the
 * build does (esbuild, iife), served with its CSS by a small HTTP server on loopback, opened in the e2e setup's
 * Chromium through playwright-core. Host messages are posted to the page as VS Code would. Shared by the
 * Dashboard's and the Rollout Groups panel's DOM tests; skipped (with the reason) where the setup is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { LiveConfig } from '../../src/protocol/index.js';
import { chromiumArgs } from '../e2e/harness.js';
import { type Page, loadPlaywright } from '../e2e/playwright.js';
import { e2ePaths, projectRoot } from '../e2e/setup.js';
import { liveConfig } from './liveConfig.js';

/** A run's live configuration as the panels' DOM tests start from (Durian, 4 bins, 8 prompts x 8). */
export const BASE_LIVE_CONFIG: LiveConfig = liveConfig();

/** Why the DOM tests cannot run here, or false when they can. */
export function webviewDomSkipReason(): string | false {
  if (process.env.DURIAN_E2E === '0') return 'DURIAN_E2E=0';
  if (!existsSync(e2ePaths.chromium)) return `no Chromium at ${e2ePaths.chromium}: run \`bash scripts/e2e-setup.sh\``;
  if (!existsSync(path.join(e2ePaths.playwrightDir, 'node_modules', 'playwright-core'))) return 'playwright-core is not installed: run `bash scripts/e2e-setup.sh`';
  return false;
}

type Mouse = { move(x: number, y: number, options?: { steps?: number }): Promise<void>; down(): Promise<void>; up(): Promise<void> };
/** The page, with the few playwright calls these tests use typed. */
export type EvaluatePage = Page & {
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  goto(url: string): Promise<unknown>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  mouse: Mouse;
};

export interface WebviewPage {
  page: EvaluatePage;
  /** The server's address, e.g. `http://127.0.0.1:PORT`; the page is `${base}/index.html`. */
  base: string;
  close(): Promise<void>;
}

/** An `acquireVsCodeApi` as a webview has it, recording every message the page sends in `window.sent`. */
export const RECORDING_VSCODE_API = `<script>window.sent = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.sent.push(m), getState: () => undefined, setState: () => undefined });</script>`;

export interface WebviewPageOptions {
  /** The webview's folder under webview/ and the bundle's name: `dashboard` or `rollouts`. */
  entry: string;
  /** Attributes of the <html> element (e.g. a theme's `--vscode-*` variables) and the <body> class. */
  htmlAttributes?: string;
  bodyClass: string;
  /** Markup placed before the bundle's script (e.g. an `acquireVsCodeApi` that records what the page sends). */
  beforeScript?: string;
  viewport: { width: number; height: number };
  /** Answers a request itself (e.g. delayed images); returns false to leave it to the static files. */
  route?: (url: string, request: IncomingMessage, response: ServerResponse) => boolean;
}

/** Bundles the entry, serves it and opens a page in Chromium (not yet navigated to `${base}/index.html`). */
export async function openWebviewPage(options: WebviewPageOptions): Promise<WebviewPage> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `durian-${options.entry}-dom-`));
  await esbuild.build({
    entryPoints: { [options.entry]: path.join(projectRoot, 'webview', options.entry, 'main.ts') },
    outdir: dir,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
    logLevel: 'warning',
  });
  const html = `<!doctype html><html ${options.htmlAttributes ?? ''}><head><meta charset="utf-8"><link rel="stylesheet" href="${options.entry}.css"></head><body class="${options.bodyClass}">${options.beforeScript ?? ''}<script src="${options.entry}.js"></script></body></html>`;
  const server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (options.route?.(url, request, response)) return;
    const file = url === '/index.html' ? undefined : path.join(dir, path.basename(url));
    if (url === '/index.html') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(html);
    } else if (file && existsSync(file)) {
      response.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      response.end(readFileSync(file));
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { chromium } = loadPlaywright(e2ePaths.playwrightDir);
  const browser = await chromium.launch({ executablePath: e2ePaths.chromium, args: chromiumArgs, headless: true, timeout: 60_000 });
  const context = await browser.newContext({ viewport: options.viewport });
  const page = (await context.newPage()) as EvaluatePage;
  page.setDefaultTimeout(10_000);
  mkdirSync(path.join(projectRoot, 'test-results', 'webview'), { recursive: true });
  return {
    page,
    base,
    async close() {
      await browser.close().catch(() => undefined);
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
