/** The README as a newcomer reads it: its commands work as typed, its links lead somewhere, its study figures hold. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('README', () => {
  it('opens with the two commands people check, unchanged', () => {
    const lines = readme.split('\n');
    assert.equal(lines[3], 'npm ci && npm start     # set up, then train the policy on the built-in task suite with Durian (the default session)');
    assert.equal(lines[4], 'npm ci && bash scripts/e2e-setup.sh && npm test   # set up (incl. a real VS Code for the e2e tests), then run the whole test suite');
  });

  it('says on its first screen how to get into VS Code and what npm start does', () => {
    const firstScreen = readme.slice(0, readme.indexOf('## Requirements'));
    for (const needed of ['npm run try', 'code --install-extension dist/durian-rl.vsix', 'npm start', 'npx durian']) assert.ok(firstScreen.includes(needed), needed);
  });

  it('names only npm scripts that exist', () => {
    const used = new Set([...readme.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1]));
    for (const script of used) assert.ok(script in manifest.scripts, `npm run ${script}`);
  });

  it('runs the CLI as `npx durian <command>` with commands that exist (durian is not on PATH after npm ci)', () => {
    const usage = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), '--help'], { encoding: 'utf8' }).stdout;
    const commands = new Set([...usage.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]));
    assert.ok(commands.has('train') && commands.has('study'), usage);
    const typed = [...readme.matchAll(/npx durian ([a-z][a-z-]*)/g)].map((m) => m[1]);
    assert.ok(typed.length > 5);
    for (const command of typed) assert.ok(commands.has(command), `npx durian ${command}`);
    assert.doesNotMatch(readme, /^(durian|node dist\/cli\.js) /m, 'no command that fails as typed after npm ci');
  });

  it('links only to files that exist, the two extension screenshots among them', () => {
    assert.ok(readme.includes('](docs/images/dashboard.png)') && readme.includes('](docs/images/rollout-groups.png)'));
    for (const [, target] of readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^https?:/.test(target)) continue;
      assert.ok(existsSync(path.join(root, target)), target);
    }
  });

  it("quotes the study's Holm-adjusted p, test count and power as scripts/study-stats.mjs computes them from results.json", () => {
    const out = spawnSync(process.execPath, [path.join(root, 'scripts/study-stats.mjs'), 'docs/results/study-2026-11-25/results.json', '--json'], { cwd: root, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const stats = JSON.parse(out.stdout) as { pValuesInReport: number; distinctTests: number; rows: { test: string; p: number; holmVerdicts: number | null; holmAll: number; power: number }[] };
    const row = (test: string) => {
      const found = stats.rows.find((r) => r.test === test);
      assert.ok(found, test);
      return found;
    };
    const win = row('durian vs batch_std, G = 4');
    assert.ok(readme.includes(`**${stats.pValuesInReport} p-values** (${stats.distinctTests} distinct tests)`));
    assert.ok(readme.includes(`p = ${win.p.toFixed(4)}`) && readme.includes(`**p = ${win.holmVerdicts?.toFixed(4)} after Holm**`), 'the win, raw and Holm-adjusted');
    assert.ok(readme.includes(`(${win.holmAll.toFixed(3)} over all ${stats.distinctTests} tests)`));
    const power8 = Math.round(100 * row('durian vs grpo, G = 8').power);
    const power4 = Math.round(100 * row('durian vs grpo, G = 4').power);
    assert.ok(readme.includes(`**${power8}% power** at G = 8 (${power4}% at G = 4)`), `power ${power8}% / ${power4}%`);
  });
});
