/**
 * The chart colours, read from the VS Code theme's CSS variables (`--vscode-charts-blue`, ...) so the
 * charts follow light, dark and high-contrast themes; `watchTheme` reports a theme change (VS Code
 * swaps the body's class and the root's inline variables).
 */
import { THEME_COLOR_NAMES, type ThemeColorName } from './chartSpecs.js';
import { readableOn } from './contrast.js';

export interface ChartTheme {
  colors: Record<ThemeColorName, string>;
  /** Axis labels. */
  text: string;
  /** Grid and tick lines. */
  grid: string;
  /** Canvas font of the axes. */
  font: string;
  /** Opacity of the unsmoothed lines. */
  rawAlpha: number;
}

/** Fallbacks: VS Code's Dark Modern values, used when a variable is missing (outside VS Code). */
const FALLBACK: Record<ThemeColorName, string> = {
  blue: '#3794ff',
  orange: '#d18616',
  green: '#89d185',
  purple: '#b180d7',
  red: '#f14c4c',
  yellow: '#cca700',
  cyan: '#11a8cd',
  foreground: '#cccccc',
};

/** Where a colour comes from when it is not `--vscode-charts-<name>`. */
const VARIABLES: Partial<Record<ThemeColorName, string[]>> = {
  cyan: ['--vscode-terminal-ansiCyan'],
  foreground: ['--vscode-charts-foreground', '--vscode-foreground'],
};

/** Opacity of the faint unsmoothed line behind a smoothed one, by kind of theme (light lines need more). */
export const RAW_ALPHA = { dark: 0.3, light: 0.45, highContrast: 0.6 } as const;

export function readTheme(root: Element = document.documentElement): ChartTheme {
  const style = getComputedStyle(root);
  const variable = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const colors = {} as Record<ThemeColorName, string>;
  for (const name of THEME_COLOR_NAMES) {
    const names = VARIABLES[name] ?? [`--vscode-charts-${name}`];
    colors[name] = names.reduceRight((fallback, variableName) => variable(variableName, fallback), FALLBACK[name]);
  }
  // Each series must read on the charts' background (Light Modern's orange and yellow do not, as they are).
  const background = variable('--vscode-editorWidget-background', variable('--vscode-editor-background', '#1f1f1f'));
  const text = variable('--vscode-foreground', FALLBACK.foreground);
  for (const name of THEME_COLOR_NAMES) colors[name] = readableOn(colors[name], background, text);
  const kind = document.body.classList;
  const fontFamily = variable('--vscode-font-family', 'system-ui, sans-serif');
  return {
    colors,
    text: variable('--vscode-descriptionForeground', variable('--vscode-foreground', FALLBACK.foreground)),
    grid: variable('--vscode-charts-lines', 'rgba(128, 128, 128, 0.35)'),
    font: `11px ${fontFamily}`,
    rawAlpha: kind.contains('vscode-high-contrast') || kind.contains('vscode-high-contrast-light') ? RAW_ALPHA.highContrast : kind.contains('vscode-light') ? RAW_ALPHA.light : RAW_ALPHA.dark,
  };
}

/** Calls `onChange` after the theme changed; returns a function that stops watching. */
export function watchTheme(onChange: () => void): () => void {
  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      onChange();
    });
  });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
  return () => observer.disconnect();
}
