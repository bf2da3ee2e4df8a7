/**
 * What a run keeps on disk of its rollout groups. Every step's groups stream live (events) and their images
 * are written for the live panel; on disk stay the groups (`rollouts/step-N.jsonl`) of
 *   - every `every`-th step and the run's last step,
 *   - any step a user intervened on: the step on screen when a control was sent (the last finished step)
 *     and the step the control took effect at, plus the step a relabel names,
 *   - any step holding a group the user steered (a weight other than 1, a relabelled rollout), so the
 *     effect of a reweight or relabel can be read on disk whenever that prompt comes again,
 * and the images those kept groups show. An image only unkept steps used is deleted once it is `window`
 * steps old (the live panel has long moved on by then). The last `window` steps' groups are held in memory,
 * so a step intervened on after it finished can still be written.
 */
import type { RolloutGroup } from '../../protocol/index.js';

export interface RetentionActions {
  /** Steps whose groups to write now, with the groups. */
  write: { step: number; groups: RolloutGroup[] }[];
  /** Images (run-relative paths) no kept step uses any more: delete them. */
  deleteImages: string[];
}

export class RolloutRetention {
  /** Recent steps' groups, oldest first (at most `window`). */
  private readonly recent = new Map<number, RolloutGroup[]>();
  private readonly written = new Set<number>();
  /** Steps to keep once they finish (a control took effect there). */
  private readonly keepLater = new Set<number>();
  /** Images some kept step uses: never deleted. */
  private readonly keptImages = new Set<string>();
  /** Images only unkept steps used -> the last step that used one. */
  private readonly unkeptImages = new Map<string, number>();

  constructor(
    private readonly every: number,
    private readonly lastStep: number,
    private readonly window = 50,
  ) {}

  /** A step finished with these groups: what to write and delete now. */
  stepDone(step: number, groups: RolloutGroup[]): RetentionActions {
    this.recent.set(step, groups);
    for (const old of this.recent.keys()) if (old <= step - this.window) this.recent.delete(old);
    const actions: RetentionActions = { write: [], deleteImages: [] };
    const steered = groups.some((group) => group.weight !== 1 || group.rollouts.some((rollout) => rollout.relabeled === true));
    if (this.keepLater.delete(step) || step % this.every === 0 || step >= this.lastStep || steered) this.keep(step, actions);
    else {
      for (const group of groups) if (!this.keptImages.has(group.image)) this.unkeptImages.set(group.image, step);
    }
    for (const [image, lastUse] of this.unkeptImages) {
      if (lastUse <= step - this.window) {
        this.unkeptImages.delete(image);
        actions.deleteImages.push(image);
      }
    }
    return actions;
  }

  /**
   * A control took effect at `appliesAt` (sent while `appliesAt - 1` was on screen); a relabel also names
   * the step of its rollout. Returns the recent steps to write now.
   */
  intervened(appliesAt: number, namedStep?: number): RetentionActions {
    const actions: RetentionActions = { write: [], deleteImages: [] };
    this.keepLater.add(appliesAt);
    for (const step of [appliesAt - 1, namedStep]) {
      if (step !== undefined && this.recent.has(step)) this.keep(step, actions);
    }
    return actions;
  }

  /** The run ends at `step`: keep it, and delete every image only unkept steps used. */
  finish(step: number): RetentionActions {
    const actions: RetentionActions = { write: [], deleteImages: [] };
    if (this.recent.has(step)) this.keep(step, actions);
    actions.deleteImages.push(...this.unkeptImages.keys());
    this.unkeptImages.clear();
    return actions;
  }

  private keep(step: number, actions: RetentionActions): void {
    const groups = this.recent.get(step);
    if (!groups || this.written.has(step)) return;
    this.written.add(step);
    actions.write.push({ step, groups });
    for (const group of groups) {
      this.keptImages.add(group.image);
      this.unkeptImages.delete(group.image);
    }
  }
}
