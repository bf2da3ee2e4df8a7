/**
 * `durian bench`: runs every benchmark suite of the project, prints one table with ratios against
 * the baselines measured in the same process, and writes the same rows as JSON for tracking.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { ProgressBar, formatNumber, formatTable } from '../progress.js';
import { compareSuite } from './compare.js';
import { coreSuite } from './core.js';
import { encoderSuite } from './encoder.js';
import { generalPolicySuite } from './generalPolicy.js';
import { messagesSuite } from './messages.js';
import { policySuite } from './policy.js';
import type { BenchRow, BenchSuite } from './types.js';

const SUITES: BenchSuite[] = [coreSuite, encoderSuite, policySuite, generalPolicySuite, messagesSuite, compareSuite];

export function benchHelp(): string {
  const suites = SUITES.map((suite) => `  ${suite.name.padEnd(16)}${suite.description}`);
  return `durian bench [--suite NAME[,NAME]] [--repeats N] [--json FILE] [--quick]

Runs the project's benchmarks in this process and prints one table (median, unit, ratio against a baseline
measured in the same process, target, met or not); writes the same rows as JSON. Run it on a quiet machine.

Options:
  --suite NAME[,NAME]  only these suites (default: all)
  --repeats N          timed repetitions per benchmark (default 50)
  --json FILE          where the rows go (default bench-results.json)
  --quick              smaller shapes where a suite has them (general-policy: 16 prompts x 8 instead of 128 x 8)
  --help               this text

Suites:
${suites.join('\n')}`;
}

export async function runBench(options: { suites?: string[]; repeats: number; jsonPath: string; quick?: boolean }, print: (line: string) => void): Promise<BenchRow[]> {
  const chosen = options.suites ? SUITES.filter((s) => options.suites?.includes(s.name)) : SUITES;
  const unknown = (options.suites ?? []).filter((name) => !SUITES.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown bench suite ${unknown.join(', ')} (known: ${SUITES.map((s) => s.name).join(', ')})`);
  const progress = new ProgressBar({ total: chosen.length, label: 'bench', plainIntervalMs: 0 });
  const rows: BenchRow[] = [];
  for (const [i, suite] of chosen.entries()) {
    progress.update(i, { suite: suite.name });
    rows.push(...(await suite.run({ repeats: options.repeats, quick: options.quick === true, log: print })));
  }
  progress.finish();
  const table: (string | number)[][] = [['suite', 'benchmark', 'median', 'unit', 'ratio', 'baseline', 'target', 'ok', 'note']];
  for (const row of rows) {
    table.push([
      row.suite,
      row.name,
      row.value,
      row.unit,
      row.ratio === undefined ? '' : `${formatNumber(row.ratio)}x`,
      row.baseline ? `${row.baseline.name} ${formatNumber(row.baseline.value)}` : '',
      row.target ?? '',
      row.pass === undefined ? '' : row.pass ? 'yes' : 'NO',
      row.note ?? '',
    ]);
  }
  print(formatTable(table));
  const record = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.arch()}` },
    repeats: options.repeats,
    quick: options.quick === true,
    rows,
  };
  writeFileSync(options.jsonPath, `${JSON.stringify(record, null, 2)}\n`);
  print(`\nwrote ${options.jsonPath}`);
  return rows;
}
