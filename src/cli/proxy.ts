/**
 * `durian proxy`: is the difficulty Durian normalises by real for a policy, and does visual entropy track it?
 * For the base policy of a kind (or a run's base and final policy: `--run DIR` / `--checkpoint DIR`), greedy
 * answers to n validation tasks of the built-in suite give:
 * 1. held-out accuracy by perceptual level x reasoning level (with marginals and the level 0 - level 3 gaps);
 * 2. Spearman's rank correlation between each image's visual entropy and the generator's perceptual level
 *    (the level is ground truth: it changes only how the scene is drawn, never what is asked);
 * 3. accuracy by visual-entropy bucket and by confidence bucket, and the paper's Appendix B tables: wrong
 *    answers split by entropy bucket (q25 / q75 over the n tasks) into perceptual and reasoning errors, and by
 *    confidence bucket likewise;
 * 4. issue 14's difficulty targets (gaps of >= 15 / 15 / 10 / 15 points), met or not.
 *
 * Error types, operationally (the gold template states the counts it uses: `3 + 2 = 5`, `3 > 2 yes`):
 * - perceptual: the counts the response states (or, for a counting question, its answer, which is the count)
 *   differ from the true counts in the image;
 * - reasoning: the stated counts are right but the arithmetic / comparison / final answer is wrong;
 * - unattributed: the response states no counts for a multi-step question (a bare answer), states the wrong
 *   number of them, or is malformed: which step failed cannot be told.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DurianInputError, PERCEPTUAL_BUCKETS, type PerceptualBucket, mean, perceptualBuckets, spearman } from '../core/index.js';
import { POLICY_KINDS, SUITE_CHOICES, type SuiteChoice, defaultOf } from '../protocol/index.js';
import { withLegacyRunSettings } from '../trainer/args.js';
import { selectBackend } from '../trainer/backend/index.js';
import { loadOrBuildBasePolicy } from '../trainer/basePolicy.js';
import { BuiltInTasks } from '../trainer/builtInTasks.js';
import { type TrainConfig, parseTrainConfig } from '../trainer/config.js';
import { savedDataset } from '../trainer/datasetTasksRun.js';
import { loadEncoder } from '../trainer/encoder/index.js';
import { responseTokens } from '../trainer/evaluate.js';
import { decodeCheckpoint } from '../trainer/loop/state.js';
import { policyFactory } from '../trainer/policy/kinds.js';
import type { Policy, PolicyArrays } from '../trainer/policy/policy.js';
import { writeBytesAtomic } from '../trainer/run/atomic.js';
import { findLatestCheckpoint, loadCheckpoint } from '../trainer/run/checkpoints.js';
import { CHECKPOINTS_DIR, CONFIG_FILE, stepOfName } from '../trainer/run/layout.js';
import { type Task, evaluateProgram, parseResponse } from '../trainer/tasks/index.js';
import { ProgressBar, formatTable } from './progress.js';
import { defaultCacheDir } from './score.js';
import { suiteFlag } from './suiteFlag.js';

const PROXY_HELP = `durian proxy [--run DIR | --checkpoint DIR] [--policy counting|general] [--suite ${SUITE_CHOICES.join('|')}] [--n 2000] [--seed S] [--out FILE] [--cache-dir DIR]

Greedy answers of a policy to n validation tasks of the built-in suite: held-out accuracy by perceptual level x
reasoning level (marginals, level 0 - level 3 gaps), accuracy by visual-entropy bucket (low < q25 <= mid <= q75
< high) and by confidence bucket, the paper's Appendix-B tables (wrong answers split into perceptual errors:
stated counts differ from the true counts, and reasoning errors: counts right, answer wrong), Spearman's rank
correlation of visual entropy with the perceptual level, and issue 14's difficulty targets.

  --run DIR         a run folder: its base policy (from the cache, as training builds it, by the run's policy
                    kind, seed and warm-up steps) and its final policy (the latest intact checkpoint)
  --checkpoint DIR  one checkpoint folder (DIR/checkpoints/step-N) of a run: that run's base policy and this one
  --policy KIND     without a run: the base policy of this kind (default ${defaultOf('policy')}); with one: must match it
  --suite V         without a run: the built-in suite version of the tasks and the base policy (default v1);
                    with one: must match the run's (a run is measured on the suite it trains on)
  --n N             validation tasks (default 2000)
  --seed S          without a run: the seed of tasks and base policy (default 1); with one: the run's
  --out FILE        everything as JSON (per policy, with each task's record)
  --cache-dir DIR   base-policy and feature cache (default $DURIAN_CACHE_DIR or ~/.cache/durian-rl)`;

export type ErrorType = 'perceptual' | 'reasoning' | 'unattributed';

/** Classifies a wrong answer (see the file comment); null when the answer is right. */
function classifyError(task: Pick<Task, 'program' | 'objects' | 'answer'>, tokens: ArrayLike<number>): ErrorType | null {
  const parsed = parseResponse(tokens);
  if (parsed.finalAnswer === task.answer) return null;
  if (parsed.form === null || parsed.finalAnswer === null) return 'unattributed';
  const { termCounts } = evaluateProgram(task.program, task.objects);
  if (task.program.kind === 'count') {
    // The answer of a counting question is the count itself.
    return parsed.form === 'bare' ? 'perceptual' : 'unattributed';
  }
  if (parsed.form === 'bare' || parsed.statedCounts.length !== termCounts.length) return 'unattributed';
  const countsRight = parsed.statedCounts.every((count, k) => count === termCounts[k]);
  return countsRight ? 'reasoning' : 'perceptual';
}

