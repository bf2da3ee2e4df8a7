/**
 * `durian proxy`: does visual entropy track perceptual difficulty? On n validation tasks of the built-in suite:
 * 1. Spearman's rank correlation between each image's visual entropy and the generator's perceptual level
 *    (the level is ground truth: it changes only how the scene is drawn, never what is asked);
 * 2. the paper's Appendix B check: the base policy (greedy) answers every task; wrong answers are split by
 *    entropy bucket (q25 / q75 over the n tasks) into perceptual and reasoning errors, and by confidence
 *    bucket likewise.
 *
 * Error types, operationally (the gold template states the counts it uses: `3 + 2 = 5`, `3 > 2 yes`):
 * - perceptual: the counts the response states (or, for a counting question, its answer, which is the count)
 *   differ from the true counts in the image;
 * - reasoning: the stated counts are right but the arithmetic / comparison / final answer is wrong;
 * - unattributed: the response states no counts for a multi-step question (a bare answer), states the wrong
 *   number of them, or is malformed: which step failed cannot be told.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DurianInputError, PERCEPTUAL_BUCKETS, type PerceptualBucket, mean, perceptualBuckets, spearman } from '../core/index.js';
import { selectBackend } from '../trainer/backend/index.js';
import { loadOrBuildBasePolicy } from '../trainer/basePolicy.js';
import { loadEncoder } from '../trainer/encoder/index.js';
import { responseTokens } from '../trainer/evaluate.js';
import { PolicySampler } from '../trainer/policy/index.js';
import { builtInPolicyConfig } from '../trainer/policyIo.js';
import { writeBytesAtomic } from '../trainer/run/atomic.js';
import { TaskPool } from '../trainer/taskPool.js';
import { type Task, evaluateProgram, parseResponse } from '../trainer/tasks/index.js';
import { ProgressBar, formatTable } from './progress.js';
import { defaultCacheDir } from './score.js';

const PROXY_HELP = `durian proxy [--n 2000] [--seed 1] [--out FILE] [--cache-dir DIR]

On n validation tasks of the built-in suite: Spearman's rank correlation between visual entropy and the
generator's perceptual level (0..3), and the base policy's (greedy) wrong answers split into perceptual
errors (stated counts differ from the true counts) and reasoning errors (counts right, answer wrong) by
entropy bucket (low < q25 <= mid <= q75 < high) and by confidence bucket. The base policy is built once and
cached as in training (same seed -> same policy). --out writes everything as JSON.`;

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
  basePolicy: { steps: number; checkAccuracy: number; cached: boolean };
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
function proxyReport(records: readonly ProxyTaskRecord[], meta: Pick<ProxyReport, 'n' | 'seed' | 'encoder' | 'basePolicy'>): ProxyReport {
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
  return {
    ...meta,
    spearmanEntropyVsPerceptualLevel: spearman(records.map((r) => r.entropy), records.map((r) => r.perceptualLevel)),
    spearmanEntropyVsReasoningLevel: spearman(records.map((r) => r.entropy), records.map((r) => r.reasoningLevel)),
    spearmanConfidenceVsReasoningLevel: spearman(records.map((r) => r.confidence), records.map((r) => r.reasoningLevel)),
    accuracy: records.filter((r) => r.correct).length / Math.max(1, records.length),
    perLevel,
    byEntropy: bucketRows(records, (r) => r.entropy),
    byConfidence: bucketRows(records, (r) => r.confidence),
    byEntropyMultiStep: bucketRows(records, (r) => r.entropy, (r) => r.reasoningLevel > 0),
    errors,
  };
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

function proxyTables(report: ProxyReport): string[] {
  const bucketTable = (rows: BucketRow[], score: 'entropy' | 'confidence') =>
    formatTable([
      [`${score} bucket`, 'tasks', `mean ${score}`, 'mean perc. level', 'accuracy', 'wrong', 'perceptual', 'reasoning', 'unattributed'],
      ...rows.map((r) => [r.bucket, r.tasks, score === 'entropy' ? r.meanEntropy : r.meanConfidence, r.meanPerceptualLevel, percent(r.accuracy), r.wrong, percent(r.perceptualShare), percent(r.reasoningShare), percent(r.unattributedShare)]),
    ]);
  return [
    `visual entropy vs perceptual level: Spearman ${report.spearmanEntropyVsPerceptualLevel.toFixed(3)} over ${report.n} validation tasks (vs reasoning level: ${report.spearmanEntropyVsReasoningLevel.toFixed(3)})`,
    `greedy confidence vs reasoning level: Spearman ${report.spearmanConfidenceVsReasoningLevel.toFixed(3)}`,
    `base policy: ${report.basePolicy.steps} warm-up steps (${report.basePolicy.cached ? 'cached' : 'built now'}), greedy accuracy ${percent(report.accuracy)}; wrong answers: ${report.errors.perceptual} perceptual, ${report.errors.reasoning} reasoning, ${report.errors.unattributed} unattributed`,
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
  ];
}

export async function runProxy(argv: string[], print: (line: string) => void): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { n: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, 'cache-dir': { type: 'string' }, help: { type: 'boolean' } }, strict: true });
  if (values.help) return print(PROXY_HELP), 0;
  const n = values.n === undefined ? 2000 : Number(values.n);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(n) || n < 8) throw new DurianInputError('--n', `must be a whole number >= 8, got ${JSON.stringify(values.n)}`);
  if (!Number.isInteger(seed) || seed < 0) throw new DurianInputError('--seed', `must be a whole number >= 0, got ${JSON.stringify(values.seed)}`);
  const cacheDir = values['cache-dir'] ? path.resolve(values['cache-dir']) : defaultCacheDir();

  await selectBackend({ backend: 'auto' });
  const encoder = await loadEncoder();
  const pool = new TaskPool(seed, encoder, { cacheDirectory: path.join(cacheDir, 'features') });
  const policy = builtInPolicyConfig(encoder, seed);
  const sampler = await PolicySampler.create(policy);
  let warmupBar: ProgressBar | null = null;
  const base = await loadOrBuildBasePolicy({
    policy, pool, sampler, seed, cacheDir,
    onProgress: (step, maxSteps, accuracy) => {
      warmupBar ??= new ProgressBar({ total: maxSteps, label: 'base policy warm-up' });
      warmupBar.update(step, accuracy === null ? {} : { 'check acc': accuracy });
    },
  });
  (warmupBar as ProgressBar | null)?.finish();

  const progress = new ProgressBar({ total: n, label: 'proxy' });
  const records: ProxyTaskRecord[] = [];
  const chunk = 256;
  for (let start = 0; start < n; start += chunk) {
    const indices = Array.from({ length: Math.min(chunk, n - start) }, (_, k) => start + k);
    const prompts = await pool.get('validation', indices);
    const result = await sampler.sample(base.weights, pool.inputs(prompts), { random: () => 0, greedy: true });
    prompts.forEach((prompt, s) => {
      const tokens = Array.from(responseTokens(result.responses, result.responseLength, result.lengths[s], s));
      const error = classifyError(prompt.task, tokens);
      records.push({
        id: prompt.task.id,
        perceptualLevel: prompt.task.perceptualLevel,
        reasoningLevel: prompt.task.reasoningLevel,
        entropy: prompt.visualEntropy,
        confidence: result.sequenceLogprobs[s],
        correct: parseResponse(tokens).finalAnswer === prompt.task.answer,
        error,
        response: tokens,
      });
    });
    if (records.length < n) progress.update(records.length);
  }
  progress.finish();
  await sampler.release();

  const report = proxyReport(records, {
    n, seed, encoder: `${encoder.metadata.name} (${encoder.id.slice(0, 12)})`,
    basePolicy: { steps: base.steps, checkAccuracy: base.checkAccuracy, cached: base.cached },
  });
  for (const line of proxyTables(report)) print(line);
  if (values.out) {
    writeBytesAtomic(path.resolve(values.out), `${JSON.stringify({ ...report, tasks: records }, null, 1)}\n`);
    print(`\nwrote ${values.out}`);
  }
  return 0;
}
