/**
 * The part of playwright-core's API the e2e tests use, typed here because playwright-core lives in the
 * ignored cache (.cache/e2e/playwright, installed by scripts/e2e-setup.sh) and not in the project's
 * node_modules: the project typechecks without it. Add a member here when a test needs one; the real
 * objects have all of them (https://playwright.dev/docs/api/class-page).
 */
import { createRequire } from 'node:module';
import path from 'node:path';

type Timeout = { timeout?: number };
type TextMatcher = string | RegExp;

export interface Locator {
  click(options?: Timeout & { button?: 'left' | 'right' | 'middle'; force?: boolean }): Promise<void>;
  dblclick(options?: Timeout): Promise<void>;
  hover(options?: Timeout): Promise<void>;
  fill(value: string, options?: Timeout): Promise<void>;
  inputValue(options?: Timeout): Promise<string>;
  press(key: string, options?: Timeout): Promise<void>;
  waitFor(options?: Timeout & { state?: 'attached' | 'detached' | 'visible' | 'hidden' }): Promise<void>;
  isVisible(): Promise<boolean>;
  count(): Promise<number>;
  innerText(options?: Timeout): Promise<string>;
  textContent(options?: Timeout): Promise<string | null>;
  allInnerTexts(): Promise<string[]>;
  getAttribute(name: string, options?: Timeout): Promise<string | null>;
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  filter(options: { hasText?: TextMatcher; hasNotText?: TextMatcher; has?: Locator; hasNot?: Locator }): Locator;
  locator(selector: string, options?: { hasText?: TextMatcher }): Locator;
  getByText(text: TextMatcher, options?: { exact?: boolean }): Locator;
  getByRole(role: string, options?: { name?: TextMatcher; exact?: boolean }): Locator;
  screenshot(options?: Timeout & { path?: string }): Promise<Buffer>;
  evaluate<R, A = undefined>(fn: (element: Element, arg: A) => R, arg?: A): Promise<R>;
}

export interface FrameLocator {
  locator(selector: string, options?: { hasText?: TextMatcher }): Locator;
  frameLocator(selector: string): FrameLocator;
  getByText(text: TextMatcher, options?: { exact?: boolean }): Locator;
  getByRole(role: string, options?: { name?: TextMatcher; exact?: boolean }): Locator;
}

export interface Keyboard {
  press(key: string, options?: { delay?: number }): Promise<void>;
  type(text: string, options?: { delay?: number }): Promise<void>;
}

export interface ConsoleMessage {
  type(): string;
  text(): string;
}

export interface Page {
  readonly keyboard: Keyboard;
  goto(url: string, options?: Timeout & { waitUntil?: 'load' | 'domcontentloaded' | 'networkidle' | 'commit' }): Promise<unknown>;
  locator(selector: string, options?: { hasText?: TextMatcher }): Locator;
  frameLocator(selector: string): FrameLocator;
  getByText(text: TextMatcher, options?: { exact?: boolean }): Locator;
  getByRole(role: string, options?: { name?: TextMatcher; exact?: boolean }): Locator;
  screenshot(options?: Timeout & { path?: string; fullPage?: boolean }): Promise<Buffer>;
  waitForTimeout(ms: number): Promise<void>;
  setDefaultTimeout(ms: number): void;
  evaluate<R>(fn: () => R): Promise<R>;
  on(event: 'console', listener: (message: ConsoleMessage) => void): void;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  close(): Promise<void>;
}

export interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface Browser {
  newContext(options?: { viewport?: { width: number; height: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export interface ChromiumLauncher {
  launch(options: Timeout & { executablePath: string; args: string[]; headless?: boolean; env?: NodeJS.ProcessEnv }): Promise<Browser>;
}

/** Loads playwright-core from the folder scripts/e2e-setup.sh installed it into. */
export function loadPlaywright(installDir: string): { chromium: ChromiumLauncher } {
  const requireFromCache = createRequire(path.join(installDir, 'package.json'));
  try {
    return requireFromCache('playwright-core') as { chromium: ChromiumLauncher };
  } catch (error) {
    throw new Error(`playwright-core is not installed in ${installDir}: run \`bash scripts/e2e-setup.sh\` (${String(error)})`);
  }
}
