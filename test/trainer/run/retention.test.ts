/** RolloutRetention: which steps' groups and which images a run keeps on disk. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RolloutGroup } from '../../../src/protocol/index.js';
import { RolloutRetention } from '../../../src/trainer/run/retention.js';
import { sampleGroup } from '../../protocol/samples.js';

function groupsOf(_step: number, promptIds: string[], steer: Partial<RolloutGroup> = {}): RolloutGroup[] {
  return promptIds.map((id) => {
    const group = sampleGroup(id);
    return { ...group, rollouts: group.rollouts.map((rollout) => ({ ...rollout, relabeled: false })), ...steer };
  });
}

describe('RolloutRetention', () => {
  it('keeps every k-th step and the last one, and deletes images only unkept steps used once they are old', () => {
    const retention = new RolloutRetention(10, 25, 5);
    const written: number[] = [];
    const deleted: string[] = [];
    for (let step = 1; step <= 25; step++) {
      const actions = retention.stepDone(step, groupsOf(step, [`p-${step}`, 'p-shared']));
      written.push(...actions.write.map((w) => w.step));
      deleted.push(...actions.deleteImages);
    }
    deleted.push(...retention.finish(25).deleteImages);
    assert.deepEqual(written, [10, 20, 25]);
    assert.ok(!deleted.includes('images/p-shared.png'), 'an image a kept step uses stays');
    for (const kept of [10, 20, 25]) assert.ok(!deleted.includes(`images/p-${kept}.png`));
    assert.equal(deleted.length, 22, 'every image only unkept steps used is deleted');
    assert.equal(new Set(deleted).size, deleted.length, 'each once');
    // Not before it is `window` steps old: p-1 goes at step 6.
    const early = new RolloutRetention(10, 100, 5);
    for (let step = 1; step <= 5; step++) assert.deepEqual(early.stepDone(step, groupsOf(step, [`p-${step}`])).deleteImages, []);
    assert.deepEqual(early.stepDone(6, groupsOf(6, ['p-6'])).deleteImages, ['images/p-1.png']);
  });

  it('keeps the step on screen when a control was sent, the step it took effect at, and a relabel\'s step', () => {
    const retention = new RolloutRetention(100, 1000, 50);
    for (let step = 1; step <= 7; step++) assert.deepEqual(retention.stepDone(step, groupsOf(step, [`p-${step}`])).write, []);
    const now = retention.intervened(8, 3);
    assert.deepEqual(now.write.map((w) => w.step).sort(), [3, 7]);
    assert.deepEqual(retention.stepDone(8, groupsOf(8, ['p-8'])).write.map((w) => w.step), [8]);
    assert.deepEqual(retention.stepDone(9, groupsOf(9, ['p-9'])).write, []);
  });

  it('keeps any step holding a group the user reweighted or relabelled', () => {
    const retention = new RolloutRetention(100, 1000, 50);
    assert.deepEqual(retention.stepDone(1, groupsOf(1, ['p-1'], { weight: 2 })).write.map((w) => w.step), [1]);
    const relabelled = groupsOf(2, ['p-2']);
    relabelled[0].rollouts[0] = { ...relabelled[0].rollouts[0], relabeled: true };
    assert.deepEqual(retention.stepDone(2, relabelled).write.map((w) => w.step), [2]);
    assert.deepEqual(retention.stepDone(3, groupsOf(3, ['p-3'])).write, []);
  });
});
