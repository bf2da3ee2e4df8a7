/**
 * The `suite` setting wired through a real run (the `durian` CLI bundle and its trainer process): `durian train
 * --suite v2 --steps 2` trains on version 2's tasks (the prompts and images of its rollout groups are the v2
 * generator's), records the suite in config.json and meta.json, and caches its base policy apart from v1's; a
 * resume keeps the run's suite (asking for another is one line, nothing written); a run made before the setting
 * resumes on v1; `durian proxy` of the run measures it on its own suite.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { defaultOf } from '../../src/protocol/index.js';
import { parseTrainInvocation } from '../../src/trainer/args.js';
import { type Split, type SuiteVersion, encodePng, generateTask, parseResponse, taskLevelsAt } from '../../src/trainer/tasks/index.js';
import { cliBundle, runToEnd, workFolder } from '../reliability/runProcesses.js';

const work = workFolder('suite');
const run = path.join(work.dir, 'runs', 'v2');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const readJsonl = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
const durian = (args: string[]) => runToEnd(cliBundle, args, work.env, 300_000);

/** The generator's task behind an id like `train-000014` (seed 1, the tiny runs' default). */
function generated(id: string, suite: SuiteVersion) {
  const [split, digits] = id.split('-') as [Split, string];
  const index = Number(digits);
  return generateTask(1, split, index, taskLevelsAt(1, split, index), suite);
}

/** Every rollout group of the run's steps on disk is a task of `suite` (question, answer and image). */
function checkGroupsAreOfSuite(runDir: string, steps: number[], suite: SuiteVersion): number {
  let unlikeOther = 0;
  for (const step of steps) {
    const groups = readJsonl(path.join(runDir, 'rollouts', `step-${String(step).padStart(6, '0')}.jsonl`));
    assert.ok(groups.length > 0, `step ${step} has groups`);
    for (const group of groups) {
      const task = generated(group.promptId as string, suite);
      assert.deepEqual([group.question, group.groundTruth], [task.question, task.answer], `${String(group.promptId)} is the ${suite} task`);
      assert.ok(readFileSync(path.join(runDir, group.image as string)).equals(encodePng(task.image)), `${String(group.promptId)}: the ${suite} image`);
      const other = generated(group.promptId as string, suite === 'v1' ? 'v2' : 'v1');
      if (other.question !== task.question || !encodePng(other.image).equals(encodePng(task.image))) unlikeOther++;
    }
  }
  return unlikeOther;
}

/** Every file of a folder (relative path -> size and modification time), to show that nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const stat = statSync(file);
    files[path.relative(dir, file)] = `${stat.size} ${stat.mtimeMs}`;
  }
  return files;
}

const baseLog = (runDir: string) => readFileSync(path.join(runDir, 'trainer.log'), 'utf8').split('\n').filter((line) => line.includes('base policy ') && /loaded from cache|built:/.test(line));

describe('suite v2 in a real run', { timeout: 600_000 }, () => {
  before(async () => {
    const trained = await durian(['train', '--config', work.config({ rolloutsEvery: 1 }), '--suite', 'v2', '--steps', '2', '--out', run]);
    assert.equal(trained.code, 0, trained.stderr);
  });

  it('trains on version 2\'s tasks and records the suite in config.json and meta.json', () => {
    assert.equal(readJson(path.join(run, 'config.json')).suite, 'v2');
    const meta = readJson(path.join(run, 'meta.json'));
    assert.equal(meta.tasks.config.suite, 'v2');
    assert.match(meta.tasks.summary, /suite v2/);
    const unlikeV1 = checkGroupsAreOfSuite(run, [1, 2], 'v2');
    assert.ok(unlikeV1 >= 8, `${unlikeV1} of the 16 prompts differ from version 1's task of the same id`);
  });

  it('builds a v1 run\'s base policy anew (never the v2 one) and reuses each suite\'s own', async () => {
    assert.match(baseLog(run)[0], /base policy built:/);
    const v1 = path.join(work.dir, 'runs', 'v1');
    const trained = await durian(['train', '--config', work.config(), '--steps', '1', '--out', v1]);
    assert.equal(trained.code, 0, trained.stderr);
    assert.equal(readJson(path.join(v1, 'config.json')).suite, 'v1');
    assert.match(baseLog(v1)[0], /base policy built:/, 'the v2 base of the same policy, seed and warm-up is not reused for v1');
    assert.equal(readdirSync(path.join(work.cacheDir, 'base-policy')).filter((name) => name.endsWith('.bin')).length, 2);
  });

  it('refuses a resume with the other suite in one line and writes nothing; a plain resume goes on with v2', async () => {
    const before = snapshot(run);
    const refused = await durian(['train', '--resume', run, '--suite', 'v1', '--steps', '3']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--suite: the run in .* trains on suite "v2" and a resume keeps it; drop --suite, or start a new run for "v1"/);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.deepEqual(snapshot(run), before, 'the refused resume changed nothing in the run');

    const resumed = await durian(['train', '--resume', run, '--steps', '3']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(readJson(path.join(run, 'config.json')).suite, 'v2');
    checkGroupsAreOfSuite(run, [3], 'v2');
    assert.match(baseLog(run).at(-1) ?? '', /base policy loaded from cache/);
  });

  it('resumes a run made before the setting (config.json without suite) on v1, and refuses --suite v2 for it', () => {
    const legacy = path.join(work.dir, 'runs', 'legacy');
    cpSync(run, legacy, { recursive: true });
    const config = readJson(path.join(legacy, 'config.json'));
    delete config.suite;
    writeFileSync(path.join(legacy, 'config.json'), JSON.stringify(config));
    assert.equal(parseTrainInvocation(['--resume', legacy]).config.suite, 'v1');
    assert.throws(() => parseTrainInvocation(['--resume', legacy, '--suite', 'v2']), /--suite: the run in .* trains on suite "v1"/);
    assert.equal(parseTrainInvocation(['--suite', 'v2']).config.suite, 'v2');
    assert.throws(() => parseTrainInvocation(['--suite', 'v9']), /config\.suite: must be one of "v1", "v2"/);
    const dataset = path.join(work.dir, 'rows.jsonl');
    writeFileSync(dataset, '{"images": [], "problem": "1 + 1 ?", "answer": "2"}\n');
    assert.throws(() => parseTrainInvocation(['--dataset', dataset, '--suite', 'v2']), /--suite: picks a version of the built-in tasks; a --dataset run trains on the dataset instead/);
  });

  it('durian proxy of the run measures its base (the one training cached) and final policy on v2; another suite is refused', async () => {
    const out = path.join(work.dir, 'proxy.json');
    const measured = await durian(['proxy', '--run', run, '--n', '16', '--out', out]);
    assert.equal(measured.code, 0, measured.stderr);
    assert.match(measured.stdout, new RegExp(`${defaultOf('policy')} policy, suite v2, seed 1`));
    const report = readJson(out);
    assert.equal(report.suite, 'v2');
    assert.equal(report.policies[0].policy.warmup.cached, true, 'the v2 base the run built, found by the same cache key');
    for (const record of report.policies[1].tasks as { id: string; correct: boolean; response: number[] }[]) {
      assert.equal(record.correct, parseResponse(record.response).finalAnswer === generated(record.id, 'v2').answer, record.id);
    }

    const refused = await durian(['proxy', '--run', run, '--suite', 'v1', '--n', '16']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--suite: is v1, but the run .* trains on suite v2/);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    const unknown = await durian(['proxy', '--suite', 'v3']);
    assert.match(unknown.stderr, /^durian: --suite: must be one of v1, v2, got "v3"\n$/);
  });
});
