/**
 * `durian study`: the statistics against reference values (scipy 1.17), the verdict and report logic on
 * synthetic cells, well-formed SVG, argument errors, and one real end-to-end study on a tiny grid (the
 * trainer bundle, dist/trainer.js, for every cell) that is interrupted with SIGINT, continued, re-run
 * with every cell skipped, refused with other settings, and continues a cell whose trainer was killed.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type TrainerEvent, defaultOf, parseEvent } from '../../src/protocol/index.js';
import { renderReport } from '../../src/cli/study/report.js';
import { type CellResult, summarizeStudy } from '../../src/cli/study/results.js';
import { type StudySettings, parseStudyInvocation, studyCells } from '../../src/cli/study/settings.js';
import {
  logGamma,
  pairedTTest,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTQuantile,
  studentTTwoSidedP,
  equivalenceP,
  holmAdjust,
  verdictOf,
} from '../../src/cli/study/stats.js';
import { dotChart, escapeXml, lineChart, niceTicks, stackCharts } from '../../src/cli/study/svg.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const trainerBundle = path.join(root, 'dist/trainer.js');

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`);

// ---- a minimal XML well-formedness check (tags nest and close, attributes quoted, entities known) ----
function assertWellFormedXml(text: string, what: string): void {
  const stack: string[] = [];
  let i = 0;
  let roots = 0;
  const checkText = (chunk: string) => {
    assert.ok(!chunk.includes('<'), `${what}: raw < in text`);
    for (const match of chunk.matchAll(/&([^;\s]*);?/g)) {
      assert.ok(/^(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+)$/.test(match[1]) && match[0].endsWith(';'), `${what}: bad entity ${match[0]}`);
    }
  };
  while (i < text.length) {
    const open = text.indexOf('<', i);
    if (open < 0) {
      checkText(text.slice(i));
      break;
    }
    checkText(text.slice(i, open));
    const end = text.indexOf('>', open);
    assert.ok(end > open, `${what}: unterminated tag at ${open}`);
    const tag = text.slice(open + 1, end);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      assert.equal(stack.pop(), name, `${what}: </${name}> closes the wrong element`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const match = /^([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*$/.exec(body);
      assert.ok(match, `${what}: malformed tag <${tag.slice(0, 80)}>`);
      checkText(match[2].replace(/"[^"]*"/g, (v) => v.replace(/[<]/g, '')));
      const names = [...match[2].matchAll(/([\w:-]+)="/g)].map((m) => m[1]);
      assert.equal(new Set(names).size, names.length, `${what}: duplicate attribute in <${match[1]}>`);
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(match[1]);
    }
    i = end + 1;
  }
  assert.deepEqual(stack, [], `${what}: unclosed elements`);
  assert.equal(roots, 1, `${what}: exactly one root element`);
}

describe('study statistics', () => {
  it('Student t CDF, two-sided p and quantiles match reference values and closed forms', () => {
    close(studentTTwoSidedP(2.228, 10), 0.05001177181711132, 1e-12, 'p(|T| > 2.228), df 10');
    close(studentTQuantile(0.975, 10), 2.228138851986274, 1e-9, 't_0.975, df 10');
    close(studentTQuantile(0.975, 1), 12.706204736174694, 1e-8, 't_0.975, df 1');
    close(studentTQuantile(0.995, 3), 5.840909309733355, 1e-8, 't_0.995, df 3');
    close(studentTCdf(-1.5, 7), 0.088649243494985, 1e-12, 'cdf(-1.5), df 7');
    close(studentTCdf(0.3, 30), 0.6168769473578236, 1e-12, 'cdf(0.3), df 30');
    close(studentTTwoSidedP(12, 2), 0.00687293367715846, 1e-13, 'p(|T| > 12), df 2');
    for (const t of [-20, -3, -0.7, 0, 0.4, 1, 2.5, 40]) {
      close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-13, `Cauchy cdf(${t})`);
      close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-13, `df 2 cdf(${t})`);
    }
    assert.equal(studentTCdf(0, 5), 0.5);
    assert.equal(studentTTwoSidedP(Infinity, 5), 0);
    assert.ok(Number.isNaN(studentTCdf(1, 0)));
    close(regularizedIncompleteBeta(0.3, 2, 3), 0.3483, 1e-13, 'I_0.3(2, 3) (binomial identity)');
    close(regularizedIncompleteBeta(0.42, 3.5, 0.5), 0.017102130257705, 1e-13, 'I_0.42(3.5, 0.5)');
    close(regularizedIncompleteBeta(0.9, 50, 2), 0.030922651243920716, 1e-13, 'I_0.9(50, 2)');
    close(logGamma(5), Math.log(24), 1e-13, 'ln Gamma(5)');
    close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-13, 'ln Gamma(1/2)');
  });

  it('paired t-test on hand data matches scipy.stats.ttest_rel, with the CI of the mean difference', () => {
    const a = [0.5, 0.6, 0.55, 0.7, 0.62];
    const b = [0.45, 0.5, 0.56, 0.6, 0.58];
    const test = pairedTTest(a, b);
    assert.ok(test.possible);
    assert.equal(test.n, 5);
    assert.equal(test.df, 4);
    close(test.meanDiff, 0.056, 1e-12, 'mean difference');
    close(test.t, 2.713208865424452, 1e-9, 't');
    close(test.p, 0.05335994671864079, 1e-9, 'p');
    close(test.ci95[0], -0.0013051812827366421, 1e-9, 'CI low');
    close(test.ci95[1], 0.11330518128273663, 1e-9, 'CI high');
    // Unadjusted (a family of one): p = 0.053 is higher but not significantly, and far from equivalent.
    const alone = (t: ReturnType<typeof pairedTTest>) => verdictOf(t, t.possible ? t.p : Number.NaN, equivalenceP(t, 0.02));
    close(equivalenceP(test, 0.02), 0.92196545830198, 1e-9, 'TOST p (scipy 1.17: max of the two one-sided t tests)');
    assert.equal(alone(test), 'inconclusive', 'p = 0.053: higher, but not significantly, and not equivalent');
    assert.equal(alone(pairedTTest(b, a)), 'inconclusive');
    const clear = pairedTTest([0.6, 0.62, 0.65, 0.61], [0.5, 0.5, 0.52, 0.5]);
    assert.ok(clear.possible && clear.p < 0.01);
    assert.equal(alone(clear), 'better');
    assert.equal(alone(pairedTTest([0.5, 0.5, 0.52, 0.5], [0.6, 0.62, 0.65, 0.61])), 'worse');
    // Within 2 points and tight: equivalent (TOST p 0.00035, scipy 1.17).
    const near = pairedTTest([0.5, 0.51, 0.52, 0.5, 0.49, 0.51], [0.5, 0.505, 0.515, 0.505, 0.495, 0.5]);
    close(equivalenceP(near, 0.02), 0.00035097743535868973, 1e-9, 'TOST p of a tight small difference');
    assert.equal(alone(near), 'equivalent');
    // Holm: the same p-values adjusted in a family of 4 (step-down, monotone), NaN left out of the family.
    assert.deepEqual(holmAdjust([0.01, 0.04, 0.03, 0.2]).map((p) => Math.round(p * 1e12) / 1e12), [0.04, 0.09, 0.09, 0.2]);
    assert.deepEqual(holmAdjust([0.02, Number.NaN, 0.5]).map((p) => (Number.isNaN(p) ? 'NaN' : Math.round(p * 1e12) / 1e12)), [0.04, 'NaN', 0.5]);
    // p = 0.02 is significant alone, not after Holm in a family of 3 (0.06): the verdict reads the adjusted p.
    assert.equal(verdictOf(clear, 0.02, 1), 'better');
    assert.equal(verdictOf(clear, holmAdjust([0.02, 0.3, 0.4])[0], 1), 'inconclusive');

    const one = pairedTTest([0.7], [0.5]);
    assert.equal(one.possible, false);
    assert.equal(alone(one), 'untestable');
    assert.match(one.possible ? '' : one.reason, /at least 2 pairs/);
    const same = pairedTTest([0.4, 0.5], [0.4, 0.5]);
    assert.ok(same.possible && same.p === 1 && same.t === 0 && /identical/.test(same.note ?? ''));
    assert.equal(alone(same), 'equivalent', 'identical pairs: zero variance inside the margin');
    const shifted = pairedTTest([0.5, 0.6, 0.7], [0.4, 0.5, 0.6]);
    assert.ok(shifted.possible && shifted.p === 0 && shifted.t === Infinity);
    assert.throws(() => pairedTTest([1, 2], [1]), /pairs must match/);
  });
});

// ---- synthetic study results ----

function synthetic(settings: StudySettings, finals: Record<string, number[]>): CellResult[] {
  return studyCells(settings).map((cell) => {
    const key = `${cell.arm}-G${cell.groupSize}`;
    const final = finals[key]?.[settings.seeds.indexOf(cell.seed)] ?? Number.NaN;
    const complete = Number.isFinite(final);
    const steps = Array.from({ length: settings.steps }, (_, i) => i + 1);
    return {
      name: cell.name,
      arm: cell.arm,
      label: cell.arm === 'durian-w1_0_0' ? 'durian w=(1, 0, 0)' : cell.arm,
      estimator: cell.estimator,
      groupSize: cell.groupSize,
      seed: cell.seed,
      variant: cell.variant,
      runDir: path.join('runs', cell.name),
      state: complete ? 'complete' : 'new',
      stepsDone: complete ? settings.steps : 0,
      validation: complete ? [{ step: 0, accuracy: 0.4 }, { step: settings.steps, accuracy: final }] : [],
      initialAccuracy: complete ? 0.4 : Number.NaN,
      finalAccuracy: final,
      stability: complete ? { fracExtremeMean: 0.01, fracExtremeGrpoMean: 0.05, gradNormMean: 1, gradNormVariance: 0.1, klMean: 0.001, klFinal: 0.002, zeroStdMean: 0.4 } : null,
      trainSeconds: complete ? 10 : Number.NaN,
      backends: complete ? ['wasm (CPU (wasm, SIMD, 1 thread))'] : [],
      series: complete ? { step: steps, fracExtreme: steps.map(() => 0.01), fracExtremeGrpo: steps.map(() => 0.05), gradNorm: steps.map((s) => 1 + s / 10), kl: steps.map((s) => s / 1000), reward: steps.map(() => 0.5), zeroStd: steps.map(() => 0.4) } : undefined,
    };
  });
}

const meta = {
  commands: ['node dist/cli.js study --seeds 4'],
  commit: 'abc',
  machine: { cpus: 'Test CPU', cpuCount: 2, platform: 'linux', node: 'v20', memoryGiB: 8 },
  wallSeconds: 3725,
  invocations: 1,
  createdAt: '2026-01-01T00:00:00Z',
  generatedAt: '2026-01-01T01:00:00Z',
};

describe('study verdicts and report (synthetic cells)', () => {
  const settings = parseStudyInvocation([
    '--estimators', 'durian,grpo,dr_grpo,rloo', '--seeds', '4', '--group-sizes', '4,8', '--steps', '10', '--sensitivity-weights', '1,0,0', '--sensitivity-bins', 'none',
  ]).settings;

  it('calls better, worse, inconclusive and untestable comparisons from the Holm-adjusted data, and says so in the report', () => {
    const finals: Record<string, number[]> = {
      'durian-G4': [0.6, 0.62, 0.65, 0.61],
      'grpo-G4': [0.5, 0.5, 0.52, 0.5], // durian clearly higher: better
      'dr_grpo-G4': [0.7, 0.72, 0.74, 0.71], // clearly lower: worse
      'rloo-G4': [0.55, 0.7, 0.6, 0.66], // mixed: inconclusive
      'durian-G8': [0.5, Number.NaN, Number.NaN, Number.NaN],
      'grpo-G8': [0.4, 0.41, 0.42, 0.43], // one paired seed: untestable
      'durian-w1_0_0-G8': [0.4, 0.41, Number.NaN, 0.43],
    };
    const cells = synthetic(settings, finals);
    const summary = summarizeStudy(settings, cells);
    const verdict = (against: string, g: number) => summary.durianVerdicts.find((c) => c.against === against && c.groupSize === g)?.verdict;
    assert.equal(verdict('grpo', 4), 'better');
    assert.equal(verdict('dr_grpo', 4), 'worse');
    assert.equal(verdict('rloo', 4), 'inconclusive');
    // Holm over the 3 testable comparisons (scipy 1.17's ttest_rel p-values 3.856e-4, 3.709e-5, 0.8384).
    const grpoG4 = summary.durianVerdicts.find((c) => c.against === 'grpo' && c.groupSize === 4)!;
    close(grpoG4.adjustedP, 2 * 0.0003856171515912938, 1e-9, 'Holm-adjusted p vs grpo (second smallest of 3: x2)');
    assert.equal(grpoG4.familySize, 3);
    assert.equal(verdict('grpo', 8), 'untestable');
    assert.equal(verdict('dr_grpo', 8), 'untestable', 'no finished dr_grpo cell at G 8');
    const w100 = summary.vsGrpo.find((c) => c.arm === 'durian-w1_0_0' && c.groupSize === 8);
    assert.ok(w100 && w100.test.possible && w100.test.p === 1 && w100.verdict === 'equivalent', 'identical to grpo on 3 paired seeds');
    assert.deepEqual(w100.seeds, [1, 2, 4]);
    const grpo4 = summary.arms.find((a) => a.arm === 'grpo' && a.groupSize === 4)!;
    assert.equal(grpo4.final.n, 4);
    close(grpo4.final.mean, 0.505, 1e-12, 'grpo G4 mean');
    close(grpo4.final.std, 0.01, 1e-12, 'grpo G4 std');

    const report = renderReport(settings, cells, summary, meta);
    const md = report.markdown;
    assert.match(md, /Incomplete: 24 of 36 cells finished/);
    assert.match(md, /vs grpo: \*\*better\*\* \(effect \+11\.5 points, 95% CI \[\+9\.4, \+13\.6\], p = 0\.0004 \(Holm 0\.0008\), equivalence within ±2 points p = [0-9.]+ \(Holm [0-9.]+\), n = 4\)/);
    assert.match(md, /vs dr_grpo: \*\*worse\*\*/);
    assert.match(md, /vs rloo: \*\*inconclusive\*\*/);
    assert.match(md, /vs grpo: untestable \(a paired test needs at least 2 pairs \(seeds\), got 1\)/);
    assert.match(md, /of 6 comparisons, Durian is better in 1 \(grpo \(G=4\)\), worse in 1 \(dr_grpo \(G=4\)\), equivalent within ±2 points in 0, and inconclusive in 1 \(rloo \(G=4\)\); 3 cannot be tested/);
    assert.match(md, /node dist\/cli\.js study --seeds 4/);
    assert.match(md, /Commit: `abc`/);
    assert.match(md, /2 × Test CPU/);
    assert.match(md, /wasm \(CPU \(wasm, SIMD, 1 thread\)\): 24 cells/);
    assert.match(md, /Total wall time: 1 h 2 min 5 s/);
    assert.match(md, /\\\|A\\\| > 2/, 'pipes in table cells are escaped');
    // Every table row has as many cells as its header.
    const tableLines = md.split('\n\n').filter((block) => block.startsWith('|')).map((block) => block.split('\n'));
    assert.ok(tableLines.length >= 4);
    for (const rows of tableLines) {
      const width = (row: string) => row.replace(/\\\|/g, '').split('|').length;
      for (const row of rows) assert.equal(width(row), width(rows[0]), row);
    }
    for (const plot of ['accuracy-G4.svg', 'accuracy-G8.svg', 'final-accuracy.svg', 'stability-G4.svg', 'stability-G8.svg', 'sensitivity.svg', 'sensitivity-curves.svg']) {
      assert.ok(report.plots[plot], `plot ${plot}`);
      assert.ok(md.includes(`(plots/${plot})`), `report links ${plot}`);
      assertWellFormedXml(report.plots[plot], plot);
    }
    const results = report.results as { cells: unknown[]; comparisons: { durianVerdicts: { verdict: string }[] } };
    assert.equal(results.cells.length, 36);
    assert.deepEqual(results.comparisons.durianVerdicts.map((c) => c.verdict), ['better', 'worse', 'inconclusive', 'untestable', 'untestable', 'untestable']);
  });

  it('counts the tally over every G and adjusts for the 6 comparisons', () => {
    const finals: Record<string, number[]> = {};
    for (const g of [4, 8]) {
      finals[`durian-G${g}`] = [0.5, 0.52, 0.54, 0.56];
      for (const e of ['grpo', 'dr_grpo', 'rloo']) finals[`${e}-G${g}`] = [0.5, 0.52, 0.54, 0.56];
      finals[`durian-w1_0_0-G${g}`] = finals[`grpo-G${g}`];
    }
    const cells = synthetic(settings, finals);
    const md = renderReport(settings, cells, summarizeStudy(settings, cells), meta).markdown;
    assert.match(md, /All 36 cells finished/);
    assert.match(md, /of 6 comparisons, Durian is better in 0, worse in 0, equivalent within ±2 points in 6 \(.*\), and inconclusive in 0\./);
    assert.match(md, /both Holm-adjusted over the 6 comparisons of this section/);
  });
});

