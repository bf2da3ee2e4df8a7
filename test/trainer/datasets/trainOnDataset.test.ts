// durian train --dataset with the real trainer process (from its sources), tiny sessions (B 8 x G 4, 3 steps):
// on a Parquet file made by export-tasks (split column) and on a JSON Lines dataset with relative image paths
// (held-out fraction); the run records the dataset and its tokenizer, the Rollout Groups carry the dataset's
// own text and images, a resume on a changed dataset is refused unless allowed, and bad datasets and the
// counting policy are refused before any step (a dataset that fails to load leaves no run folder behind).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runExportParquet } from '../../../src/cli/exportParquet.js';
import type { TrainerEvent } from '../../../src/protocol/index.js';
import { parseTrainInvocation } from '../../../src/trainer/args.js';
import { encodePng, generateTask, taskLevelsAt } from '../../../src/trainer/tasks/index.js';
import { type TrainerSession, startTrainer, trainerSource } from '../../reliability/runProcesses.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'durian-train-dataset-'));
const env = { ...process.env, DURIAN_CACHE_DIR: path.join(work, 'cache') };
const configFile = path.join(work, 'tiny.json');
writeFileSync(configFile, JSON.stringify({ batchSize: 8, groupSize: 4, warmupSteps: 5, validationEvery: 1000, checkpointEvery: 1000, estimatorOptions: { reasoningBins: 4 } }));

function train(args: string[]): TrainerSession {
  return startTrainer(['--config', configFile, ...args], env, trainerSource);
}

