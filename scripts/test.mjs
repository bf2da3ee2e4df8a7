// Runs every test file under test/ (or the folders/files given) with Node's own test runner.
// TypeScript is loaded through tsx. Usage: node scripts/test.mjs [test/unit ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const targets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test'];

function collect(target, out) {
  const full = path.resolve(root, target);
  if (statSync(full).isDirectory()) {
    for (const name of readdirSync(full).sort()) collect(path.join(full, name), out);
  } else if (/\.test\.ts$/.test(full)) {
    out.push(full);
  }
  return out;
}

const files = targets.flatMap((t) => collect(t, []));
if (files.length === 0) {
  console.error(`no test files found under ${targets.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter', 'spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: process.env,
});
process.exit(result.status ?? 1);
