/**
 * Reading a study's cells from their run directories (metrics.jsonl, validation.jsonl, status.json,
 * config.json, meta.json: the protocol's run-folder module) and aggregating them: per arm and G the validation curves and final
 * accuracies over seeds, stability statistics, and paired tests against GRPO and between Durian and
 * every baseline. Everything here is computed from the files; nothing is assumed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, METRIC, METRICS_FILE, METRICS_LINE_FIELDS, type RunStatus, VALIDATION_FILE, parseJsonlText, readRunBackends, readRunStatusRecord } from '../../protocol/index.js';
import { NODE_RUN_FOLDER } from '../../trainer/run/nodeRunFolder.js';
import { type CellSpec, type StudySettings, type Variant, armLabel, durianDefaults, sensitivityVariants, studyCells } from './settings.js';
import { EQUIVALENCE_MARGIN, type PairedTest, type Summary, type Verdict, equivalenceP, holmAdjust, pairedTTest, sampleVariance, summarize, verdictOf } from './stats.js';


export type CellState = 'complete' | 'partial' | 'new';

export interface StepSeries {
  step: number[];
  fracExtreme: number[];
  fracExtremeGrpo: number[];
  gradNorm: number[];
  kl: number[];
  reward: number[];
  zeroStd: number[];
}

export interface CellStability {
  /** Mean over steps of the fraction of kept advantages with |A| > 2 (the cell's estimator). */
  fracExtremeMean: number;
  /** The same for GRPO's advantages of the same batches (computed by the trainer for comparison). */
  fracExtremeGrpoMean: number;
  gradNormMean: number;
  /** Sample variance of actor/grad_norm over the steps. */
  gradNormVariance: number;
  klMean: number;
  /** Mean KL over the last 10% of steps. */
  klFinal: number;
  zeroStdMean: number;
}

export interface CellResult {
  name: string;
  arm: string;
  label: string;
  estimator: string;
  groupSize: number;
  seed: number;
  variant: Variant;
  /** Relative to the study folder. */
  runDir: string;
  state: CellState;
  /** Last finished step recorded in status.json (0 if none). */
  stepsDone: number;
  validation: { step: number; accuracy: number }[];
  initialAccuracy: number;
  /** Validation accuracy at the requested last step (NaN unless complete). */
  finalAccuracy: number;
  stability: CellStability | null;
  /** Training time of the run (metrics' elapsedMs at the last step; set-up not included). */
  trainSeconds: number;
  /** The backend of each start of the trainer on the run (its meta.json), oldest first. */
  backends: string[];
  series?: StepSeries;
}

/** The records of a run's JSONL file that carry a step (a torn last line is not read). */
function readJsonlFile(file: string): Record<string, unknown>[] {
  return parseJsonlText(NODE_RUN_FOLDER.readText(file) ?? '').records.filter(
    (value): value is Record<string, unknown> => value !== null && typeof value === 'object' && typeof (value as { step?: unknown }).step === 'number',
  );
}

/** By step, the last record wins (a run restarted from step 0 repeats its step-0 validation). */
function lastPerStep(records: Record<string, unknown>[]): Map<number, Record<string, unknown>> {
  const byStep = new Map<number, Record<string, unknown>>();
  for (const record of records) byStep.set(record.step as number, record);
  return new Map([...byStep.entries()].sort((a, b) => a[0] - b[0]));
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
}

export function readStatus(runDir: string): RunStatus | null {
  return readRunStatusRecord(NODE_RUN_FOLDER, runDir);
}

/** complete: status completed at exactly `steps` with its final validation; new: no config.json yet; else partial. */
export function cellState(runDir: string, steps: number): CellState {
  if (!existsSync(path.join(runDir, CONFIG_FILE))) return 'new';
  const status = readStatus(runDir);
  if (status && status.state === 'completed' && status.step === steps) {
    const validation = readJsonlFile(path.join(runDir, VALIDATION_FILE));
    if (validation.some((v) => v.step === steps)) return 'complete';
  }
  return 'partial';
}