describe('study SVG charts', () => {
  it('are well-formed, escape text, and draw a legend entry and colour per series', () => {
    const svg = lineChart({
      title: 'A <title> & "quotes"',
      xLabel: 'step',
      yLabel: 'accuracy',
      series: [
        { name: 'durian <&>', color: '#d62728', points: [{ x: 0, y: 0.3 }, { x: 10, y: 0.5 }], band: [{ x: 0, low: 0.2, high: 0.4 }, { x: 10, low: 0.45, high: 0.55 }] },
        { name: 'grpo', color: '#1f77b4', dash: '6 3', points: [{ x: 0, y: 0.3 }, { x: 5, y: Number.NaN }, { x: 10, y: 0.4 }] },
      ],
    });
    assertWellFormedXml(svg, 'line chart');
    assert.ok(svg.includes('A &lt;title&gt; &amp; &quot;quotes&quot;'));
    assert.ok(svg.includes('durian &lt;&amp;&gt;'));
    assert.ok(svg.includes('stroke="#d62728"') && svg.includes('stroke="#1f77b4"'));
    assert.ok(svg.includes('<polygon'), 'the band is drawn');
    assert.ok(!/NaN|Infinity|undefined/.test(svg), 'no non-finite coordinates');
    assert.ok(svg.includes('>step<') && svg.includes('>accuracy<'), 'axis labels');

    const empty = lineChart({ title: 'nothing', xLabel: 'x', yLabel: 'y', series: [] });
    assertWellFormedXml(empty, 'empty chart');
    const flat = lineChart({ title: 'flat', xLabel: 'x', yLabel: 'y', series: [{ name: 'c', color: '#000', points: [{ x: 3, y: 2 }] }] });
    assertWellFormedXml(flat, 'single point');
    assert.ok(!/NaN|Infinity/.test(flat));

    const dots = dotChart({
      title: 'dots',
      yLabel: 'acc',
      categories: ['G = 2', 'G = 8'],
      series: [
        { name: 'a', color: '#111', values: [{ mean: 0.5, low: 0.4, high: 0.6, points: [0.45, 0.55] }, { mean: Number.NaN }] },
        { name: 'b', color: '#222', values: [{ mean: 0.4 }, { mean: 0.6, low: 0.6, high: 0.6 }] },
      ],
    });
    assertWellFormedXml(dots, 'dot chart');
    assert.ok(!/NaN|Infinity/.test(dots));
    const stacked = stackCharts('both & more', [svg, dots]);
    assertWellFormedXml(stacked, 'stacked');
    assert.equal((stacked.match(/<svg/g) ?? []).length, 3);
    assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    const ticks = niceTicks(0, 1, 5);
    assert.equal(ticks.length, 6);
    ticks.forEach((t, i) => close(t, i * 0.2, 1e-12, `tick ${i}`));
    assert.deepEqual(niceTicks(0, 1000, 5), [0, 200, 400, 600, 800, 1000]);
  });
});

