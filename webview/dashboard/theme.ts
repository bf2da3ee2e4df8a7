/**
 * The chart colours, read from the VS Code theme's CSS variables (`--vscode-charts-blue`, ...) so the
 * charts follow light, dark and high-contrast themes; `watchTheme` reports a theme change (VS Code
 * swaps the body's class and the root's inline variables).
 */
import { THEME_COLOR_NAMES, type ThemeColorName } from './chartSpecs.js';

export interface ChartTheme {
  colors: Record<ThemeColorName, string>;
  /** Axis labels. */
  text: string;
  /** Grid and tick lines. */
  grid: string;
  /** Canvas font of the axes. */
  font: string;
}

/** Fallbacks: VS Code's Dark Modern values, used when a variable is missing (outside VS Code). */
const FALLBACK: Record<ThemeColorName, string> = {
  blue: '#3794ff',
  orange: '#d18616',
  green: '#89d185',
  purple: '#b180d7',
  red: '#f14c4c',
  yellow: '#cca700',
  foreground: '#cccccc',
};

export function readTheme(root: Element = document.documentElement): ChartTheme {
  const style = getComputedStyle(root);
  const variable = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const colors = {} as Record<ThemeColorName, string>;
  for (const name of THEME_COLOR_NAMES) {
    colors[name] = name === 'foreground' ? variable('--vscode-charts-foreground', variable('--vscode-foreground', FALLBACK.foreground)) : variable(`--vscode-charts-${name}`, FALLBACK[name]);
  }
  const fontFamily = variable('--vscode-font-family', 'system-ui, sans-serif');
  return {
    colors,
    text: variable('--vscode-descriptionForeground', variable('--vscode-foreground', FALLBACK.foreground)),
    grid: variable('--vscode-charts-lines', 'rgba(128, 128, 128, 0.35)'),
    font: `11px ${fontFamily}`,
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