function mean(values: number[]): number {
  return summarize(values).mean;
}

function readCell(studyDir: string, cell: CellSpec, steps: number, withSeries = true): CellResult {
  const runDir = path.join(studyDir, 'runs', cell.name);
  const state = cellState(runDir, steps);
  const status = readStatus(runDir);
  const validation = [...lastPerStep(readJsonlFile(path.join(runDir, VALIDATION_FILE))).values()].map((v) => ({ step: v.step as number, accuracy: num(v.accuracy) }));
  const metrics = [...lastPerStep(readJsonlFile(path.join(runDir, METRICS_FILE))).values()].filter((m) => (m.step as number) <= steps);
  const column = (key: string) => metrics.map((m) => num(m[key]));
  const series: StepSeries = {
    step: metrics.map((m) => m.step as number),
    fracExtreme: column(METRIC.advantagesFracExtreme),
    fracExtremeGrpo: column(METRIC.advantagesGrpoFracExtreme),
    gradNorm: column(METRIC.gradNorm),
    kl: column(METRIC.klLoss),
    reward: column(METRIC.rewardMean),
    zeroStd: column(METRIC.fracRewardZeroStd),
  };
  const tail = Math.max(1, Math.ceil(metrics.length / 10));
  const stability: CellStability | null =
    metrics.length === 0
      ? null
      : {
          fracExtremeMean: mean(series.fracExtreme),
          fracExtremeGrpoMean: mean(series.fracExtremeGrpo),
          gradNormMean: mean(series.gradNorm),
          gradNormVariance: sampleVariance(series.gradNorm),
          klMean: mean(series.kl),
          klFinal: mean(series.kl.slice(-tail)),
          zeroStdMean: mean(series.zeroStd),
        };
  const at = (step: number) => validation.find((v) => v.step === step)?.accuracy ?? Number.NaN;
  const last = metrics[metrics.length - 1];
  return {
    name: cell.name,
    arm: cell.arm,
    label: armLabel(cell.estimator, cell.variant),
    estimator: cell.estimator,
    groupSize: cell.groupSize,
    seed: cell.seed,
    variant: cell.variant,
    runDir: path.join('runs', cell.name),
    state,
    stepsDone: status?.step ?? 0,
    validation,
    initialAccuracy: at(0),
    finalAccuracy: state === 'complete' ? at(steps) : Number.NaN,
    stability: state === 'complete' ? stability : null,
    trainSeconds: last ? num(last[METRICS_LINE_FIELDS.elapsedMs]) / 1000 : Number.NaN,
    backends: readRunBackends(NODE_RUN_FOLDER, runDir),
    ...(withSeries ? { series } : {}),
  };
}

export function readCells(studyDir: string, settings: StudySettings): CellResult[] {
  return studyCells(settings).map((cell) => readCell(studyDir, cell, settings.steps));
}

// ---- aggregation ----

export interface CurvePoint {
  step: number;
  n: number;
  mean: number;
  min: number;
  max: number;
  std: number;
}

export interface Comparison {
  /** The arm compared (a) and the one it is compared against (b), at one G, paired by seed. */
  arm: string;
  against: string;
  groupSize: number;
  seeds: number[];
  test: PairedTest;
  /** TOST p-value of |difference| < margin (fraction of accuracy), before the family's adjustment. */
  equivalenceP: number;
  margin: number;
  /** Holm-adjusted p-values over the comparison's family (see summarizeStudy); NaN when untestable. */
  adjustedP: number;
  adjustedEquivalenceP: number;
  /** How many testable comparisons the family held when adjusted. */
  familySize: number;
  verdict: Verdict;
}

