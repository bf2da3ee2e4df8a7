/**
 * Generation time of the built-in suite, v1 against v2: the tasks of a default session (16,384 train + 512
 * validation, levels drawn as the trainer draws them), generator only (no encoder), alternating the versions
 * so that JIT warm-up and machine load hit both alike; then ms per task by perceptual x reasoning level.
 *
 *   node --import tsx bench/probe/generationTime.ts [--train 16384] [--validation 512] [--repeats 2] [--levels 200]
 */
import { parseArgs } from 'node:util';
import { LEVELS, SUITE_VERSIONS, type Split, type SuiteVersion, generateTask, taskLevelsAt } from '../../src/trainer/tasks/index.js';

const { values } = parseArgs({ options: { train: { type: 'string' }, validation: { type: 'string' }, repeats: { type: 'string' }, levels: { type: 'string' }, seed: { type: 'string' } } });
const train = Number(values.train ?? 16_384);
const validation = Number(values.validation ?? 512);
const repeats = Number(values.repeats ?? 2);
const perCell = Number(values.levels ?? 200);
const seed = Number(values.seed ?? 1);

function session(suite: SuiteVersion): number {
  const started = performance.now();
  for (const [split, count] of [['train', train], ['validation', validation]] as [Split, number][]) {
    for (let index = 0; index < count; index++) generateTask(seed, split, index, taskLevelsAt(seed, split, index), suite);
  }
  return (performance.now() - started) / 1000;
}

const times: Record<SuiteVersion, number[]> = { v1: [], v2: [] };
session('v1'); // JIT warm-up
for (let r = 0; r < repeats; r++) for (const suite of SUITE_VERSIONS) times[suite].push(session(suite));
for (const suite of SUITE_VERSIONS) {
  const best = Math.min(...times[suite]);
  console.log(`${suite}: ${train} train + ${validation} validation tasks in ${times[suite].map((t) => t.toFixed(2)).join(' / ')} s (best ${best.toFixed(2)} s, ${((1000 * best) / (train + validation)).toFixed(3)} ms/task)`);
}
if (perCell > 0) {
  for (const suite of SUITE_VERSIONS) {
    console.log(`${suite}, ms per task, perceptual level (rows) x reasoning level (columns):`);
    for (const perceptualLevel of LEVELS) {
      const cells = LEVELS.map((reasoningLevel) => {
        const started = performance.now();
        for (let index = 0; index < perCell; index++) generateTask(seed, 'train', index, { perceptualLevel, reasoningLevel }, suite);
        return ((performance.now() - started) / perCell).toFixed(3);
      });
      console.log(`  p${perceptualLevel}: ${cells.join(' ')}`);
    }
  }
}
