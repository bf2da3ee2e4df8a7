/**
 * Whether a step hands a shard to the gradient worker or computes every shard on this thread: whichever has
 * been faster lately (wall-clock milliseconds per sequence, a running mean of the recent steps of each mode),
 * trying the other mode again every PROBE_EVERY steps. On two free cores the worker halves an update; on a
 * machine whose cores are busy with other work two threads can take longer than one (measured: 2 x slower at
 * load average 3-5 on 2 cores), so the choice follows the measurements. It never changes a result: the shards
 * and the order they are summed in are the same in both modes.
 */
export type GradientMode = 'worker' | 'local';

/** Every this many steps, the mode that is not the faster one runs once, to see whether that changed. */
export const PROBE_EVERY = 8;
/** Weight of the newest step in each mode's running mean. */
const NEWEST_WEIGHT = 0.5;

export class ModeChooser {
  private readonly msPerSequence: Record<GradientMode, number> = { worker: Number.NaN, local: Number.NaN };
  private steps = 0;

  /** The mode of the next step (each mode is tried first, then the faster, probing the other now and then). */
  choose(): GradientMode {
    this.steps++;
    const { worker, local } = this.msPerSequence;
    if (Number.isNaN(worker)) return 'worker';
    if (Number.isNaN(local)) return 'local';
    const faster: GradientMode = worker <= local ? 'worker' : 'local';
    if (this.steps % PROBE_EVERY === 0) return faster === 'worker' ? 'local' : 'worker';
    return faster;
  }

  /** Records a step of `mode` that took `ms` for `sequences` sequences. */
  record(mode: GradientMode, ms: number, sequences: number): void {
    const value = ms / Math.max(sequences, 1);
    const previous = this.msPerSequence[mode];
    this.msPerSequence[mode] = Number.isNaN(previous) ? value : previous * (1 - NEWEST_WEIGHT) + value * NEWEST_WEIGHT;
  }

  /** The running means (NaN: not measured yet). */
  get measured(): Readonly<Record<GradientMode, number>> {
    return this.msPerSequence;
  }
}