export interface ProxyTaskRecord {
  id: string;
  perceptualLevel: number;
  reasoningLevel: number;
  entropy: number;
  /** Greedy response's mean token log-prob. */
  confidence: number;
  correct: boolean;
  error: ErrorType | null;
  response: number[];
}

export interface BucketRow {
  bucket: PerceptualBucket;
  tasks: number;
  accuracy: number;
  wrong: number;
  /** Shares of the bucket's wrong answers. */
  perceptualShare: number;
  reasoningShare: number;
  unattributedShare: number;
  /** Errors per task of the bucket. */
  perceptualRate: number;
  reasoningRate: number;
  meanEntropy: number;
  meanConfidence: number;
  meanPerceptualLevel: number;
}

export interface ProxyReport {
  n: number;
  seed: number;
  encoder: string;
  policy: ProxyPolicyLabel;
  spearmanEntropyVsPerceptualLevel: number;
  spearmanEntropyVsReasoningLevel: number;
  spearmanConfidenceVsReasoningLevel: number;
  accuracy: number;
  perLevel: { level: number; tasks: number; meanEntropy: number; accuracy: number; perceptualErrorRate: number; reasoningErrorRate: number }[];
  byEntropy: BucketRow[];
  byConfidence: BucketRow[];
  /**
   * As byEntropy, counting only multi-step questions (reasoning level > 0): a counting question's wrong
   * answer is a perceptual error by definition, so byEntropy's perceptual share is partly by construction.
   */
  byEntropyMultiStep: BucketRow[];
  errors: Record<ErrorType, number>;
  levels: LevelAccuracy;
  targets: DifficultyTarget[];
}

/** Which policy a report is of. */
export interface ProxyPolicyLabel {
  /** 'base' or 'final'. */
  role: 'base' | 'final';
  kind: string;
  parameters: number;
  /** RL step of a checkpoint (0 for the base policy). */
  step: number;
  /** The base policy's supervised warm-up. */
  warmup?: { steps: number; checkAccuracy: number; cached: boolean };
}

export interface LevelCell {
  tasks: number;
  /** null when no task has these levels. */
  accuracy: number | null;
}

