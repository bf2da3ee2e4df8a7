/** npm runs the project's scripts without warnings, and onnxruntime-node's CUDA download stays off at install. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '../..');

describe('npm configuration', () => {
  it('`npm run` prints no npm warning (e.g. "Unknown project config" for a key in .npmrc)', () => {
    // Not --silent: that hides npm's warnings, and `npm start` / `npm test` run without it.
    const result = spawnSync('npm', ['run', 'try', '--', '--help'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /usage: npm run try/);
    assert.doesNotMatch(result.stderr, /npm warn|Unknown (project|user|env) config/i, result.stderr);
  });

  it("denies onnxruntime-node's install script (it downloads CUDA binaries) through package.json's allowScripts", () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.equal(manifest.allowScripts['onnxruntime-node'], false);
    // npm 10 ignores allowScripts: CI (and the README for npm 10) passes the install script's own switch.
    assert.match(readFileSync(path.join(root, '.ci/run'), 'utf8'), /ONNXRUNTIME_NODE_INSTALL=skip npm ci\b/);
  });
});