describe('durian study arguments', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [cli, 'study', ...args], { encoding: 'utf8', cwd: os.tmpdir() });

  it('prints usage with --help and refuses bad flags with the flag named', () => {
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /durian study \[--config FILE\]/);
    assert.match(help.stdout, /--sensitivity-weights/);
    const cases: [string[], RegExp][] = [
      [['--estimators', 'durian,ppo'], /--estimators: unknown estimator "ppo" \(allowed: grpo, dr_grpo, rloo, batch_std, durian\)/],
      [['--group-sizes', '1,4'], /--group-sizes: every G must be >= 2/],
      [['--group-sizes', '4,x'], /--group-sizes: must be a whole number, got "x"/],
      [['--seeds', '0'], /--seeds: must be between 1 and 1000, got 0/],
      [['--seeds', '1,1'], /--seeds: lists 1 twice/],
      [['--steps', '2.5'], /--steps: must be a whole number, got "2.5"/],
      [['--backend', 'gpu'], /--backend: must be one of "auto", "tfjs-node-gpu", "tfjs-node", "wasm", "cpu", got "gpu"/],
      [['--sensitivity', 'maybe'], /--sensitivity: must be on or off/],
      [['--estimators', 'grpo,rloo'], /--sensitivity: needs durian among --estimators/],
      [['--sensitivity-g', '3', '--group-sizes', '2,4'], /--sensitivity-g: must be one of --group-sizes \(2, 4\)/],
      [['--sensitivity-weights', '1,0'], /--sensitivity-weights: each entry must be three weights/],
      [['--sensitivity-bins', '70'], /--sensitivity-bins: 70 bins need at least 140 prompts per batch/],
      [['--sensitivity', 'off', '--sensitivity-bins', '4'], /--sensitivity-bins: has no effect with --sensitivity off/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const result = run(args);
      assert.equal(result.status, 2, `${args.join(' ')} exits 2 (${result.stderr})`);
      assert.match(result.stderr, message, args.join(' '));
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-study-args-'));
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ estimatorOptions: { weights: [1, 0, 0] } }));
    const own = run(['--config', path.join(dir, 'c.json')]);
    assert.equal(own.status, 2);
    assert.match(own.stderr, /estimatorOptions.*"weights".*only band/);
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ lr: 5 }));
    assert.match(run(['--config', path.join(dir, 'c.json')]).stderr, /--config \(config\.lr\): must be > 0 and <= 1, got 5/);
  });
});

