/**
 * The study's outputs: report.md (set-up, verdicts, tables, plots), plots/*.svg and results.json, all
 * rendered from the cells' files through `summarizeStudy`. Pure functions of their inputs (apart from
 * `writeReport`), so they are tested on synthetic results.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeBytesAtomic } from '../../trainer/run/atomic.js';
import { type ArmSummary, type CellResult, type Comparison, type StudySummary, sensitivityArms } from './results.js';
import type { StudySettings } from './settings.js';
import { EQUIVALENCE_MARGIN, type Summary, type Verdict, movingAverage } from './stats.js';
import { ESTIMATOR_COLORS, EXTRA_COLORS, type LineSeries, dotChart, lineChart, stackCharts } from './svg.js';

export interface StudyMeta {
  /** The command line of the invocation that created the study, then of each later one. */
  commands: string[];
  commit: string;
  machine: { cpus: string; cpuCount: number; platform: string; node: string; memoryGiB: number };
  /** Sum of the wall time of every invocation (training and set-up). */
  wallSeconds: number;
  invocations: number;
  createdAt: string;
  generatedAt: string;
}

export interface StudyReport {
  markdown: string;
  /** File name (under plots/) -> SVG text. */
  plots: Record<string, string>;
  results: unknown;
}

const ALPHA = 0.05;

function colorOf(arm: string, index = 0): string {
  return ESTIMATOR_COLORS[arm] ?? EXTRA_COLORS[index % EXTRA_COLORS.length];
}

function f3(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '–';
}

function pct(value: number): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)}` : '–';
}

function signedPoints(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const points = value * 100;
  return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(1)}`;
}

function sci(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 0.01 && magnitude < 1000 ? value.toPrecision(3) : value.toExponential(2);
}

function pValue(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p === 0) return '0';
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

function meanStd(s: Summary, format: (v: number) => string = f3): string {
  if (s.n === 0) return '–';
  return s.n < 2 ? format(s.mean) : `${format(s.mean)} ± ${format(s.std)}`;
}

