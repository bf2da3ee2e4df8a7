/** The webview page: a strict CSP with a per-load nonce, and nothing inline that it would block. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNonce, webviewCsp, webviewHtml } from '../../src/extension/webviewHtml.js';

const cspSource = 'https://*.vscode-cdn.net';
const nonce = 'c2VjcmV0LW5vbmNlLTEyMzQ1Ng==';
const page = () =>
  webviewHtml({
    cspSource,
    nonce,
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/dashboard.js',
    styleUris: ['https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/dashboard.css'],
    title: 'Durian <Dashboard> & "runs"',
  });

/** The directives of a policy, by name. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [name, sources]),
  );
}

describe('webviewCsp', () => {
  it('is exactly the strict policy', () => {
    assert.equal(
      webviewCsp(cspSource, nonce),
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${cspSource} 'nonce-${nonce}'; img-src ${cspSource} data:; font-src ${cspSource}`,
    );
  });

  it('allows no inline code, eval or remote origin', () => {
    const policy = directives(webviewCsp(cspSource, nonce));
    assert.deepEqual(policy.get('default-src'), ["'none'"]);
    assert.deepEqual(policy.get('script-src'), [`'nonce-${nonce}'`]);
    for (const sources of policy.values()) {
      for (const banned of ["'unsafe-inline'", "'unsafe-eval'", '*', 'http:', 'https:']) assert.ok(!sources.includes(banned), `${banned} in ${sources.join(' ')}`);
    }
    assert.equal(policy.has('connect-src'), false, 'no network access from the webview');
  });

  it('refuses a nonce or source that could break out of the policy', () => {
    assert.throws(() => webviewCsp(cspSource, "abc'; script-src *"), /nonce/);
    assert.throws(() => webviewCsp(cspSource, 'short'), /nonce/);
    assert.throws(() => webviewCsp("https://x; script-src 'unsafe-inline'", nonce), /CSP source/);
    assert.throws(() => webviewCsp('', nonce), /CSP source/);
  });
});

describe('webviewHtml', () => {
  it('puts the policy in a meta tag before any resource', () => {
    const html = page();
    const meta = html.indexOf('http-equiv="Content-Security-Policy"');
    assert.ok(meta > 0);
    assert.ok(meta < html.indexOf('<link'), 'the policy comes before the stylesheet');
    assert.ok(html.includes(`content="${webviewCsp(cspSource, nonce)}"`));
  });

  it('loads one nonce-carrying script from a file and has no inline script or style', () => {
    const html = page();
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0][0], new RegExp(`nonce="${nonce.replace(/[+/=]/g, '\\$&')}"`));
    assert.match(scripts[0][0], /src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/dashboard\.js"/);
    assert.equal(scripts[0][1].trim(), '', 'the script tag has no inline body');
    assert.doesNotMatch(html, /<style\b/);
    assert.doesNotMatch(html, /\sstyle=/);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    assert.match(html, /<link rel="stylesheet" href="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/dashboard\.css"/);
  });

  it('escapes the title and attribute values', () => {
    const html = page();
    assert.ok(html.includes('<title>Durian &lt;Dashboard&gt; &amp; "runs"</title>'));
    const hostile = webviewHtml({ cspSource, nonce, scriptUri: 'x" onload="alert(1)', styleUris: [], title: 't' });
    assert.ok(hostile.includes('src="x&quot; onload=&quot;alert(1)"'));
  });
});

describe('makeNonce', () => {
  it('gives a fresh policy-safe nonce each time', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => makeNonce()));
    assert.equal(nonces.size, 100);
    for (const value of nonces) {
      assert.match(value, /^[A-Za-z0-9+/]{22}==$/);
      assert.doesNotThrow(() => webviewCsp(cspSource, value));
    }
  });
});

describe('webview CSP source lists', () => {
  it("accepts code-server's list of source expressions and still refuses injections", () => {
    const nonce = 'AAAAAAAAAAAAAAAAAAAAAA==';
    assert.match(webviewCsp("'self' https://*.vscode-cdn.net", nonce), /style-src 'self' https:\/\/\*\.vscode-cdn\.net 'nonce-/);
    assert.throws(() => webviewCsp("'self' 'unsafe-inline'", nonce), /host sources or 'self'/);
    assert.throws(() => webviewCsp("'self'; script-src *", nonce), /host sources or 'self'/);
    assert.throws(() => webviewCsp("https://a  https://b", nonce), /host sources or 'self'/);
  });
});