// ---- the real thing ----

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

function startStudy(args: string[], env: NodeJS.ProcessEnv, onStdout?: (text: string, child: ChildProcessWithoutNullStreams) => void): Promise<Finished> {
  const child = spawn(process.execPath, [cli, 'study', ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    onStdout?.(stdout, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr })));
}

const readJsonl = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, number>);
/** Metrics that must repeat bit for bit (timings and throughput aside). */
const deterministic = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).filter(([key]) => !/^timing_s\/|^perf\/|^elapsedMs$/.test(key)));

describe('durian study end to end (real trainer, tiny grid)', { timeout: 600_000 }, () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'durian-study-'));
  const env = { ...process.env, DURIAN_CACHE_DIR: path.join(work, 'cache') };
  const dir = path.join(work, 'study');
  const configFile = path.join(work, 'config.json');
  // Small but real: the built-in tasks, the frozen encoder, a 10-step warm-up, B = 8 prompts.
  writeFileSync(configFile, JSON.stringify({ batchSize: 8, trainSize: 64, validationSize: 32, warmupSteps: 10, checkpointEvery: 2, validationEvery: 3 }));
  const args = ['--config', configFile, '--estimators', 'grpo,durian', '--seeds', '2', '--group-sizes', '4', '--steps', '6', '--sensitivity-weights', '1,0,0', '--sensitivity-bins', 'none', '--out', dir];
  const names = ['grpo-G4-s1', 'durian-G4-s1', 'durian-w1_0_0-G4-s1', 'grpo-G4-s2', 'durian-G4-s2', 'durian-w1_0_0-G4-s2'];
  const status = (name: string) => JSON.parse(readFileSync(path.join(dir, 'runs', name, 'status.json'), 'utf8')) as { state: string; step: number };

  it('stops cleanly on SIGINT with a partial report, then continues and completes every cell with the report, results and plots', async () => {
    let interrupted = false;
    const first = await startStudy(args, env, (stdout, child) => {
      if (!interrupted && /\[2\/6\] durian-G4-s1: started/.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    assert.equal(first.code, 130, first.stdout + first.stderr);
    assert.match(first.stdout, /6 cells of 6 steps — 0 finished \(skipped\), 0 to resume, 6 to start/);
    assert.match(first.stdout, /durian-G4-s1: stopped at step \d of 6/);
    assert.match(first.stdout, /re-run the same command to continue/);
    assert.equal(status('grpo-G4-s1').state, 'completed');
    assert.equal(status('durian-G4-s1').state, 'stopped');
    assert.ok(!existsSync(path.join(dir, 'runs', 'durian-w1_0_0-G4-s1')), 'no cell starts after the interrupt');
    assert.match(readFileSync(path.join(dir, 'report.md'), 'utf8'), /Incomplete: 1 of 6 cells finished/);

    const second = await startStudy(args, env);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /1 finished \(skipped\), 1 to resume, 4 to start/);
    assert.match(second.stdout, /\[1\/5\] durian-G4-s1: resumed from step \d/);
    assert.ok(!/grpo-G4-s1: (started|resumed)/.test(second.stdout), 'the finished cell is not run again');
    for (const name of names) assert.deepEqual(status(name), { ...status(name), state: 'completed', step: 6 }, name);

    const report = readFileSync(path.join(dir, 'report.md'), 'utf8');
    assert.match(report, /All 6 cells finished \(6 steps each\)/);
    assert.match(report, /## Verdict: Durian against each baseline/);
    assert.match(report, /\*\*In short\*\*: of 1 comparison, Durian is better in [01], worse in [01], equivalent within ±2 points in [01], and inconclusive in [01]/);
    assert.match(report, /--sensitivity-weights 1,0,0 --sensitivity-bins none --out/);
    assert.match(report, /Commit: `([0-9a-f]{40}|unknown)/);
    assert.match(report, /Backend \(from each run's meta\.json\): \S+ \(.*\): 6 cells/);
    assert.match(report, new RegExp(`${os.cpus().length} × `));
    assert.match(report, /Total wall time: .* over 2 invocations/);
    assert.match(report, /"batchSize": 8/);
    for (const name of names) assert.ok(report.includes(`[${name}](runs/${name})`), name);
    for (const plot of ['accuracy-G4.svg', 'final-accuracy.svg', 'stability-G4.svg', 'sensitivity.svg', 'sensitivity-curves.svg']) {
      const svg = readFileSync(path.join(dir, 'plots', plot), 'utf8');
      assertWellFormedXml(svg, plot);
      assert.ok(report.includes(`(plots/${plot})`), plot);
    }
    assert.match(readFileSync(path.join(dir, 'plots', 'accuracy-G4.svg'), 'utf8'), /grpo \(n=2\)[\s\S]*durian \(n=2\)/);

    const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    assert.equal(results.complete, 6);
    assert.deepEqual(results.cells.map((c: { name: string }) => c.name), names);
    for (const cell of results.cells) {
      assert.equal(cell.state, 'complete');
      assert.ok(cell.finalAccuracy >= 0 && cell.finalAccuracy <= 1, cell.name);
      assert.deepEqual(cell.validation.map((v: { step: number }) => v.step), [0, 3, 6], cell.name);
      assert.ok(Number.isFinite(cell.stability.gradNormVariance) && Number.isFinite(cell.stability.klMean), cell.name);
    }
    // The backend is the run folder's record (meta.json: one entry per start), not a line of trainer.log.
    const interruptedCell = results.cells.find((c: { name: string }) => c.name === 'durian-G4-s1');
    assert.equal(interruptedCell.backends.length, 2, 'the interrupted cell started twice: run and resume');
    assert.equal(results.comparisons.durianVerdicts.length, 1);
    assert.equal(results.comparisons.durianVerdicts[0].against, 'grpo');

    // Durian with weights (1, 0, 0) is GRPO's term alone: the same seed trains exactly like grpo, while
    // the default weights change the advantages (and so the run).
    for (const seed of [1, 2]) {
      const grpo = readJsonl(path.join(dir, 'runs', `grpo-G4-s${seed}`, 'metrics.jsonl')).map(deterministic);
      const w100 = readJsonl(path.join(dir, 'runs', `durian-w1_0_0-G4-s${seed}`, 'metrics.jsonl')).map(deterministic);
      const durian = readJsonl(path.join(dir, 'runs', `durian-G4-s${seed}`, 'metrics.jsonl')).map(deterministic);
      assert.deepEqual(w100, grpo, `seed ${seed}: durian (1, 0, 0) = grpo`);
      assert.notDeepEqual(durian.map((m) => m['actor/pg_loss']), grpo.map((m) => m['actor/pg_loss']), `seed ${seed}: durian differs from grpo`);
    }
    const configs = names.map((name) => JSON.parse(readFileSync(path.join(dir, 'runs', name, 'config.json'), 'utf8')));
    const shared = configs.map(({ estimator: _e, groupSize: _g, seed: _s, estimatorOptions: _o, ...rest }) => rest);
    for (const config of shared) assert.deepEqual(config, shared[0], 'every cell shares the config except estimator, G, seed and options');
    assert.deepEqual(configs[2].estimatorOptions.weights, [1, 0, 0]);
    assert.deepEqual(configs[1].estimatorOptions.weights, [0.1, 0.2, 0.7]);
  });

  it('skips every finished cell on a re-run and refuses other settings for the same folder', async () => {
    const mtimes = names.map((name) => statSync(path.join(dir, 'runs', name, 'metrics.jsonl')).mtimeMs);
    // A trainer.log that says nothing of the backend changes nothing: the report reads meta.json.
    writeFileSync(path.join(dir, 'runs', 'grpo-G4-s1', 'trainer.log'), '');
    const again = await startStudy(args, env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /6 finished \(skipped\), 0 to resume, 0 to start/);
    assert.match(readFileSync(path.join(dir, 'report.md'), 'utf8'), /Backend \(from each run's meta\.json\): \S+ \(.*\): 6 cells/);
    assert.ok(!/started|resumed/.test(again.stdout));
    assert.deepEqual(names.map((name) => statSync(path.join(dir, 'runs', name, 'metrics.jsonl')).mtimeMs), mtimes, 'no run directory changed');
    assert.match(readFileSync(path.join(dir, 'report.md'), 'utf8'), /over 3 invocations/);

    const otherSeeds = await startStudy(args.map((a) => (a === '2' ? '3' : a)), env);
    assert.equal(otherSeeds.code, 2);
    assert.match(otherSeeds.stderr, /holds a study with other settings[\s\S]*seeds: \[1,2\] in the study, \[1,2,3\] now/);
    const otherSteps = await startStudy(args.map((a) => (a === '6' ? '8' : a)), env);
    assert.equal(otherSteps.code, 2);
    assert.match(otherSteps.stderr, /steps: 6 in the study, 8 now/);
    assert.ok(!existsSync(path.join(dir, 'runs', 'grpo-G4-s3')));

    // Without study.json, each run directory's own config is checked against its cell.
    const moved = path.join(work, 'study.json.bak');
    writeFileSync(moved, readFileSync(path.join(dir, 'study.json')));
    rmSync(path.join(dir, 'study.json'));
    writeFileSync(path.join(work, 'lr.json'), JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), lr: 0.002 }));
    const otherConfig = await startStudy(args.map((a) => (a === configFile ? path.join(work, 'lr.json') : a)), env);
    assert.equal(otherConfig.code, 2);
    assert.match(otherConfig.stderr, new RegExp(`cell grpo-G4-s1 in .* was trained with another config:\n {2}- lr: ${String(defaultOf('lr')).replace('.', '\\.')} there, 0\\.002 now`));
    writeFileSync(path.join(dir, 'study.json'), readFileSync(moved));
  });

  it('continues a cell whose trainer was killed mid-run from its checkpoint, bit for bit', async () => {
    const name = 'grpo-G4-s2';
    const runDir = path.join(dir, 'runs', name);
    const reference = readJsonl(path.join(runDir, 'metrics.jsonl')).map(deterministic);
    const referenceValidation = readJsonl(path.join(runDir, 'validation.jsonl'));
    rmSync(runDir, { recursive: true });
    // The cell's own config file, started as the study starts it; SIGKILL after step 3. (A pause sent at
    // step 2 makes sure the run cannot reach its last step before the kill, however fast it is.)
    const child = spawn(process.execPath, [trainerBundle, '--config', path.join(dir, 'configs', `${name}.json`), '--out', runDir], { env });
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killed = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
          const parsed = parseEvent(JSON.parse(buffer.slice(0, newline)));
          buffer = buffer.slice(newline + 1);
          const event = parsed.ok ? (parsed.value as TrainerEvent) : null;
          if (event?.type === 'trainer/step' && event.step === 2) child.stdin.write(`${JSON.stringify({ type: 'control/pause', controlId: 'hold' })}\n`);
          if ((event?.type === 'trainer/step' && event.step >= 3) || event?.type === 'trainer/paused') child.kill('SIGKILL');
          if (event?.type === 'trainer/done') reject(new Error('the trainer finished before the kill'));
        }
      });
      child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`trainer ended without the kill: ${stderr.slice(-2000)}`))));
    });
    await killed;
    assert.match(status(name).state, /^(running|paused)$/, 'a killed trainer leaves its status with a dead pid');
    assert.ok(readdirSync(path.join(runDir, 'checkpoints')).includes('step-000002'));

    const resumed = await startStudy(args, env);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, /5 finished \(skipped\), 1 to resume, 0 to start/);
    assert.match(resumed.stdout, new RegExp(`\\[1/1\\] ${name}: resumed from step [2-9]`));
    assert.deepEqual(status(name), { ...status(name), state: 'completed', step: 6 });
    assert.deepEqual(readJsonl(path.join(runDir, 'metrics.jsonl')).map(deterministic), reference, 'the resumed cell repeats the uninterrupted one');
    assert.deepEqual(readJsonl(path.join(runDir, 'validation.jsonl')), referenceValidation);
    assert.match(readFileSync(path.join(dir, 'report.md'), 'utf8'), /All 6 cells finished/);
  });
});