function durationText(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min ${s % 60} s` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

function table(rows: string[][]): string {
  const [head, ...body] = rows;
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** The verdict of a comparison (better / worse / equivalent / inconclusive) with its effect, CI and p-values. */
export function comparisonText(c: Comparison): string {
  if (!c.test.possible) return `untestable (${c.test.reason})`;
  const t = c.test;
  const numbers =
    `effect ${signedPoints(t.meanDiff)} points, 95% CI [${signedPoints(t.ci95[0])}, ${signedPoints(t.ci95[1])}], ` +
    `p = ${pValue(t.p)} (Holm ${pValue(c.adjustedP)}), equivalence within ±${(c.margin * 100).toFixed(0)} points p = ${pValue(c.equivalenceP)} (Holm ${pValue(c.adjustedEquivalenceP)}), n = ${t.n}${t.note ? `; ${t.note}` : ''}`;
  return `**${c.verdict}** (${numbers})`;
}

function armName(summary: StudySummary, arm: string): string {
  return summary.arms.find((a) => a.arm === arm)?.label ?? arm;
}

/** The verdict section: Durian against each baseline at each G, and a one-line tally. */
function verdictSection(summary: StudySummary, settings: StudySettings): string[] {
  const lines: string[] = ['## Verdict: Durian against each baseline', ''];
  if (!settings.estimators.includes('durian')) return [...lines, 'Durian is not among the estimators of this study.', ''];
  if (summary.durianVerdicts.length === 0) return [...lines, 'No baseline has finished cells to compare with yet.', ''];
  lines.push(
    `Paired two-sided t-test on the final validation accuracy, pairs = the same seed and G (the same base policy, tasks and validation set), ` +
      `and a paired equivalence test (TOST) against a margin of ±${(EQUIVALENCE_MARGIN * 100).toFixed(0)} points; both Holm-adjusted over the ${summary.durianVerdicts.length} comparisons of this section. ` +
      `**better** / **worse**: Holm-adjusted p < ${ALPHA}, by the sign of the effect; **equivalent**: Holm-adjusted equivalence p < ${ALPHA}; ` +
      `otherwise **inconclusive** (no significant difference is not evidence of no difference). Below 2 paired seeds no test is possible.`,
    '',
  );
  const tally: Record<Verdict, string[]> = { better: [], worse: [], equivalent: [], inconclusive: [], untestable: [] };
  for (const groupSize of settings.groupSizes) {
    const rows = summary.durianVerdicts.filter((c) => c.groupSize === groupSize);
    if (rows.length === 0) continue;
    lines.push(`- **G = ${groupSize}**:`);
    for (const c of rows) {
      lines.push(`  - vs ${armName(summary, c.against)}: ${comparisonText(c)}`);
      tally[c.verdict].push(`${armName(summary, c.against)} (G=${groupSize})`);
    }
  }
  const total = summary.durianVerdicts.length;
  lines.push('');
  lines.push(
    `**In short**: of ${total} comparison${total === 1 ? '' : 's'}, Durian is better in ${tally.better.length}${tally.better.length ? ` (${tally.better.join(', ')})` : ''}, ` +
      `worse in ${tally.worse.length}${tally.worse.length ? ` (${tally.worse.join(', ')})` : ''}, equivalent within ±${(EQUIVALENCE_MARGIN * 100).toFixed(0)} points in ${tally.equivalent.length}${tally.equivalent.length ? ` (${tally.equivalent.join(', ')})` : ''}, ` +
      `and inconclusive in ${tally.inconclusive.length}${tally.inconclusive.length ? ` (${tally.inconclusive.join(', ')})` : ''}` +
      `${tally.untestable.length ? `; ${tally.untestable.length} cannot be tested (fewer than 2 paired seeds)` : ''}.`,
  );
  lines.push('');
  return lines;
}

function finalTable(summary: StudySummary, settings: StudySettings, arms: ArmSummary[]): string {
  const rows = [['estimator', 'G', 'n', 'initial', 'final: mean', 'std', 'min – max', 'Δ vs grpo (points)', '95% CI', 'p', 'vs grpo']];
  for (const arm of arms) {
    const c = summary.vsGrpo.find((x) => x.arm === arm.arm && x.groupSize === arm.groupSize);
    const t = c?.test;
    rows.push([
      arm.label,
      String(arm.groupSize),
      `${arm.final.n}${arm.final.n < arm.cells ? ` of ${arm.cells}` : ''}`,
      f3(arm.initial.mean),
      f3(arm.final.mean),
      f3(arm.final.std),
      arm.final.n ? `${f3(arm.final.min)} – ${f3(arm.final.max)}` : '–',
      arm.arm === 'grpo' ? '(baseline)' : t ? signedPoints(t.meanDiff) : '–',
      t && t.possible ? `[${signedPoints(t.ci95[0])}, ${signedPoints(t.ci95[1])}]` : '–',
      t && t.possible && c ? `${pValue(t.p)} (Holm ${pValue(c.adjustedP)})` : '–',
      arm.arm === 'grpo' ? '' : !c ? 'no grpo cells' : c.verdict === 'untestable' ? 'untestable (n < 2)' : c.verdict,
    ]);
  }
  void settings;
  return table(rows);
}

function stabilityTable(arms: ArmSummary[]): string {
  const rows = [['estimator', 'G', 'n', '|A| > 2, % of kept (same batches under grpo)', 'grad-norm variance', 'grad-norm mean', 'KL mean', 'KL, last 10% of steps', 'zero-std groups, %']];
  for (const arm of arms) {
    const s = arm.stability;
    rows.push([
      arm.label,
      String(arm.groupSize),
      String(s.fracExtreme.n),
      `${meanStd(s.fracExtreme, pct)} (${pct(s.fracExtremeGrpo.mean)})`,
      meanStd(s.gradNormVariance, sci),
      meanStd(s.gradNormMean, sci),
      meanStd(s.klMean, sci),
      meanStd(s.klFinal, sci),
      pct(s.zeroStd.mean),
    ]);
  }
  return table(rows);
}

function accuracyPlot(arms: ArmSummary[], groupSize: number, index: (arm: string) => number): string {
  const series: LineSeries[] = arms.map((arm) => ({
    name: `${arm.label} (n=${arm.final.n})`,
    color: colorOf(arm.arm, index(arm.arm)),
    points: arm.curve.map((p) => ({ x: p.step, y: p.mean })),
    band: arm.curve.filter((p) => p.n > 1).map((p) => ({ x: p.step, low: p.min, high: p.max })),
  }));
  return lineChart({
    title: `Validation accuracy, G = ${groupSize}`,
    subtitle: 'line: mean over seeds; band: min–max over seeds',
    xLabel: 'RL step',
    yLabel: 'held-out accuracy',
    series,
  });
}

function finalPlot(summary: StudySummary, settings: StudySettings): string {
  const mains = settings.estimators;
  return dotChart({
    title: 'Final validation accuracy by G',
    subtitle: 'dot: mean over seeds; bar: ± 1 std; faint dots: single seeds',
    yLabel: 'held-out accuracy',
    categories: settings.groupSizes.map((g) => `G = ${g}`),
    series: mains.map((estimator) => ({
      name: estimator,
      color: colorOf(estimator),
      values: settings.groupSizes.map((g) => {
        const arm = summary.arms.find((a) => a.arm === estimator && a.groupSize === g);
        if (!arm || arm.final.n === 0) return { mean: Number.NaN };
        const sd = Number.isFinite(arm.final.std) ? arm.final.std : 0;
        return { mean: arm.final.mean, low: arm.final.mean - sd, high: arm.final.mean + sd, points: Object.values(arm.finalBySeed) };
      }),
    })),
  });
}

function stabilityPlot(arms: ArmSummary[], groupSize: number, steps: number, index: (arm: string) => number): string {
  const window = Math.max(1, Math.round(steps / 25));
  const make = (key: 'fracExtreme' | 'gradNorm' | 'kl', title: string, yLabel: string, scale = 1) =>
    lineChart({
      title: `${title}, G = ${groupSize}`,
      subtitle: `mean over seeds, moving average over ${window} step${window === 1 ? '' : 's'}`,
      xLabel: 'RL step',
      yLabel,
      height: 300,
      series: arms
        .filter((a) => a.meanSeries)
        .map((arm) => {
          const m = arm.meanSeries!;
          const smooth = movingAverage(m[key], window);
          return { name: arm.label, color: colorOf(arm.arm, index(arm.arm)), points: m.step.map((step, i) => ({ x: step, y: smooth[i] * scale })) };
        }),
    });
  return stackCharts(`Stability, G = ${groupSize}`, [
    make('fracExtreme', 'Share of extreme advantages |A| > 2', '% of kept rollouts', 100),
    make('gradNorm', 'Gradient norm (actor/grad_norm, before clipping)', 'grad norm'),
    make('kl', 'KL to the base policy (actor/kl_loss, k3)', 'KL'),
  ]);
}

function sensitivityPlots(settings: StudySettings, summary: StudySummary): { dots: string; curves: string } | null {
  const entries = sensitivityArms(settings, summary);
  if (entries.length === 0) return null;
  const g = settings.sensitivity.groupSize;
  const grpo = summary.arms.find((a) => a.arm === 'grpo' && a.groupSize === g);
  const categories = [...(grpo ? ['grpo'] : []), ...entries.map((e) => (e.isDefault ? 'durian (default)' : e.label.replace(/^durian /, '')))];
  const values = [...(grpo ? [grpo] : []), ...entries.map((e) => e.arm)].map((arm) => {
    if (!arm || arm.final.n === 0) return { mean: Number.NaN };
    const sd = Number.isFinite(arm.final.std) ? arm.final.std : 0;
    return { mean: arm.final.mean, low: arm.final.mean - sd, high: arm.final.mean + sd, points: Object.values(arm.finalBySeed) };
  });
  const dots = dotChart({
    title: `Durian sensitivity (G = ${g}): final validation accuracy`,
    subtitle: 'dot: mean over seeds; bar: ± 1 std; faint dots: single seeds',
    yLabel: 'held-out accuracy',
    categories,
    width: Math.max(760, 150 + categories.length * 95),
    series: [
      ...(grpo ? [{ name: 'grpo', color: colorOf('grpo'), values: values.map((v, i) => (i === 0 ? v : { mean: Number.NaN })) }] : []),
      { name: 'durian variants', color: colorOf('durian'), values: values.map((v, i) => (grpo && i === 0 ? { mean: Number.NaN } : v)) },
    ],
  });
  const curveArms = [...(grpo ? [{ label: 'grpo', arm: grpo as ArmSummary | undefined }] : []), ...entries.map((e) => ({ label: e.isDefault ? 'durian (default)' : e.label, arm: e.arm }))];
  const curves = lineChart({
    title: `Durian sensitivity (G = ${g}): validation accuracy`,
    subtitle: 'mean over seeds',
    xLabel: 'RL step',
    yLabel: 'held-out accuracy',
    series: curveArms
      .filter((e) => e.arm)
      .map((e, i) => ({
        name: e.label,
        color: e.label === 'grpo' ? colorOf('grpo') : e.label === 'durian (default)' ? colorOf('durian') : EXTRA_COLORS[i % EXTRA_COLORS.length],
        dash: e.label === 'grpo' || e.label === 'durian (default)' ? undefined : '6 3',
        points: e.arm!.curve.map((p) => ({ x: p.step, y: p.mean })),
      })),
  });
  return { dots, curves };
}

function sensitivitySection(settings: StudySettings, summary: StudySummary): string[] {
  const entries = sensitivityArms(settings, summary);
  if (entries.length === 0) return [];
  const g = settings.sensitivity.groupSize;
  const rows = [['variant', 'n', 'final: mean ± std', 'Δ vs grpo (points)', 'p', 'vs grpo', 'Δ vs durian default (points)', 'p', 'vs durian default']];
  for (const entry of entries) {
    const arm = entry.arm;
    const c1 = arm ? summary.vsGrpo.find((c) => c.arm === arm.arm && c.groupSize === g) : undefined;
    const c2 = arm && !entry.isDefault ? summary.vsDurianDefault.find((c) => c.arm === arm.arm && c.groupSize === g) : undefined;
    const cells = (c?: Comparison) => (!c ? ['–', '–', '–'] : [signedPoints(c.test.meanDiff), c.test.possible ? `${pValue(c.test.p)} (Holm ${pValue(c.adjustedP)})` : '–', c.verdict === 'untestable' ? 'untestable (n < 2)' : c.verdict]);
    rows.push([entry.label, String(arm?.final.n ?? 0), arm ? meanStd(arm.final) : '–', ...cells(c1), ...(entry.isDefault ? ['(reference)', '', ''] : cells(c2))]);
  }
  return [
    `## Sensitivity of Durian (G = ${g}, the same seeds)`,
    '',
    'Weights (a_ori, a_perc, a_reas) and reasoning bins b around the defaults; w = (1, 0, 0) is GRPO\'s own-std term alone, ' +
      'so it must train exactly like grpo (same seeds: identical runs). b is capped by the batch (each bin holds >= minPromptsPerBin prompts).',
    '',
    table(rows),
    '',
    '![sensitivity](plots/sensitivity.svg)',
    '',
    '![sensitivity curves](plots/sensitivity-curves.svg)',
    '',
  ];
}

