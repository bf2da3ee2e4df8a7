// Re-reads a published study's results.json and prints what its report leaves out: every p-value it holds, Holm-
// adjusted over the family of Durian's verdicts and over every distinct test of the report, and the power of its
// paired t-tests to see a given effect (Monte Carlo with the observed seed-to-seed spread of the differences).
// Usage: node scripts/study-stats.mjs docs/results/study-2026-11-25/results.json [--effect 0.023] [--json]
import { readFileSync } from 'node:fs';

/** Holm's step-down adjustment: the i-th smallest of m p-values times (m - i), made monotone, capped at 1. */
export function holm(pValues) {
  const order = pValues.map((p, i) => [p, i]).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array(pValues.length);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, p * (pValues.length - rank)));
    adjusted[i] = running;
  });
  return adjusted;
}

/** Two-sided 5% critical values of Student's t for df 1..10. */
const T_CRIT = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

/** Power of a paired two-sided t-test at alpha 0.05 with n pairs, true mean difference `effect`, sd `sd` (simulated). */
export function pairedPower(n, effect, sd, trials = 200_000) {
  let state = 12345;
  const uniform = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  let rejected = 0;
  for (let t = 0; t < trials; t++) {
    const x = Array.from({ length: n }, () => effect + sd * normal());
    const mean = x.reduce((s, v) => s + v, 0) / n;
    const s = Math.sqrt(x.reduce((acc, v) => acc + (v - mean) ** 2, 0) / (n - 1));
    if (Math.abs(mean / (s / Math.sqrt(n))) > T_CRIT[n - 2]) rejected++;
  }
  return rejected / trials;
}

function label(c) {
  return `${c.arm} vs ${c.against}, G = ${c.groupSize}`;
}

function main(argv) {
  const file = argv.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: node scripts/study-stats.mjs RESULTS_JSON [--effect 0.023] [--json]');
    process.exit(2);
  }
  const effectAt = argv.indexOf('--effect');
  const effect = effectAt >= 0 ? Number(argv[effectAt + 1]) : 0.023;
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const groups = Object.entries(results.comparisons);
  const all = groups.flatMap(([group, list]) => list.filter((c) => c.test?.possible).map((c) => ({ group, ...c })));
  const distinct = [...new Map(all.map((c) => [label(c), c])).values()];
  const verdicts = results.comparisons.durianVerdicts.filter((c) => c.test?.possible);
  const holmVerdicts = holm(verdicts.map((c) => c.test.p));
  const holmAll = holm(distinct.map((c) => c.test.p));
  const rows = distinct.map((c, i) => {
    const v = verdicts.findIndex((d) => label(d) === label(c));
    return {
      test: label(c),
      diffPoints: 100 * c.test.meanDiff,
      p: c.test.p,
      holmVerdicts: v >= 0 ? holmVerdicts[v] : null,
      holmAll: holmAll[i],
      power: c.test.n >= 2 ? pairedPower(c.test.n, effect, c.test.sdDiff) : null,
    };
  });
  const summary = { file, pValuesInReport: all.length, distinctTests: distinct.length, verdictFamily: verdicts.length, effectPoints: 100 * effect, rows };
  if (argv.includes('--json')) return console.log(JSON.stringify(summary, null, 2));
  console.log(`${file}: ${all.length} p-values in the report, ${distinct.length} distinct tests, ${verdicts.length} in the verdict family`);
  console.log(`power: paired t-test, alpha 0.05 two-sided, true difference +${(100 * effect).toFixed(1)} points, the test's own sd of differences`);
  console.log(['test', 'diff (points)', 'p', `Holm over the ${verdicts.length} verdicts`, `Holm over all ${distinct.length}`, 'power'].join(' | '));
  for (const r of rows) {
    const f = (x, d = 4) => (x === null ? '-' : x.toFixed(d));
    console.log([r.test, (r.diffPoints >= 0 ? '+' : '') + r.diffPoints.toFixed(1), f(r.p), f(r.holmVerdicts), f(r.holmAll), r.power === null ? '-' : `${(100 * r.power).toFixed(0)}%`].join(' | '));
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) main(process.argv.slice(2));
