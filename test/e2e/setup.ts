/**
 * Where scripts/e2e-setup.sh puts what the e2e tests need, and whether it is there. The tests run when the
 * setup is complete (or DURIAN_E2E=1 demands them) and are skipped with the reason otherwise, so
 * `npm test` on a machine without Chromium or the cache still passes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '../..');

const cacheDir = process.env.E2E_CACHE ?? path.join(projectRoot, '.cache', 'e2e');

export const e2ePaths = {
  cacheDir,
  node24Bin: path.join(cacheDir, 'node24', 'bin'),
  codeServer: path.join(cacheDir, 'code-server', 'node_modules', '.bin', 'code-server'),
  playwrightDir: path.join(cacheDir, 'playwright'),
  readyStamp: path.join(cacheDir, 'stamps', 'ready'),
  chromium: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
  vsix: path.join(projectRoot, 'dist', 'durian-rl.vsix'),
  results: path.join(projectRoot, 'test-results', 'e2e'),
};

/** Why the e2e tests cannot run here, or undefined when they can. */
export function e2eMissing(): string | undefined {
  if (!existsSync(e2ePaths.readyStamp)) return `the e2e setup has not run (no ${e2ePaths.readyStamp}): run \`bash scripts/e2e-setup.sh\``;
  for (const [what, file] of [
    ['Node 24', path.join(e2ePaths.node24Bin, 'node')],
    ['code-server', e2ePaths.codeServer],
    ['Chromium', e2ePaths.chromium],
  ] as const) {
    if (!existsSync(file)) return `${what} is missing (${file}): run \`bash scripts/e2e-setup.sh\``;
  }
  return undefined;
}

/**
 * The `skip` option for the e2e suites: false when they can run; the reason when they cannot. DURIAN_E2E=0
 * skips them always; DURIAN_E2E=1 (set by `npm run test:e2e`) makes a missing setup an error instead.
 */
export function e2eSkip(): string | false {
  if (process.env.DURIAN_E2E === '0') return 'DURIAN_E2E=0';
  const missing = e2eMissing();
  if (missing === undefined) return false;
  if (process.env.DURIAN_E2E === '1') throw new Error(`DURIAN_E2E=1 but ${missing}`);
  return `real-VS-Code tests skipped: ${missing}`;
}

export function setupVersions(): string {
  return existsSync(e2ePaths.readyStamp) ? readFileSync(e2ePaths.readyStamp, 'utf8').trim() : 'not set up';
}