/** Held-out accuracy by perceptual level (rows) x reasoning level (columns), 0..3 each. */
export interface LevelAccuracy {
  grid: LevelCell[][];
  byPerceptual: LevelCell[];
  byReasoning: LevelCell[];
  /** Accuracy at perceptual level 0 minus level 3: marginal, and at each reasoning level. */
  perceptualGap: { marginal: number | null; atReasoningLevel: (number | null)[] };
  /** Accuracy at reasoning level 0 minus level 3: marginal, and at each perceptual level. */
  reasoningGap: { marginal: number | null; atPerceptualLevel: (number | null)[] };
}

/** One of issue 14's difficulty targets, from the report's numbers. */
export interface DifficultyTarget {
  name: string;
  value: number | null;
  atLeast: number;
  met: boolean;
}

const LEVELS = [0, 1, 2, 3];

function cell(members: readonly ProxyTaskRecord[]): LevelCell {
  return { tasks: members.length, accuracy: members.length === 0 ? null : members.filter((r) => r.correct).length / members.length };
}

const gap = (a: LevelCell, b: LevelCell): number | null => (a.accuracy === null || b.accuracy === null ? null : a.accuracy - b.accuracy);

function levelAccuracy(records: readonly ProxyTaskRecord[]): LevelAccuracy {
  const grid = LEVELS.map((p) => LEVELS.map((q) => cell(records.filter((r) => r.perceptualLevel === p && r.reasoningLevel === q))));
  const byPerceptual = LEVELS.map((p) => cell(records.filter((r) => r.perceptualLevel === p)));
  const byReasoning = LEVELS.map((q) => cell(records.filter((r) => r.reasoningLevel === q)));
  return {
    grid,
    byPerceptual,
    byReasoning,
    perceptualGap: { marginal: gap(byPerceptual[0], byPerceptual[3]), atReasoningLevel: LEVELS.map((q) => gap(grid[0][q], grid[3][q])) },
    reasoningGap: { marginal: gap(byReasoning[0], byReasoning[3]), atPerceptualLevel: LEVELS.map((p) => gap(grid[p][0], grid[p][3])) },
  };
}

/** The smallest of the gaps at fixed levels of the other knob (the issue asks for the gap at a fixed level). */
const smallest = (gaps: (number | null)[]): number | null => {
  const known = gaps.filter((g): g is number => g !== null);
  return known.length === 0 ? null : Math.min(...known);
};

function difficultyTargets(levels: LevelAccuracy, byEntropy: BucketRow[], byConfidence: BucketRow[]): DifficultyTarget[] {
  const target = (name: string, value: number | null, atLeast: number): DifficultyTarget => ({ name, value, atLeast, met: value !== null && value >= atLeast - 1e-12 });
  const bucketGap = (rows: BucketRow[], from: PerceptualBucket, to: PerceptualBucket) => {
    const a = rows.find((r) => r.bucket === from);
    const b = rows.find((r) => r.bucket === to);
    return a && b && a.tasks > 0 && b.tasks > 0 ? a.accuracy - b.accuracy : null;
  };
  return [
    target('accuracy, perceptual level 0 - 3 (smallest over reasoning levels)', smallest(levels.perceptualGap.atReasoningLevel), 0.15),
    target('accuracy, reasoning level 0 - 3 (smallest over perceptual levels)', smallest(levels.reasoningGap.atPerceptualLevel), 0.15),
    target('accuracy, low - high visual-entropy bucket', bucketGap(byEntropy, 'low', 'high'), 0.1),
    target('accuracy, highest - lowest confidence bucket', bucketGap(byConfidence, 'high', 'low'), 0.15),
  ];
}

