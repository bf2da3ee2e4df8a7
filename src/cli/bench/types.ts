import { median } from '../../core/index.js';

/** One measured number of `durian bench`, with its baseline and target where it has them. */
export interface BenchRow {
  suite: string;
  name: string;
  value: number;
  unit: string;
  /** What the ratio compares against, measured in the same process. */
  baseline?: { name: string; value: number };
  /** value / baseline in the row's unit: for times > 1 is slower than the baseline, for rates < 1 is slower. */
  ratio?: number;
  /** Human-readable target, e.g. "< 2 ms" or ">= 0.8x PyTorch". */
  target?: string;
  pass?: boolean;
  note?: string;
}

export interface BenchSuite {
  name: string;
  description: string;
  /** `quick`: smaller shapes where a suite has them (a fast check that it runs, not the reported numbers). */
  run(options: { repeats: number; quick: boolean; log: (line: string) => void }): Promise<BenchRow[]>;
}

/** Median wall time in ms of `repeats` calls after `warmup` untimed calls. */
export function timeMedian(fn: () => void, repeats: number, warmup = Math.max(3, Math.ceil(repeats / 10))): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/**
 * Median wall time in ms of each function, measured interleaved (one call of each per round), so
 * that a baseline and its contender see the same machine state and JIT warm-up.
 */
export function timeMediansInterleaved(fns: Record<string, () => void>, repeats: number): Record<string, number> {
  const names = Object.keys(fns);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < repeats + Math.max(3, Math.ceil(repeats / 10)); round++) {
    for (const name of names) {
      const start = performance.now();
      fns[name]();
      const elapsed = performance.now() - start;
      if (round >= repeats / 10) times[name].push(elapsed);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}
