/**
 * The HTML page of a webview panel, as a pure function: a strict Content Security Policy (nothing
 * loads but the bundle's own files from `webview.cspSource`, and only the script carrying this page's
 * nonce runs), the panel's stylesheets, an empty body, and its script. The panel fills `scriptUri` and
 * `styleUris` with `webview.asWebviewUri(...)` of dist/webview/<panel>.js and .css.
 *
 * uPlot and the vscode-elements controls style elements through the CSSOM (`element.style`,
 * constructable stylesheets), which a CSP without 'unsafe-inline' still allows.
 */
import { randomBytes } from 'node:crypto';

export interface WebviewHtmlOptions {
  /** `webview.cspSource`: the origin the webview's own resources are served from. */
  cspSource: string;
  /** A fresh `makeNonce()` per page load. */
  nonce: string;
  /** The bundle, as a webview URI string. */
  scriptUri: string;
  /** Stylesheets, as webview URI strings, in cascade order. */
  styleUris: readonly string[];
  /** The page title (shown by screen readers; the tab title is the panel's own). */
  title: string;
}

/** Base64 characters only: what the CSP grammar allows in a nonce. */
const NONCE_PATTERN = /^[A-Za-z0-9+/_-]{16,}={0,2}$/;
/** A CSP source expression may not contain these: they would end it or start another directive. */
const UNSAFE_SOURCE = /[;,'"\s<>]/;

/** A nonce for one page load: 128 random bits, base64. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The policy: nothing by default; scripts by nonce; styles, images and fonts from the webview's origin. */
export function webviewCsp(cspSource: string, nonce: string): string {
  checkCspInputs(cspSource, nonce);
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** The whole page. Throws only on a malformed nonce or CSP source (a bug in the caller, not input). */
export function webviewHtml(options: WebviewHtmlOptions): string {
  const csp = webviewCsp(options.cspSource, options.nonce);
  const styles = options.styleUris.map((uri) => `    <link rel="stylesheet" href="${escapeAttribute(uri)}" nonce="${options.nonce}">`);
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '  <head>',
    '    <meta charset="UTF-8">',
    `    <meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">`,
    '    <meta name="viewport" content="width=device-width, initial-scale=1.0">',
    ...styles,
    `    <title>${escapeText(options.title)}</title>`,
    '  </head>',
    '  <body>',
    `    <script nonce="${options.nonce}" src="${escapeAttribute(options.scriptUri)}"></script>`,
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

function checkCspInputs(cspSource: string, nonce: string): void {
  if (!NONCE_PATTERN.test(nonce)) throw new Error(`webviewHtml: the nonce must be at least 16 base64 characters, got ${JSON.stringify(nonce.slice(0, 40))}`);
  // VS Code gives one host source; code-server gives a list such as `'self' https://*.vscode-cdn.net`.
  const expressions = cspSource.split(' ');
  if (cspSource.length === 0 || expressions.some((expression) => expression !== "'self'" && (expression.length === 0 || UNSAFE_SOURCE.test(expression)))) {
    throw new Error(`webviewHtml: the CSP source must be host sources or 'self' separated by single spaces, got ${JSON.stringify(cspSource.slice(0, 80))}`);
  }
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** For double-quoted attributes (single quotes stay, so the CSP reads as written). */
function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;');
}