/** Rows per bucket (edges over all records); `only` restricts the counted records (e.g. multi-step questions). */
function bucketRows(records: readonly ProxyTaskRecord[], score: (r: ProxyTaskRecord) => number, only: (r: ProxyTaskRecord) => boolean = () => true): BucketRow[] {
  const buckets = perceptualBuckets(records.map(score));
  return PERCEPTUAL_BUCKETS.map((bucket, b) => {
    const members = records.filter((r, k) => buckets[k] === b && only(r));
    const wrong = members.filter((r) => !r.correct);
    const count = (type: ErrorType) => wrong.filter((r) => r.error === type).length;
    const share = (type: ErrorType) => (wrong.length === 0 ? 0 : count(type) / wrong.length);
    const rate = (type: ErrorType) => (members.length === 0 ? 0 : count(type) / members.length);
    return {
      bucket,
      tasks: members.length,
      accuracy: members.length === 0 ? 0 : (members.length - wrong.length) / members.length,
      wrong: wrong.length,
      perceptualShare: share('perceptual'),
      reasoningShare: share('reasoning'),
      unattributedShare: share('unattributed'),
      perceptualRate: rate('perceptual'),
      reasoningRate: rate('reasoning'),
      meanEntropy: mean(members.map((r) => r.entropy)),
      meanConfidence: mean(members.map((r) => r.confidence)),
      meanPerceptualLevel: mean(members.map((r) => r.perceptualLevel)),
    };
  });
}

