/**
 * Chart colours that read on the theme's background: a theme colour whose contrast with the background is
 * below MIN_CONTRAST (Light Modern's pale `charts-orange` on white, say) is mixed toward the theme's text
 * colour until it is not. Pure: colours in, colours out (`#rrggbb`, `#rrggbbaa`, `#rgb`, `rgb()`, `rgba()`).
 */

/** WCAG's contrast for graphical objects (1.4.11). */
export const MIN_CONTRAST = 3;

type Rgb = [number, number, number];

/** The colour's red, green and blue (0..255), or undefined when it is not a form this reads. */
export function parseColor(color: string): Rgb | undefined {
  return parseRgba(color)?.rgb;
}

/** The colour's red, green, blue (0..255) and alpha (0..1). */
export function parseRgba(color: string): { rgb: Rgb; alpha: number } | undefined {
  const text = color.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(text)?.[1];
  if (hex) {
    const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
    const rgb = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as Rgb;
    return { rgb, alpha: full.length === 8 ? parseInt(full.slice(6, 8), 16) / 255 : 1 };
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+)(%?))?/.exec(text);
  if (!rgb) return undefined;
  const alpha = rgb[4] === undefined ? 1 : Number(rgb[4]) / (rgb[5] ? 100 : 1);
  return { rgb: [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])], alpha };
}

function luminance([r, g, b]: Rgb): number {
  const channel = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** WCAG contrast ratio of two colours (1..21). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

function hex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * `color` if it reads on `background` (a translucent colour as it shows over it), else the colour made
 * opaque, mixed toward `text` in steps of 15% until it reads (at worst `text` itself). Colours this cannot
 * read are returned unchanged. (Light Modern's `charts-orange` is `#ea5c0055`: a third opaque.)
 */
export function readableOn(color: string, background: string, text: string): string {
  const parsed = parseRgba(color);
  const bg = parseColor(background);
  const fg = parseColor(text);
  if (!parsed || !bg || !fg) return color;
  const c = parsed.rgb;
  const shown = c.map((v, i) => v * parsed.alpha + bg[i] * (1 - parsed.alpha)) as Rgb;
  if (contrastRatio(shown, bg) >= MIN_CONTRAST) return color;
  if (contrastRatio(c, bg) >= MIN_CONTRAST) return hex(c);
  for (let mix = 0.15; mix < 1; mix += 0.15) {
    const mixed = c.map((v, i) => v + (fg[i] - v) * mix) as Rgb;
    if (contrastRatio(mixed, bg) >= MIN_CONTRAST) return hex(mixed);
  }
  return hex(fg);
}