export interface ArmSummary {
  arm: string;
  label: string;
  estimator: string;
  variant: Variant;
  groupSize: number;
  /** Seeds with a complete cell. */
  seeds: number[];
  cells: number;
  final: Summary;
  finalBySeed: Record<number, number>;
  initial: Summary;
  curve: CurvePoint[];
  stability: {
    fracExtreme: Summary;
    fracExtremeGrpo: Summary;
    gradNormVariance: Summary;
    gradNormMean: Summary;
    klMean: Summary;
    klFinal: Summary;
    zeroStd: Summary;
  };
  /** Mean over seeds of the per-step series (complete cells), for the stability plots. */
  meanSeries?: { step: number[]; fracExtreme: number[]; gradNorm: number[]; kl: number[] };
}

export interface StudySummary {
  arms: ArmSummary[];
  /** Every arm against grpo at the same G (paired by seed). */
  vsGrpo: Comparison[];
  /** Durian (defaults) against every other estimator at every G. */
  durianVerdicts: Comparison[];
  /** Sensitivity arms against Durian's default cell at the sweep's G. */
  vsDurianDefault: Comparison[];
  complete: number;
  total: number;
}

/** One paired comparison, unadjusted: `adjustFamily` sets the Holm-adjusted p-values and the verdict. */
export function compare(a: ArmSummary, b: ArmSummary, margin = EQUIVALENCE_MARGIN): Comparison {
  const seeds = a.seeds.filter((s) => b.seeds.includes(s));
  const test = pairedTTest(
    seeds.map((s) => a.finalBySeed[s]),
    seeds.map((s) => b.finalBySeed[s]),
  );
  return { arm: a.arm, against: b.arm, groupSize: a.groupSize, seeds, test, equivalenceP: equivalenceP(test, margin), margin, adjustedP: Number.NaN, adjustedEquivalenceP: Number.NaN, familySize: 0, verdict: 'untestable' };
}

/**
 * Holm over one family of comparisons (the difference tests and, separately, the equivalence tests), then
 * each comparison's verdict from its adjusted p-values.
 */
export function adjustFamily(family: Comparison[], alpha = 0.05): Comparison[] {
  const raw = family.map((c) => (c.test.possible ? c.test.p : Number.NaN));
  const adjusted = holmAdjust(raw);
  const adjustedEquivalence = holmAdjust(family.map((c) => c.equivalenceP));
  const size = raw.filter(Number.isFinite).length;
  return family.map((c, i) => ({ ...c, adjustedP: adjusted[i], adjustedEquivalenceP: adjustedEquivalence[i], familySize: size, verdict: verdictOf(c.test, adjusted[i], adjustedEquivalence[i], alpha) }));
}

function meanSeries(cells: CellResult[]): ArmSummary['meanSeries'] {
  const withSeries = cells.filter((c) => c.series && c.series.step.length > 0);
  if (withSeries.length === 0) return undefined;
  const steps = [...new Set(withSeries.flatMap((c) => c.series!.step))].sort((a, b) => a - b);
  const lookup = withSeries.map((c) => new Map(c.series!.step.map((s, i) => [s, i])));
  const average = (key: 'fracExtreme' | 'gradNorm' | 'kl') =>
    steps.map((step) => mean(withSeries.flatMap((c, k) => (lookup[k].has(step) ? [c.series![key][lookup[k].get(step)!]] : []))));
  return { step: steps, fracExtreme: average('fracExtreme'), gradNorm: average('gradNorm'), kl: average('kl') };
}

