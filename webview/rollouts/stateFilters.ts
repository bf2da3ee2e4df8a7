/**
 * The list's filters and sort, and each group's summary (right/wrong counts, extremes), with no DOM.
 */
import type { RolloutGroup } from '../../src/protocol/events.js';
import { EXTREME_ADVANTAGE } from '../../src/protocol/metrics.js';

export type SortKey = 'order' | 'visualEntropy' | 'confidence' | 'perceptualBucket' | 'reasoningBin' | 'accuracy' | 'absAdvantage' | 'groupStd';
export const SORT_KEYS: readonly SortKey[] = ['order', 'visualEntropy', 'confidence', 'perceptualBucket', 'reasoningBin', 'accuracy', 'absAdvantage', 'groupStd'];
export const SORT_LABELS: Record<SortKey, string> = {
  order: 'Batch order',
  visualEntropy: 'Visual entropy',
  confidence: 'Confidence',
  perceptualBucket: 'Perceptual bucket',
  reasoningBin: 'Reasoning bin',
  accuracy: 'Accuracy',
  absAdvantage: '|Advantage|',
  groupStd: 'Group std',
};

export type AccuracyFilter = 'all' | 'all-wrong' | 'mixed' | 'all-right';
export type BucketFilter = 'all' | 'low' | 'mid' | 'high';

export interface Filters {
  /** Case-insensitive text searched in questions, ground truths, prompt ids and responses. */
  search: string;
  bucket: BucketFilter;
  accuracy: AccuracyFilter;
  /** Only groups with a rollout whose |advantage| (the trainer's) exceeds EXTREME_ADVANTAGE, as the Dashboard counts. */
  extremesOnly: boolean;
  /** Only groups the user relabelled, reweighted or excluded. */
  intervenedOnly: boolean;
  sort: SortKey;
  descending: boolean;
}

export const DEFAULT_FILTERS: Filters = {
  search: '',
  bucket: 'all',
  accuracy: 'all',
  extremesOnly: false,
  intervenedOnly: false,
  sort: 'order',
  descending: false,
};

export interface GroupSummary {
  total: number;
  /** Rollouts whose accuracy is at least 0.5. */
  correct: number;
  meanAccuracy: number;
  meanReward: number;
  /** `7:1` (all right but one), `1:7` (all wrong but one) or `zero variance` (every reward equal); G >= 3. */
  extreme?: string;
  maxAbsAdvantage: number;
  relabeled: boolean;
}

export function summarizeGroup(group: RolloutGroup): GroupSummary {
  const total = group.rollouts.length;
  let correct = 0;
  let accuracy = 0;
  let reward = 0;
  let maxAbs = 0;
  let relabeled = false;
  const first = group.rollouts[0]?.reward;
  let allSame = true;
  for (const rollout of group.rollouts) {
    if (rollout.accuracy >= 0.5) correct++;
    accuracy += rollout.accuracy;
    reward += rollout.reward;
    maxAbs = Math.max(maxAbs, Math.abs(rollout.advantage));
    if (rollout.relabeled) relabeled = true;
    if (rollout.reward !== first) allSame = false;
  }
  let extreme: string | undefined;
  if (total >= 2 && allSame) extreme = 'zero variance';
  else if (total >= 3 && correct === total - 1) extreme = `${total - 1}:1`;
  else if (total >= 3 && correct === 1) extreme = `1:${total - 1}`;
  return {
    total,
    correct,
    meanAccuracy: total > 0 ? accuracy / total : 0,
    meanReward: total > 0 ? reward / total : 0,
    ...(extreme ? { extreme } : {}),
    maxAbsAdvantage: maxAbs,
    relabeled,
  };
}

function bucketRank(bucket: RolloutGroup['perceptualBucket']): number {
  return bucket === 'low' ? 0 : bucket === 'mid' ? 1 : 2;
}

/** The positions in `groups` to show, filtered and sorted by `filters` (stable). */
export function visibleGroups(groups: readonly RolloutGroup[], filters: Filters, intervened: ReadonlyMap<string, unknown> = new Map()): number[] {
  const needle = filters.search.trim().toLowerCase();
  const summaries = groups.map(summarizeGroup);
  const rows: number[] = [];
  groups.forEach((group, i) => {
    const summary = summaries[i];
    if (filters.bucket !== 'all' && group.perceptualBucket !== filters.bucket) return;
    if (filters.accuracy === 'all-wrong' && summary.correct !== 0) return;
    if (filters.accuracy === 'all-right' && summary.correct !== summary.total) return;
    if (filters.accuracy === 'mixed' && (summary.correct === 0 || summary.correct === summary.total)) return;
    if (filters.extremesOnly && !(summary.maxAbsAdvantage > EXTREME_ADVANTAGE)) return;
    if (filters.intervenedOnly && !(summary.relabeled || group.weight !== 1 || intervened.has(group.promptId))) return;
    if (needle && !matchesSearch(group, needle)) return;
    rows.push(i);
  });
  if (filters.sort !== 'order') {
    const key = (i: number): number => {
      const group = groups[i];
      switch (filters.sort) {
        case 'visualEntropy':
          return group.visualEntropy;
        case 'confidence':
          return group.confidence;
        case 'perceptualBucket':
          return bucketRank(group.perceptualBucket);
        case 'reasoningBin':
          return group.reasoningBin;
        case 'accuracy':
          return summaries[i].meanAccuracy;
        case 'absAdvantage':
          return summaries[i].maxAbsAdvantage;
        case 'groupStd':
          return group.groupStd;
        default:
          return i;
      }
    };
    const sign = filters.descending ? -1 : 1;
    rows.sort((a, b) => sign * (key(a) - key(b)) || a - b);
  } else if (filters.descending) {
    rows.reverse();
  }
  return rows;
}

/** Whether a lower-case needle occurs in the group's question, ground truth, id or any response. */
export function matchesSearch(group: RolloutGroup, needle: string): boolean {
  if (group.question.toLowerCase().includes(needle)) return true;
  if (group.groundTruth.toLowerCase().includes(needle)) return true;
  if (group.promptId.toLowerCase().includes(needle)) return true;
  return group.rollouts.some((rollout) => rollout.response.toLowerCase().includes(needle));
}