/** The numbers of the report from per-task records (pure; tested without a policy). */
export function proxyReport(records: readonly ProxyTaskRecord[], meta: Pick<ProxyReport, 'n' | 'seed' | 'encoder' | 'policy'>): ProxyReport {
  const errors: Record<ErrorType, number> = { perceptual: 0, reasoning: 0, unattributed: 0 };
  for (const r of records) if (r.error) errors[r.error]++;
  const perLevel = [0, 1, 2, 3].map((level) => {
    const members = records.filter((r) => r.perceptualLevel === level);
    const n = Math.max(1, members.length);
    return {
      level,
      tasks: members.length,
      meanEntropy: mean(members.map((r) => r.entropy)),
      accuracy: members.filter((r) => r.correct).length / n,
      perceptualErrorRate: members.filter((r) => r.error === 'perceptual').length / n,
      reasoningErrorRate: members.filter((r) => r.error === 'reasoning').length / n,
    };
  });
  const levels = levelAccuracy(records);
  const byEntropy = bucketRows(records, (r) => r.entropy);
  const byConfidence = bucketRows(records, (r) => r.confidence);
  return {
    ...meta,
    spearmanEntropyVsPerceptualLevel: spearman(records.map((r) => r.entropy), records.map((r) => r.perceptualLevel)),
    spearmanEntropyVsReasoningLevel: spearman(records.map((r) => r.entropy), records.map((r) => r.reasoningLevel)),
    spearmanConfidenceVsReasoningLevel: spearman(records.map((r) => r.confidence), records.map((r) => r.reasoningLevel)),
    accuracy: records.filter((r) => r.correct).length / Math.max(1, records.length),
    perLevel,
    byEntropy,
    byConfidence,
    byEntropyMultiStep: bucketRows(records, (r) => r.entropy, (r) => r.reasoningLevel > 0),
    errors,
    levels,
    targets: difficultyTargets(levels, byEntropy, byConfidence),
  };
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

const points = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}`);
const cellText = (c: LevelCell) => (c.accuracy === null ? '-' : `${percent(c.accuracy)} (${c.tasks})`);

function levelTable(levels: LevelAccuracy): string {
  return formatTable([
    ['perceptual \\ reasoning', ...LEVELS.map((q) => `r${q}`), 'all', 'gap r0-r3 (points)'],
    ...LEVELS.map((p) => [`p${p}`, ...levels.grid[p].map(cellText), cellText(levels.byPerceptual[p]), points(levels.reasoningGap.atPerceptualLevel[p])]),
    ['all', ...levels.byReasoning.map(cellText), '', points(levels.reasoningGap.marginal)],
    ['gap p0-p3 (points)', ...levels.perceptualGap.atReasoningLevel.map(points), points(levels.perceptualGap.marginal), ''],
  ]);
}

/** Everything a report prints, under a heading naming the policy. */
export function proxyTables(report: ProxyReport): string[] {
  const bucketTable = (rows: BucketRow[], score: 'entropy' | 'confidence') =>
    formatTable([
      [`${score} bucket`, 'tasks', `mean ${score}`, 'mean perc. level', 'accuracy', 'wrong', 'perceptual', 'reasoning', 'unattributed'],
      ...rows.map((r) => [r.bucket, r.tasks, score === 'entropy' ? r.meanEntropy : r.meanConfidence, r.meanPerceptualLevel, percent(r.accuracy), r.wrong, percent(r.perceptualShare), percent(r.reasoningShare), percent(r.unattributedShare)]),
    ]);
  const { policy } = report;
  const warmup = policy.warmup ? `, ${policy.warmup.steps} warm-up steps (${policy.warmup.cached ? 'cached' : 'built now'}, check accuracy ${percent(policy.warmup.checkAccuracy)})` : '';
  return [
    `== ${policy.role} policy: ${policy.kind}, ${policy.parameters} parameters, step ${policy.step}${warmup} ==`,
    `greedy accuracy ${percent(report.accuracy)} on ${report.n} validation tasks; wrong answers: ${report.errors.perceptual} perceptual, ${report.errors.reasoning} reasoning, ${report.errors.unattributed} unattributed`,
    '',
    'held-out accuracy (tasks) by perceptual level (rows) x reasoning level (columns)',
    levelTable(report.levels),
    '',
    `visual entropy vs perceptual level: Spearman ${report.spearmanEntropyVsPerceptualLevel.toFixed(3)} over ${report.n} validation tasks (vs reasoning level: ${report.spearmanEntropyVsReasoningLevel.toFixed(3)})`,
    `greedy confidence vs reasoning level: Spearman ${report.spearmanConfidenceVsReasoningLevel.toFixed(3)}`,
    '',
    formatTable([
      ['perceptual level', 'tasks', 'mean entropy', 'accuracy', 'perceptual errors / task', 'reasoning errors / task'],
      ...report.perLevel.map((l) => [l.level, l.tasks, l.meanEntropy, percent(l.accuracy), percent(l.perceptualErrorRate), percent(l.reasoningErrorRate)]),
    ]),
    '',
    'share of wrong answers by entropy bucket (paper, Appendix B: perceptual share rises from low to high entropy)',
    bucketTable(report.byEntropy, 'entropy'),
    '',
    'the same, multi-step questions only (reasoning level 1-3; a wrong count answer is perceptual by definition)',
    bucketTable(report.byEntropyMultiStep, 'entropy'),
    '',
    'share of wrong answers by confidence bucket (paper: reasoning share falls from low to high confidence)',
    bucketTable(report.byConfidence, 'confidence'),
    '',
    'difficulty targets (issue 14)',
    formatTable([['gap', 'points', 'target', 'met'], ...report.targets.map((t) => [t.name, points(t.value), `>= ${(100 * t.atLeast).toFixed(0)}`, t.met ? 'yes' : 'NO'])]),
  ];
}

/** The policy proxy evaluates: its weights and what it is. */
interface ProxyPolicy {
  label: ProxyPolicyLabel;
  weights: PolicyArrays;
}

/** What `--run` / `--checkpoint` name: the run's settings and the checkpoint of its final policy. */
interface RunTarget {
  dir: string;
  config: TrainConfig;
  checkpoint: { step: number; weights: PolicyArrays };
}

function readRunConfig(runDir: string): TrainConfig {
  const file = path.join(runDir, CONFIG_FILE);
  if (!existsSync(file)) throw new DurianInputError(runDir, `is not a run folder (no ${CONFIG_FILE}); pass the folder \`durian train --out\` made`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DurianInputError(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  // A run made before the policy and suite settings existed trained the counting policy on suite v1.
  const config = parseTrainConfig(raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? withLegacyRunSettings(raw as Record<string, unknown>) : raw);
  if (savedDataset(runDir)) throw new DurianInputError(runDir, 'trained on a dataset; durian proxy measures the built-in suite only (its levels and error classes are the suite\'s)');
  return config;
}