function backendsLine(cells: CellResult[]): string {
  const counts = new Map<string, number>();
  for (const cell of cells) for (const b of new Set(cell.backends)) counts.set(b, (counts.get(b) ?? 0) + 1);
  const mixed = cells.filter((c) => new Set(c.backends).size > 1).map((c) => c.name);
  const text = [...counts.entries()].map(([b, n]) => `${b}: ${n} cell${n === 1 ? '' : 's'}`).join('; ') || 'unknown (no meta.json yet: no cell has started)';
  return `${text}${mixed.length ? ` — **mixed backends within ${mixed.join(', ')}** (a resume on another backend is not bit-exact)` : ''}`;
}

export function renderReport(settings: StudySettings, cells: CellResult[], summary: StudySummary, meta: StudyMeta): StudyReport {
  const plots: Record<string, string> = {};
  const order = new Map<string, number>();
  const index = (arm: string) => {
    if (!order.has(arm)) order.set(arm, order.size);
    return order.get(arm)!;
  };
  const mainArms = (g: number) => settings.estimators.map((e) => summary.arms.find((a) => a.arm === e && a.groupSize === g)).filter((a): a is ArmSummary => a !== undefined);

  const lines: string[] = ['# Durian study', ''];
  const missing = cells.filter((c) => c.state !== 'complete');
  if (missing.length === 0) lines.push(`All ${cells.length} cells finished (${settings.steps} steps each).`, '');
  else {
    lines.push(
      `**Incomplete: ${summary.complete} of ${summary.total} cells finished.** Statistics below use finished cells only; re-run the same command to continue ` +
        `(${missing.filter((c) => c.state === 'partial').length} partial, resumed from their checkpoints; ${missing.filter((c) => c.state === 'new').length} not started).`,
      '',
    );
  }

  lines.push(...verdictSection(summary, settings));

  lines.push('## Set-up', '');
  lines.push('```', ...meta.commands.map((c, i) => (i === 0 ? c : `${c}    # re-run ${i}`)), '```', '');
  lines.push(
    `- Commit: \`${meta.commit}\``,
    `- Machine: ${meta.machine.cpuCount} × ${meta.machine.cpus}, ${meta.machine.memoryGiB} GiB, ${meta.machine.platform}, Node ${meta.machine.node}`,
    `- Backend (from each run's meta.json): ${backendsLine(cells)}`,
    `- Total wall time: ${durationText(meta.wallSeconds)} over ${meta.invocations} invocation${meta.invocations === 1 ? '' : 's'} (training time of the cells alone: ${durationText(cells.reduce((t, c) => t + (Number.isFinite(c.trainSeconds) ? c.trainSeconds : 0), 0))})`,
    `- Grid: estimators ${settings.estimators.join(', ')}; G ${settings.groupSizes.join(', ')}; seeds ${settings.seeds.join(', ')}; ${settings.steps} steps per cell` +
      (settings.sensitivity.enabled
        ? `; sensitivity at G = ${settings.sensitivity.groupSize}: weights ${settings.sensitivity.weights.map((w) => `(${w.join(', ')})`).join(' ') || 'none'}, b ${settings.sensitivity.reasoningBins.join(', ') || 'none'}`
        : '; no sensitivity sweep'),
    `- ${cells.length} cells, each a run directory \`runs/<cell>\`; every cell has the same config except estimator, G (groupSize), seed and the one Durian option a sensitivity cell varies. Nothing is tuned per estimator.`,
    `- Validation: ${settings.config.validationSize} held-out prompts every ${settings.config.validationEvery} steps (binomial standard error of one accuracy ≈ ${pct(Math.sqrt(0.25 / settings.config.validationSize))} points at 50%).`,
    '',
    'Trainer config shared by every cell:',
    '',
    '```json',
    JSON.stringify({ ...settings.config, estimatorOptions: settings.commonEstimatorOptions }, null, 2),
    '```',
    '',
  );

  lines.push('## Validation accuracy over steps', '');
  for (const g of settings.groupSizes) {
    const arms = mainArms(g);
    if (arms.every((a) => a.curve.length === 0)) continue;
    const file = `accuracy-G${g}.svg`;
    plots[file] = accuracyPlot(arms, g, index);
    lines.push(`![validation accuracy G=${g}](plots/${file})`, '');
  }

  lines.push('## Final validation accuracy', '');
  lines.push(
    `Accuracy on the held-out set at step ${settings.steps}; std over seeds (n − 1); Δ = paired mean difference to grpo at the same G and seeds, ` +
      `with its 95% t confidence interval and two-sided p-value (Student t CDF through the regularized incomplete beta).`,
    '',
  );
  plots['final-accuracy.svg'] = finalPlot(summary, settings);
  lines.push(finalTable(summary, settings, settings.groupSizes.flatMap(mainArms)), '', '![final accuracy](plots/final-accuracy.svg)', '');

  lines.push('## Stability', '');
  lines.push(
    'Per cell over its steps, then mean ± std over seeds: the share of kept rollouts whose advantage has |A| > 2 (`critic/advantages/frac_abs_gt_2`; in brackets the same batches under GRPO, ' +
      '`critic/advantages_grpo/frac_abs_gt_2`), the variance and mean of the gradient norm (`actor/grad_norm`), the KL to the base policy (`actor/kl_loss`), and the share of all-same groups (`frac_reward_zero_std`).',
    '',
    stabilityTable(settings.groupSizes.flatMap(mainArms)),
    '',
  );
  for (const g of settings.groupSizes) {
    const arms = mainArms(g).filter((a) => a.meanSeries);
    if (arms.length === 0) continue;
    const file = `stability-G${g}.svg`;
    plots[file] = stabilityPlot(arms, g, settings.steps, index);
    lines.push(`![stability G=${g}](plots/${file})`, '');
  }

  const sensitivity = sensitivityPlots(settings, summary);
  if (sensitivity) {
    plots['sensitivity.svg'] = sensitivity.dots;
    plots['sensitivity-curves.svg'] = sensitivity.curves;
    lines.push(...sensitivitySection(settings, summary));
  }

  lines.push('## Cells', '');
  const rows = [['cell', 'state', 'steps', 'initial', 'final', 'train time (s)', 'backend']];
  for (const cell of cells) {
    rows.push([
      `[${cell.name}](${cell.runDir.split(path.sep).join('/')})`,
      cell.state,
      `${cell.stepsDone}/${settings.steps}`,
      f3(cell.initialAccuracy),
      f3(cell.finalAccuracy),
      Number.isFinite(cell.trainSeconds) ? cell.trainSeconds.toFixed(1) : '–',
      [...new Set(cell.backends)].join(', ') || '–',
    ]);
  }
  lines.push(table(rows), '');
  lines.push(`Generated ${meta.generatedAt} by \`durian study\`; machine-readable numbers in results.json.`, '');

  const results = {
    format: 'durian-study/1',
    generatedAt: meta.generatedAt,
    commands: meta.commands,
    commit: meta.commit,
    machine: meta.machine,
    wallSeconds: meta.wallSeconds,
    invocations: meta.invocations,
    settings,
    complete: summary.complete,
    total: summary.total,
    cells: cells.map(({ series: _series, ...cell }) => cell),
    arms: summary.arms.map(({ meanSeries: _m, ...arm }) => arm),
    comparisons: { vsGrpo: summary.vsGrpo, durianVerdicts: summary.durianVerdicts, vsDurianDefault: summary.vsDurianDefault },
  };
  return { markdown: `${lines.join('\n')}\n`, plots, results };
}

/** JSON with non-finite numbers as null (JSON has no NaN). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

export function writeReport(studyDir: string, report: StudyReport): void {
  mkdirSync(path.join(studyDir, 'plots'), { recursive: true });
  for (const [name, svg] of Object.entries(report.plots)) writeBytesAtomic(path.join(studyDir, 'plots', name), svg);
  writeBytesAtomic(path.join(studyDir, 'results.json'), toJson(report.results));
  writeBytesAtomic(path.join(studyDir, 'report.md'), report.markdown);
}