const ofType = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) => events.filter((e) => e.type === type) as Extract<TrainerEvent, { type: T }>[];
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A JSON Lines dataset of built-in task images under img/, named by relative path. */
function jsonlDataset(n: number): string {
  const dir = path.join(work, 'jsonl');
  mkdirSync(path.join(dir, 'img'), { recursive: true });
  const lines = Array.from({ length: n }, (_, k) => {
    const task = generateTask(5, 'train', k, taskLevelsAt(5, 'train', k));
    writeFileSync(path.join(dir, 'img', `${k}.png`), encodePng(task.image));
    return JSON.stringify({ id: `q${k}`, images: [`img/${k}.png`], problem: `<image>${task.question}`, answer: task.answer });
  });
  const file = path.join(dir, 'data.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('durian train --dataset', { timeout: 900_000 }, () => {
  it('trains on a Parquet suite made by export-tasks, recording the dataset, with its own text and images in the groups', async () => {
    const suite = path.join(work, 'suite.parquet');
    await runExportParquet(['--n', '24', '--validation-n', '8', '--out', suite], () => {});
    const runDir = path.join(work, 'runs', 'parquet');
    const session = train(['--dataset', suite, '--split-column', 'split', '--steps', '3', '--out', runDir]);
    assert.equal(await session.exit, 0, session.stderr());
    const { events } = session;
    assert.deepEqual(ofType(events, 'trainer/step').map((s) => s.step), [1, 2, 3]);
    const done = events.at(-1);
    assert.ok(done?.type === 'trainer/done' && done.reason === 'completed', JSON.stringify(done));

    const saved = JSON.parse(readFileSync(path.join(runDir, 'dataset.json'), 'utf8'));
    assert.deepEqual(saved.settings, { file: suite, reward: 'auto', splitColumn: 'split' });
    assert.equal(saved.record.sha256, sha256(suite));
    assert.deepEqual(saved.record.rows, { total: 32, train: 24, validation: 8, skipped: 0, skippedByReason: {} });
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'tokenizer.json'), 'utf8')).format, 'durian-characters/1');
    const meta = JSON.parse(readFileSync(path.join(runDir, 'meta.json'), 'utf8'));
    assert.equal(meta.policy.kind, 'general', 'a dataset run trains the general policy');
    assert.equal(meta.tasks.kind, 'dataset');

    const [validation] = ofType(events, 'trainer/validation');
    assert.ok(Object.keys(validation.perLevel ?? {}).some((key) => key.startsWith('reasoning/')), 'accuracy per level from the reasoning_level column');
    // The last step's groups stay on disk with their images (rolloutsEvery keeps no earlier step of 3).
    const group = ofType(events, 'trainer/groups').filter((e) => e.step === 3)[0].groups[0];
    const row = Number(group.promptId.replace('row-', ''));
    const task = generateTask(1, 'train', row, taskLevelsAt(1, 'train', row));
    assert.equal(group.question, task.question);
    assert.equal(group.groundTruth, task.answer);
    assert.deepEqual(readFileSync(path.join(runDir, group.image)), encodePng(task.image), 'the group shows the row\'s own image');
  });

  it('trains on JSON Lines with relative image paths, and refuses to resume on a changed file unless allowed', async () => {
    const file = jsonlDataset(24);
    const runDir = path.join(work, 'runs', 'jsonl');
    const first = train(['--dataset', file, '--val-fraction', '0.25', '--steps', '2', '--out', runDir]);
    assert.equal(await first.exit, 0, first.stderr());
    const rows = JSON.parse(readFileSync(path.join(runDir, 'dataset.json'), 'utf8')).record.rows;
    assert.equal(rows.train + rows.validation, 24);
    assert.ok(rows.validation > 0 && rows.train > rows.validation);

    appendFileSync(file, `${JSON.stringify({ id: 'late', images: ['img/0.png'], problem: 'how many objects ?', answer: '3' })}\n`);
    const refused = startTrainer(['--resume', runDir, '--steps', '3'], env, trainerSource);
    assert.notEqual(await refused.exit, 0);
    const fatal = ofType(refused.events, 'trainer/error').find((e) => e.fatal);
    assert.match(fatal?.message ?? '', /the dataset file .*data\.jsonl has changed since the run started .*--allow-changed-dataset/);
    assert.equal(ofType(refused.events, 'trainer/step').length, 0);

    const allowed = startTrainer(['--resume', runDir, '--steps', '3', '--allow-changed-dataset'], env, trainerSource);
    assert.equal(await allowed.exit, 0, allowed.stderr());
    assert.deepEqual(ofType(allowed.events, 'trainer/step').map((s) => s.step), [3]);
    assert.ok(ofType(allowed.events, 'trainer/log').some((e) => e.level === 'warn' && /has changed since the run started .*; training on it as it is now \(--allow-changed-dataset\)/.test(e.message)));
    const record = JSON.parse(readFileSync(path.join(runDir, 'dataset.json'), 'utf8')).record;
    assert.equal(record.rows.total, 25, 'the run now records the dataset as it is');
  });

  it('fails before training on a dataset the reward cannot read, naming the file, row and field', async () => {
    const file = path.join(work, 'jsonl', 'words.jsonl');
    writeFileSync(file, `${[0, 1, 2].map((k) => JSON.stringify({ images: [`img/${k}.png`], problem: 'what shape ?', answer: 'circle' })).join('\n')}\n`);
    const runDir = path.join(work, 'runs', 'words');
    const session = train(['--dataset', file, '--reward', 'numeric', '--steps', '2', '--out', runDir]);
    assert.notEqual(await session.exit, 0);
    const fatal = ofType(session.events, 'trainer/error').find((e) => e.fatal);
    assert.match(fatal?.message ?? '', new RegExp(`dataset ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no answer can be read by the numeric reward \\(3 rows; row 0 \\(line 1\\): field "answer": the answer "circle" is not a number`));
    assert.equal(ofType(session.events, 'trainer/step').length, 0);
    assert.equal(ofType(session.events, 'trainer/hello')[0]?.runDir, runDir, 'the run folder had been created when the dataset was read');
    assert.equal(existsSync(runDir), false, 'the failed load leaves no run folder behind');

    // --out naming a folder that was there before: it is left as it was (the user's file, nothing of the run).
    const existing = path.join(work, 'runs', 'existing');
    mkdirSync(existing, { recursive: true });
    writeFileSync(path.join(existing, 'notes.txt'), 'mine');
    const again = train(['--dataset', file, '--reward', 'numeric', '--steps', '2', '--out', existing]);
    assert.notEqual(await again.exit, 0);
    assert.deepEqual(readdirSync(existing), ['notes.txt']);
  });

  it('implies the general policy and refuses the counting one, and checks the dataset flags', () => {
    // Parsing checks only that the file is there; the trainer reads it.
    const file = path.join(work, 'flags.jsonl');
    writeFileSync(file, '');
    assert.equal(parseTrainInvocation(['--dataset', file]).config.policy, 'general');
    assert.throws(() => parseTrainInvocation(['--dataset', file, '--policy', 'counting']), /--policy: a --dataset run trains the general policy/);
    assert.throws(() => parseTrainInvocation(['--split-column', 'split']), /--split-column: only applies with --dataset FILE/);
    assert.throws(() => parseTrainInvocation(['--dataset', file, '--reward', 'fuzzy']), /--reward: must be one of exact, numeric, boxed, choice, auto, got "fuzzy"/);
    assert.throws(() => parseTrainInvocation(['--dataset', file, '--val-fraction', '1']), /--val-fraction: must be a number between 0 and 1/);
    assert.throws(() => parseTrainInvocation(['--dataset', path.join(work, 'missing.jsonl')]), /--dataset: .*missing\.jsonl does not exist/);
    // A config file may name the dataset (relative to the config file); the flags override it.
    const named = path.join(work, 'named.durian.json');
    writeFileSync(named, JSON.stringify({ dataset: 'flags.jsonl', splitColumn: 'split', reward: 'exact', steps: 7 }));
    const fromConfig = parseTrainInvocation(['--config', named]);
    assert.deepEqual(fromConfig.dataset, { file, reward: 'exact', splitColumn: 'split' });
    assert.equal(fromConfig.config.steps, 7);
    assert.equal(parseTrainInvocation(['--config', named, '--reward', 'numeric']).dataset?.reward, 'numeric');
    writeFileSync(named, JSON.stringify({ dataset: 3 }));
    assert.throws(() => parseTrainInvocation(['--config', named]), /config\.dataset: must be text, got 3/);
  });
});