function summarizeArm(cells: CellResult[]): ArmSummary {
  const first = cells[0];
  const complete = cells.filter((c) => c.state === 'complete');
  const steps = [...new Set(complete.flatMap((c) => c.validation.map((v) => v.step)))].sort((a, b) => a - b);
  const curve = steps.map((step) => {
    const values = complete.flatMap((c) => c.validation.filter((v) => v.step === step).map((v) => v.accuracy));
    const s = summarize(values);
    return { step, n: s.n, mean: s.mean, min: s.min, max: s.max, std: s.std };
  });
  const stat = (pick: (s: CellStability) => number) => summarize(complete.map((c) => (c.stability ? pick(c.stability) : Number.NaN)));
  return {
    arm: first.arm,
    label: first.label,
    estimator: first.estimator,
    variant: first.variant,
    groupSize: first.groupSize,
    seeds: complete.map((c) => c.seed),
    cells: cells.length,
    final: summarize(complete.map((c) => c.finalAccuracy)),
    finalBySeed: Object.fromEntries(complete.map((c) => [c.seed, c.finalAccuracy])),
    initial: summarize(complete.map((c) => c.initialAccuracy)),
    curve,
    stability: {
      fracExtreme: stat((s) => s.fracExtremeMean),
      fracExtremeGrpo: stat((s) => s.fracExtremeGrpoMean),
      gradNormVariance: stat((s) => s.gradNormVariance),
      gradNormMean: stat((s) => s.gradNormMean),
      klMean: stat((s) => s.klMean),
      klFinal: stat((s) => s.klFinal),
      zeroStd: stat((s) => s.zeroStdMean),
    },
    meanSeries: meanSeries(complete),
  };
}

/** Arms in a stable order: the estimators as listed, then the sensitivity variants; by G. */
export function summarizeStudy(settings: StudySettings, cells: CellResult[], alpha = 0.05): StudySummary {
  const byKey = new Map<string, CellResult[]>();
  for (const cell of cells) {
    const key = `${cell.arm}|${cell.groupSize}`;
    byKey.set(key, [...(byKey.get(key) ?? []), cell]);
  }
  const arms = [...byKey.values()].map((group) => summarizeArm(group));
  const find = (arm: string, groupSize: number) => arms.find((a) => a.arm === arm && a.groupSize === groupSize);
  const vsGrpo: Comparison[] = [];
  const durianVerdicts: Comparison[] = [];
  const vsDurianDefault: Comparison[] = [];
  for (const arm of arms) {
    const grpo = find('grpo', arm.groupSize);
    if (grpo && arm.arm !== 'grpo') vsGrpo.push(compare(arm, grpo));
    if (arm.variant.kind !== 'main') {
      const durian = find('durian', arm.groupSize);
      if (durian) vsDurianDefault.push(compare(arm, durian));
    }
  }
  for (const groupSize of settings.groupSizes) {
    const durian = find('durian', groupSize);
    if (!durian) continue;
    for (const estimator of settings.estimators) {
      const other = find(estimator, groupSize);
      if (other && estimator !== 'durian') durianVerdicts.push(compare(durian, other));
    }
  }
  // Three families, each Holm-adjusted on its own: Durian against the baselines (the study's question), every
  // arm against grpo, and the sensitivity variants against Durian's default.
  return {
    arms,
    vsGrpo: adjustFamily(vsGrpo, alpha),
    durianVerdicts: adjustFamily(durianVerdicts, alpha),
    vsDurianDefault: adjustFamily(vsDurianDefault, alpha),
    complete: cells.filter((c) => c.state === 'complete').length, total: cells.length };
}

/** The sensitivity arms in sweep order, with Durian's default point first. */
export function sensitivityArms(settings: StudySettings, summary: StudySummary): { label: string; arm: ArmSummary | undefined; isDefault: boolean }[] {
  if (!settings.sensitivity.enabled) return [];
  const g = settings.sensitivity.groupSize;
  const defaults = durianDefaults();
  const find = (arm: string) => summary.arms.find((a) => a.arm === arm && a.groupSize === g);
  return [
    { label: `durian (defaults: w=(${defaults.weights.join(', ')}), b=${defaults.reasoningBins})`, arm: find('durian'), isDefault: true },
    ...sensitivityVariants(settings).map((variant) => {
      const arm = summary.arms.find((a) => a.groupSize === g && JSON.stringify(a.variant) === JSON.stringify(variant));
      return { label: armLabel('durian', variant), arm, isDefault: false };
    }),
  ];
}
