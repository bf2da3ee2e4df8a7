/**
 * The run-folder format published under schemas/ (JSON Schema, for trainers other than Durian's to write)
 * against what the real trainer writes: a tiny real training run (from source, so never a stale bundle) whose
 * every file and line must validate, and the schemas' ranges and kinds against the protocol's own tables
 * (settings, live ranges, controls, run states). Any drift on either side fails here. The validator is in
 * test/support/runFolderSchemas.ts (exactly the keywords schemas/ uses).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CONTROL_KINDS,
  ESTIMATOR_CHOICES,
  LIVE_CONFIG_KEYS,
  LIVE_RANGES,
  META_FILE,
  RUN_FOLDER_FORMAT_VERSION,
  RUN_STATES,
  SETTINGS,
  STATUS_FILE,
  parseControl,
  parseInterventionLine,
  parseRunMeta,
  parseRunStatus,
  readRunBackends,
  runConfigSchemaFields,
} from '../../src/protocol/index.js';
import { NODE_RUN_FOLDER } from '../../src/trainer/run/nodeRunFolder.js';
import { type Schema, assertValid, problemsOf, schemas } from '../support/runFolderSchemas.js';
import { trainTiny } from '../support/tinyRun.js';

function jsonLines(file: string): unknown[] {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);
}

describe('schemas/: the run-folder format', () => {
  it('every file of a real training run validates against its schema', { timeout: 240_000 }, async () => {
    const { run } = await trainTiny([
      { type: 'control/setConfig', controlId: 'c-1', changes: { lr: 0.002, durianWeights: [0.2, 0.2, 0.6] } },
      { type: 'control/setGroupWeight', controlId: 'c-2', promptId: 'train-000001', weight: 2 },
      { type: 'control/excludePrompt', controlId: 'c-3', promptId: 'train-000002' },
      { type: 'control/undo', controlId: 'c-4', targetControlId: 'c-3' },
    ]);
    after(() => rmSync(path.dirname(run), { recursive: true, force: true }));
    const status = JSON.parse(readFileSync(path.join(run, STATUS_FILE), 'utf8')) as { formatVersion?: number };
    assertValid(status, 'status.schema.json', STATUS_FILE);
    assert.equal(status.formatVersion, RUN_FOLDER_FORMAT_VERSION, 'the trainer writes the format version');
    const meta = JSON.parse(readFileSync(path.join(run, META_FILE), 'utf8')) as { starts: { backend: string; device: string }[] };
    assertValid(meta, 'meta.schema.json', META_FILE);
    assert.equal(meta.starts.length, 1, 'one start recorded');
    assert.deepEqual(readRunBackends(NODE_RUN_FOLDER, run), [`${meta.starts[0].backend} (${meta.starts[0].device})`], 'the reader names the backend from meta.json');
    const config = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8')) as Record<string, unknown>;
    assertValid(config, 'config.schema.json', 'config.json');
    // config.json is open to foreign fields, so drift in the trainer's own fields shows as an undeclared key.
    const declared = Object.keys((schemas.get('config.schema.json')?.properties ?? {}) as object);
    assert.deepEqual(Object.keys(config).filter((key) => !declared.includes(key)), [], 'every field the trainer writes to config.json is declared');

    const logs: [string, string, number][] = [
      ['metrics.jsonl', 'metrics-line.schema.json', 3],
      ['validation.jsonl', 'validation-line.schema.json', 2],
      ['interventions.jsonl', 'intervention-line.schema.json', 4],
    ];
    for (const [file, schema, atLeast] of logs) {
      const lines = jsonLines(path.join(run, file));
      assert.ok(lines.length >= atLeast, `${file} has ${lines.length} lines, expected at least ${atLeast}`);
      lines.forEach((line, i) => assertValid(line, schema, `${file} line ${i + 1}`));
    }
    const rollouts = readdirSync(path.join(run, 'rollouts')).filter((name) => name.endsWith('.jsonl'));
    assert.ok(rollouts.length >= 1, 'the run kept rollouts of at least one step');
    for (const name of rollouts) {
      assert.match(name, /^step-\d{6,10}\.jsonl$/);
      const groups = jsonLines(path.join(run, 'rollouts', name));
      assert.equal(groups.length, 4, `${name} holds one line per prompt of the step`);
      groups.forEach((group, i) => {
        assertValid(group, 'rollout-group.schema.json', `rollouts/${name} line ${i + 1}`);
        assert.ok(existsSync(path.join(run, (group as { image: string }).image)), `rollouts/${name} line ${i + 1}: its image is in the run folder`);
      });
    }
    const checkpoints = readdirSync(path.join(run, 'checkpoints')).filter((name) => name.startsWith('step-'));
    assert.ok(checkpoints.length >= 1, 'the run wrote a checkpoint');
    for (const name of checkpoints) {
      assertValid(JSON.parse(readFileSync(path.join(run, 'checkpoints', name, 'manifest.json'), 'utf8')), 'checkpoint-manifest.schema.json', `checkpoints/${name}/manifest.json`);
    }
  });

  it('the validator rejects what the schemas forbid (so the test above can fail)', () => {
    const status = { state: 'running', step: 3, pid: 12, updatedAt: '2026-12-02T00:00:00.000Z' };
    assert.deepEqual(problemsOf(status, 'status.schema.json'), []);
    assert.notDeepEqual(problemsOf({ ...status, state: 'sleeping' }, 'status.schema.json'), []);
    assert.notDeepEqual(problemsOf({ ...status, step: 1.5 }, 'status.schema.json'), []);
    assert.notDeepEqual(problemsOf({ ...status, extra: 1 }, 'status.schema.json'), []);
    assert.notDeepEqual(problemsOf({ ...status, inbox: '../elsewhere.jsonl' }, 'status.schema.json'), []);
    // The protocol's reader accepts what the schema accepts, and refuses a state outside it.
    assert.ok(parseRunStatus(status));
    assert.equal(parseRunStatus({ ...status, state: 'sleeping' }), null);
    const meta = { formatVersion: 1, starts: [{ at: '2026-12-02T00:00:00.000Z', backend: 'wasm', device: 'CPU', resumedFromStep: 4 }], policy: { kind: 'counting' } };
    assert.deepEqual(problemsOf(meta, 'meta.schema.json'), []);
    assert.deepEqual(parseRunMeta(meta), meta);
    assert.notDeepEqual(problemsOf({ ...meta, starts: [{ at: 'now', backend: '', device: 'CPU' }] }, 'meta.schema.json'), []);
    assert.notDeepEqual(problemsOf({ starts: [] }, 'meta.schema.json'), []);
    assert.notDeepEqual(problemsOf({ step: 1, 'actor/pg_loss': 'high' }, 'metrics-line.schema.json'), []);
    assert.deepEqual(problemsOf({ step: 1, 'actor/pg_loss': null }, 'metrics-line.schema.json'), []);
    assert.notDeepEqual(problemsOf({ step: 1, at: 'now', refused: '' }, 'intervention-line.schema.json'), []);
    assert.deepEqual(problemsOf({ step: 1, at: 'now', controlId: 'x', refused: 'unknown control kind' }, 'intervention-line.schema.json'), []);
  });

  it('an applied line is what the extension reads; a refused line is skipped by it', () => {
    const applied = { step: 4, at: '2026-12-02T00:00:00.000Z', kind: 'setGroupWeight', controlId: 'w-1', control: { type: 'control/setGroupWeight', controlId: 'w-1', promptId: 'p', weight: 3 } };
    assert.deepEqual(problemsOf(applied, 'intervention-line.schema.json'), []);
    assert.ok(parseInterventionLine(applied).ok, 'the Rollout Groups panel lists an applied line');
    const refused = { step: 4, at: '2026-12-02T00:00:00.000Z', kind: 'setGroupWeight', controlId: 'w-2', inboxLine: 2, refused: 'setGroupWeight: this trainer does not support it' };
    assert.deepEqual(problemsOf(refused, 'intervention-line.schema.json'), []);
    assert.equal(parseInterventionLine(refused).ok, false, 'a refusal is never listed as an applied control');
  });

  it('run states, control kinds and estimators are the protocol\'s', () => {
    const status = schemas.get('status.schema.json') as { properties: { state: { enum: string[] } } };
    assert.deepEqual(status.properties.state.enum, [...RUN_STATES]);
    const control = schemas.get('control.schema.json') as { oneOf: { $ref: string }[]; $defs: Record<string, Schema> };
    assert.deepEqual(control.oneOf.map((option) => option.$ref.replace('#/$defs/', '')), CONTROL_KINDS);
    const intervention = schemas.get('intervention-line.schema.json') as { $defs: { applied: { properties: { kind: { enum: string[] } } } } };
    assert.deepEqual(intervention.$defs.applied.properties.kind.enum, CONTROL_KINDS);
    const changes = (control.$defs.setConfig as { properties: { changes: { properties: Record<string, Schema> } } }).properties.changes.properties;
    assert.deepEqual(Object.keys(changes).sort(), [...LIVE_CONFIG_KEYS].sort());
    assert.deepEqual((changes.estimator as { enum: string[] }).enum, [...ESTIMATOR_CHOICES]);
  });

  it('config.schema.json\'s settings are generated from the settings table (node --import tsx scripts/settings-manifest.ts)', () => {
    const config = schemas.get('config.schema.json') as { properties: Record<string, Schema & { properties?: Record<string, Schema> }> };
    const fields = runConfigSchemaFields();
    const { estimatorOptions, ...topLevel } = config.properties;
    assert.deepEqual(topLevel, fields.config, 'top-level settings');
    assert.deepEqual(estimatorOptions.properties, fields.estimatorOptions, 'estimator options');
  });

  it('config ranges are the settings table\'s, and setConfig ranges are LIVE_RANGES', () => {
    const config = (schemas.get('config.schema.json') as { properties: Record<string, Schema> }).properties;
    const estimatorOptions = (config.estimatorOptions as { properties: Record<string, Schema> }).properties;
    const expectNumber = (schema: Schema | undefined, range: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean }, what: string) => {
      assert.ok(schema, `${what} is declared`);
      assert.equal(schema.type, range.integer ? 'integer' : 'number', `${what}: type`);
      assert.equal(range.exclusiveMin ? schema.exclusiveMinimum : schema.minimum, range.min, `${what}: lower bound`);
      assert.equal(schema.maximum, range.max, `${what}: upper bound`);
    };
    for (const setting of SETTINGS) {
      const schema = setting.feeds === 'config' ? config[setting.name] : estimatorOptions[setting.name];
      const shape = setting.option.shape;
      const what = `config ${setting.feeds === 'config' ? '' : 'estimatorOptions.'}${setting.name}`;
      assert.ok(schema, `${what} is declared in schemas/config.schema.json`);
      if (shape?.kind === 'number') expectNumber(schema, shape.range, what);
      else if (shape?.kind === 'tuple') {
        assert.equal(schema.minItems, shape.names.length, `${what}: length`);
        expectNumber(schema.items as Schema, shape.range, `${what} items`);
      } else if (shape?.kind === 'choice') assert.deepEqual(schema.enum, [...shape.choices], `${what}: choices`);
      else if (shape?.kind === 'boolean') assert.equal(schema.type, 'boolean', `${what}: type`);
      else if (shape?.kind === 'interval') {
        const [nullOption, pair] = schema.oneOf as Schema[];
        assert.equal(nullOption.type, shape.nullable ? 'null' : undefined, `${what}: null allowed`);
        assert.equal(pair.minItems, 2, `${what}: a [low, high] pair`);
        expectNumber(pair.items as Schema, shape.range, `${what} items`);
      } else assert.equal(schema.type, 'string', `${what}: type`);
    }
    const control = schemas.get('control.schema.json') as { $defs: { setConfig: { properties: { changes: { properties: Record<string, Schema> } } } } };
    const changes = control.$defs.setConfig.properties.changes.properties;
    for (const [key, range] of Object.entries(LIVE_RANGES)) {
      if (key === 'durianWeight') expectNumber(changes.durianWeights.items as Schema, range, 'setConfig.changes.durianWeights items');
      else expectNumber(changes[key], range, `setConfig.changes.${key}`);
    }
  });

  it('a control is valid under control.schema.json exactly when the protocol accepts it', () => {
    const samples: unknown[] = [
      { type: 'control/pause', controlId: 'a' },
      { type: 'control/pause', controlId: 'a', extra: 1 },
      { type: 'control/pause', controlId: 'has space' },
      { type: 'control/pause', controlId: '' },
      { type: 'control/resume', controlId: 'x:1#2' },
      { type: 'control/stop', controlId: 'x'.repeat(200) },
      { type: 'control/stop', controlId: 'x'.repeat(201) },
      { type: 'control/fly', controlId: 'a' },
      { type: 'control/setConfig', controlId: 'a', changes: {} },
      { type: 'control/setConfig', controlId: 'a', changes: { lr: 0 } },
      { type: 'control/setConfig', controlId: 'a', changes: { lr: 1 } },
      { type: 'control/setConfig', controlId: 'a', changes: { lr: 1.01 } },
      { type: 'control/setConfig', controlId: 'a', changes: { groupSize: 1 } },
      { type: 'control/setConfig', controlId: 'a', changes: { groupSize: 64, batchSize: 1024 } },
      { type: 'control/setConfig', controlId: 'a', changes: { batchSize: 2.5 } },
      { type: 'control/setConfig', controlId: 'a', changes: { temperature: 0 } },
      { type: 'control/setConfig', controlId: 'a', changes: { durianWeights: [0, 0, 1e6] } },
      { type: 'control/setConfig', controlId: 'a', changes: { durianWeights: [1, 1] } },
      { type: 'control/setConfig', controlId: 'a', changes: { durianWeights: [-1, 1, 1] } },
      { type: 'control/setConfig', controlId: 'a', changes: { estimator: 'ppo' } },
      { type: 'control/setConfig', controlId: 'a', changes: { poolZeroVariance: 1 } },
      { type: 'control/setConfig', controlId: 'a', changes: { eps: 1, reasoningBins: 4096, minPromptsPerBin: 1, klBeta: 10, clipLow: 0, clipHigh: 1 } },
      { type: 'control/setConfig', controlId: 'a', changes: { warmupSteps: 3 } },
      { type: 'control/setGroupWeight', controlId: 'a', promptId: 'p', weight: 0 },
      { type: 'control/setGroupWeight', controlId: 'a', promptId: 'p', weight: 100.5 },
      { type: 'control/setGroupWeight', controlId: 'a', promptId: '', weight: 1 },
      { type: 'control/relabel', controlId: 'a', step: 3, promptId: 'p', rollout: 63, reward: -1e6 },
      { type: 'control/relabel', controlId: 'a', step: 3, promptId: 'p', rollout: 64, reward: 1 },
      { type: 'control/relabel', controlId: 'a', step: -1, promptId: 'p', rollout: 0, reward: 1 },
      { type: 'control/relabel', controlId: 'a', step: 3, promptId: 'p', rollout: 0 },
      { type: 'control/relabel', controlId: 'a', step: 3, promptId: 'p', rollout: 0, reward: 1, response: 'answer 4' },
      { type: 'control/relabel', controlId: 'a', step: 3, promptId: 'p', rollout: 0, reward: 1, response: 'x'.repeat(16 * 1024 + 1) },
      { type: 'control/relabel', controlId: 'a', step: 3, promptId: 'p', rollout: 0, reward: 1, response: 4 },
      { type: 'control/excludePrompt', controlId: 'a', promptId: 'p' },
      { type: 'control/undo', controlId: 'a', targetControlId: 'b' },
      { type: 'control/undo', controlId: 'a', targetControlId: 'b c' },
      'control/pause',
      null,
    ];
    for (const sample of samples) {
      const protocol = parseControl(sample).ok;
      const schema = problemsOf(sample, 'control.schema.json').length === 0;
      assert.equal(schema, protocol, `${JSON.stringify(sample)}: the protocol ${protocol ? 'accepts' : 'rejects'} it, the schema ${schema ? 'accepts' : 'rejects'} it`);
    }
  });
});