/** The run and checkpoint named by --run (latest intact checkpoint) or --checkpoint (that one). */
function openRunTarget(values: { run?: string; checkpoint?: string }): RunTarget {
  if (values.run !== undefined && values.checkpoint !== undefined) throw new DurianInputError('--run / --checkpoint', 'give one of them, not both');
  const checkpointDir = values.checkpoint === undefined ? undefined : path.resolve(values.checkpoint);
  const step = checkpointDir === undefined ? undefined : stepOfName(path.basename(checkpointDir));
  if (checkpointDir !== undefined && (step === undefined || path.basename(path.dirname(checkpointDir)) !== CHECKPOINTS_DIR)) {
    throw new DurianInputError('--checkpoint', `must be a checkpoint folder RUN/${CHECKPOINTS_DIR}/step-NNNNNN, got ${JSON.stringify(values.checkpoint)}`);
  }
  const dir = checkpointDir === undefined ? path.resolve(values.run as string) : path.dirname(path.dirname(checkpointDir));
  const config = readRunConfig(dir);
  const checkpointsDir = path.join(dir, CHECKPOINTS_DIR);
  const decode = (loaded: Parameters<typeof decodeCheckpoint>[0]) => decodeCheckpoint(loaded, config);
  if (step !== undefined) {
    try {
      const decoded = decode(loadCheckpoint(checkpointsDir, step));
      return { dir, config, checkpoint: { step, weights: decoded.weights } };
    } catch (error) {
      throw new DurianInputError('--checkpoint', `${values.checkpoint} cannot be loaded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const { found, skipped } = findLatestCheckpoint(checkpointsDir, decode);
  if (!found) throw new DurianInputError(dir, `has no intact checkpoint to take the final policy from${skipped.length ? ` (${skipped.join('; ')})` : ''}`);
  return { dir, config, checkpoint: { step: found.step, weights: found.decoded.weights } };
}

/** Greedy answers of the policy to the first n validation tasks, one record each. */
async function proxyRecords(policy: Policy, source: BuiltInTasks, n: number, label: string): Promise<ProxyTaskRecord[]> {
  const { pool } = source;
  const progress = new ProgressBar({ total: n, label });
  const records: ProxyTaskRecord[] = [];
  const chunk = 256;
  for (let start = 0; start < n; start += chunk) {
    const indices = Array.from({ length: Math.min(chunk, n - start) }, (_, k) => start + k);
    const prompts = await pool.get('validation', indices);
    const result = await policy.sample(pool.inputs(prompts), { random: () => 0, greedy: true });
    prompts.forEach((prompt, s) => {
      const tokens = Array.from(responseTokens(result.responses, result.responseLength, result.lengths[s], s));
      records.push({
        id: prompt.task.id,
        perceptualLevel: prompt.task.perceptualLevel,
        reasoningLevel: prompt.task.reasoningLevel,
        entropy: prompt.visualEntropy,
        confidence: result.sequenceLogprobs[s],
        correct: parseResponse(tokens).finalAnswer === prompt.task.answer,
        error: classifyError(prompt.task, tokens),
        response: tokens,
      });
    });
    if (records.length < n) progress.update(records.length);
  }
  progress.finish();
  return records;
}

export async function runProxy(argv: string[], print: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      run: { type: 'string' }, checkpoint: { type: 'string' }, policy: { type: 'string' }, suite: { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' },
      out: { type: 'string' }, 'cache-dir': { type: 'string' }, help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return print(PROXY_HELP), 0;
  const n = values.n === undefined ? 2000 : Number(values.n);
  if (!Number.isInteger(n) || n < 8) throw new DurianInputError('--n', `must be a whole number >= 8, got ${JSON.stringify(values.n)}`);
  if (values.policy !== undefined && !(POLICY_KINDS as readonly string[]).includes(values.policy)) {
    throw new DurianInputError('--policy', `must be one of ${POLICY_KINDS.join(', ')}, got ${JSON.stringify(values.policy)}`);
  }
  const askedSuite = suiteFlag(values.suite);
  const run = values.run !== undefined || values.checkpoint !== undefined ? openRunTarget(values) : null;
  if (run && values.seed !== undefined) throw new DurianInputError('--seed', `is the run's own (${run.config.seed}) with --run / --checkpoint; leave it out`);
  if (run && values.policy !== undefined && values.policy !== run.config.policy) {
    throw new DurianInputError('--policy', `is ${values.policy}, but the run ${run.dir} trains the ${run.config.policy} policy`);
  }
  const seed = run ? run.config.seed : values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new DurianInputError('--seed', `must be a whole number >= 0, got ${JSON.stringify(values.seed)}`);
  if (run && values.suite !== undefined && values.suite !== run.config.suite) {
    throw new DurianInputError('--suite', `is ${values.suite}, but the run ${run.dir} trains on suite ${run.config.suite}`);
  }
  const kind = run ? run.config.policy : values.policy ?? (defaultOf('policy') as string);
  const suite: SuiteChoice = run ? run.config.suite : askedSuite;
  const cacheDir = values['cache-dir'] ? path.resolve(values['cache-dir']) : defaultCacheDir();

  await selectBackend({ backend: 'auto' });
  const encoder = await loadEncoder(run?.config.encoderPath || undefined);
  const source = new BuiltInTasks(seed, encoder, { cacheDirectory: path.join(cacheDir, 'features'), trainSize: 1, validationSize: n, suite });
  let warmupBar: ProgressBar | null = null;
  const base = await loadOrBuildBasePolicy({
    kind, source, seed, cacheDir,
    ...(run ? { warmup: { maxSteps: run.config.warmupSteps } } : {}),
    onProgress: (step, maxSteps, accuracy) => {
      warmupBar ??= new ProgressBar({ total: maxSteps, label: 'base policy warm-up' });
      warmupBar.update(step, accuracy === null ? {} : { 'check acc': accuracy });
    },
  });
  (warmupBar as ProgressBar | null)?.finish();

  const factory = policyFactory(kind);
  const policies: ProxyPolicy[] = [{ label: { role: 'base', kind, parameters: 0, step: 0, warmup: { steps: base.steps, checkAccuracy: base.checkAccuracy, cached: base.cached } }, weights: base.weights }];
  if (run) policies.push({ label: { role: 'final', kind, parameters: 0, step: run.checkpoint.step }, weights: run.checkpoint.weights });
  print(run
    ? `run ${run.dir}: ${kind} policy, suite ${suite}, seed ${seed}; base policy and the checkpoint of step ${run.checkpoint.step}`
    : `${kind} base policy, suite ${suite}, seed ${seed}`);
  const reports: (ProxyReport & { tasks: ProxyTaskRecord[] })[] = [];
  for (const { label, weights } of policies) {
    const policy = await factory.create(source.shape, { seed, weights });
    try {
      label.parameters = policy.describe().parameters;
      const records = await proxyRecords(policy, source, n, `proxy ${label.role}`);
      const report = proxyReport(records, { n, seed, encoder: `${encoder.metadata.name} (${encoder.id.slice(0, 12)})`, policy: label });
      print('');
      for (const line of proxyTables(report)) print(line);
      reports.push({ ...report, tasks: records });
    } finally {
      await policy.dispose();
    }
  }
  if (values.out) {
    writeBytesAtomic(path.resolve(values.out), `${JSON.stringify({ run: run?.dir ?? null, kind, suite, seed, n, policies: reports }, null, 1)}\n`);
    print(`\nwrote ${values.out}`);
  }
  return 0;
}
