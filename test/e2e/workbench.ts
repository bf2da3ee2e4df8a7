/**
 * Helpers that drive the VS Code workbench in the browser the way a person would: the command palette,
 * the activity bar, tree views, quick inputs, editors, notifications, the status bar and webviews.
 * Selectors are VS Code's own DOM classes (stable across releases for years); each helper waits and
 * retries, because commands and views appear only after the extension host has activated.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator, Locator, Page } from './playwright.js';

type TextMatcher = string | RegExp;

const quickInputBox = '.quick-input-widget .quick-input-box input';
const quickInputRows = '.quick-input-widget .quick-input-list .monaco-list-row';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describeMatcher(matcher: TextMatcher): string {
  return typeof matcher === 'string' ? JSON.stringify(matcher) : String(matcher);
}

export class Workbench {
  private shots = 0;

  constructor(
    readonly page: Page,
    /** Folder the screenshots go to (test-results/e2e/<suite>). */
    readonly screenshotDir: string,
  ) {
    mkdirSync(screenshotDir, { recursive: true });
  }

  /** Waits for the workbench and its activity bar; a fresh window shows them in 3-4 s. */
  async waitForWorkbench(timeoutMs = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** Saves a PNG of the whole window as <screenshotDir>/<nn>-<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    this.shots += 1;
    const file = path.join(this.screenshotDir, `${String(this.shots).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '-')}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Closes whatever quick input or menu is open. */
  async escape(): Promise<void> {
    await this.page.keyboard.press('Escape');
  }

  /** Opens the command palette with `text` typed after the `>` (retrying F1 until the box is there). */
  private async openPalette(text: string): Promise<Locator> {
    const input = this.page.locator(quickInputBox);
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.escape();
      await this.page.keyboard.press('F1');
      try {
        await input.waitFor({ state: 'visible', timeout: 5000 });
        await input.fill(`>${text}`);
        return input;
      } catch {
        // The workbench may still be taking focus: try again.
      }
    }
    throw new Error('the command palette (F1) did not open');
  }

  /** The row of an open quick input whose label is `label` (a string matches the whole label exactly). */
  quickPickRow(label: TextMatcher, rows = quickInputRows): Locator {
    const pattern = typeof label === 'string' ? new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) : label;
    // The label alone: a row's text also holds its keybinding and hints ("recently used").
    return this.page.locator(rows).filter({ has: this.page.locator('.label-name', { hasText: pattern }) });
  }

  /**
   * Runs a command by its palette title ("Durian: Refresh Runs") through F1, retrying until the command is
   * registered (it is listed once the extension host has read the manifest: 4-9 s after load).
   */
  async runCommand(title: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const input = await this.openPalette(title);
      const row = this.quickPickRow(title).first();
      try {
        await row.waitFor({ state: 'visible', timeout: 3000 });
      } catch (error) {
        if (Date.now() > deadline) {
          const listed = await this.page.locator(quickInputRows).allInnerTexts().catch(() => []);
          await this.escape();
          throw new Error(`command "${title}" did not appear in the palette within ${Math.round(timeoutMs / 1000)} s; listed: ${JSON.stringify(listed)} (${String(error)})`);
        }
        await this.escape();
        await sleep(1000);
        continue;
      }
      // Enter runs the focused row, which may briefly be another one (a recently used command listed
      // first) while the list filters: press it once the command's own row has the focus, else click it.
      const focused = this.quickPickRow(title, `${quickInputRows}.focused`).first();
      if (await focused.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) await input.press('Enter');
      else await row.click({ timeout: 5000 });
      return;
    }
  }

  /** The labels the palette lists for `prefix` (e.g. "Durian:"), once at least `atLeast` are listed. */
  async paletteCommands(prefix: string, atLeast = 1, timeoutMs = 60_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.openPalette(prefix);
      await sleep(500);
      const labels = (await this.page.locator(`${quickInputRows} .label-name`).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      const matching = labels.filter((label) => label.toLowerCase().startsWith(prefix.toLowerCase()));
      if (matching.length >= atLeast || Date.now() > deadline) {
        await this.escape();
        return matching;
      }
      await this.escape();
      await sleep(1000);
    }
  }

  /** Opens a workspace file in an editor through Quick Open (`relativePath` as typed, e.g. "README.md"). */
  async openFile(relativePath: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const name = path.basename(relativePath);
    for (;;) {
      const input = await this.openPalette('');
      await input.fill(relativePath);
      const row = this.page.locator(quickInputRows).filter({ hasText: name }).first();
      try {
        await row.waitFor({ state: 'visible', timeout: 3000 });
        await input.press('Enter');
        await this.page.locator('.part.editor .tab.active').filter({ hasText: name }).waitFor({ state: 'visible', timeout: 10_000 });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`could not open ${relativePath} through Quick Open: ${String(error)}`);
      }
      await this.escape();
      await sleep(1000);
    }
  }

  /** The input of the open quick input (a prompt, a quick pick, or the simple file dialog). */
  quickInput(): Locator {
    return this.page.locator(quickInputBox);
  }

  /** Waits until no quick input is shown (e.g. before a screenshot, after a command ran). */
  async waitForQuickInputClosed(timeoutMs = 10_000): Promise<void> {
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** Types `text` into the open quick input (replacing what is there) and presses Enter. */
  async answerQuickInput(text: string, timeoutMs = 30_000): Promise<void> {
    const input = this.quickInput();
    await input.waitFor({ state: 'visible', timeout: timeoutMs });
    // A prompt may still be filling in its own initial value (code-server's file dialog writes the folder path
    // and then the suggested file name asynchronously, later on a loaded machine): give it a moment to start,
    // type, then check that the value held for two checks in a row before pressing Enter, and retype if not.
    const deadline = Date.now() + timeoutMs;
    const settle = Date.now() + 1500;
    while ((await input.inputValue()) === '' && Date.now() < settle) await this.page.waitForTimeout(100);
    for (;;) {
      await input.fill(text);
      let held = true;
      for (let check = 0; check < 2 && held; check++) {
        await this.page.waitForTimeout(300);
        held = (await input.inputValue()) === text;
      }
      if (held) break;
      if (Date.now() > deadline) throw new Error(`the quick input kept replacing ${JSON.stringify(text)} with ${JSON.stringify(await input.inputValue())}`);
    }
    await input.press('Enter');
  }

  /** Clicks a view container in the activity bar by its title ("Durian RL", "Explorer"). */
  async openViewContainer(title: string, timeoutMs = 30_000): Promise<void> {
    // Click the item, not its label: a badge ("1 unsaved file") may cover the label.
    const item = this.page.locator(`.part.activitybar .action-item:has([aria-label^="${title}"])`).first();
    await item.waitFor({ state: 'visible', timeout: timeoutMs });
    const label = item.locator(`[aria-label^="${title}"]`).first();
    const open = (await label.getAttribute('aria-checked')) === 'true' || (await item.getAttribute('aria-checked')) === 'true';
    if (!open) await item.click({ timeout: timeoutMs });
    await this.page.locator('.part.sidebar').waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** A row of a tree or list in the side bar containing `text` (a run, a file). */
  sideBarRow(text: TextMatcher): Locator {
    return this.page.locator('.part.sidebar .monaco-list-row').filter({ hasText: text });
  }

  /** Right-clicks `target` (a side bar row, an editor tab) and chooses `item` from its context menu. */
  async contextMenu(target: Locator, item: TextMatcher, timeoutMs = 30_000): Promise<void> {
    await target.click({ button: 'right', timeout: timeoutMs });
    // VS Code renders menus in a shadow root; Playwright's CSS locators pierce it.
    const entry = this.page.locator('.monaco-menu .action-item').filter({ hasText: item }).first();
    await entry.waitFor({ state: 'visible', timeout: timeoutMs });
    // The menu ignores a click that comes too soon after it opened: hover (which focuses the entry) and
    // press Enter, which it always takes.
    await entry.hover();
    await this.page.keyboard.press('Enter');
    await this.page.locator('.monaco-menu').first().waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
  }

  /** The active editor's visible text (Monaco renders only the lines in view). */
  async activeEditorText(timeoutMs = 30_000): Promise<string> {
    const lines = this.page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').first();
    await lines.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await lines.innerText()).replace(/\u00a0/g, ' ');
  }

  /** Waits until the active editor's text matches; returns it. */
  async waitForEditorText(matcher: TextMatcher, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    while (Date.now() < deadline) {
      text = await this.activeEditorText(Math.max(1000, deadline - Date.now())).catch(() => '');
      if (typeof matcher === 'string' ? text.includes(matcher) : matcher.test(text)) return text;
      await sleep(250);
    }
    throw new Error(`the active editor never showed ${describeMatcher(matcher)} within ${Math.round(timeoutMs / 1000)} s; it showed: ${JSON.stringify(text.slice(0, 500))}`);
  }

  /** The status bar item whose text matches, once it is visible; returns its text. */
  async statusBarText(matcher: TextMatcher, timeoutMs = 30_000): Promise<string> {
    const item = this.page.locator('.part.statusbar .statusbar-item').filter({ hasText: matcher }).first();
    try {
      await item.waitFor({ state: 'visible', timeout: timeoutMs });
    } catch {
      const all = await this.page.locator('.part.statusbar .statusbar-item').allInnerTexts().catch(() => []);
      throw new Error(`no status bar item showed ${describeMatcher(matcher)} within ${Math.round(timeoutMs / 1000)} s; it shows: ${JSON.stringify(all.filter((t) => t.trim()))}`);
    }
    return (await item.innerText()).trim();
  }

  /** A notification toast whose text matches (wait on it with `.waitFor()`). */
  notification(matcher: TextMatcher): Locator {
    return this.page.locator('.notifications-toasts .notification-toast').filter({ hasText: matcher });
  }

  /**
   * The content of a webview (panel or view): two nested iframes, `iframe.webview` then `#active-frame`.
   * `index` picks among the visible webviews (0: the first).
   */
  webviewFrame(index = 0): FrameLocator {
    return this.page.frameLocator(`iframe.webview:visible >> nth=${index}`).frameLocator('#active-frame');
  }
}
