/**
 * Hostile run folders against the real CLI (dist/cli.js, which starts dist/trainer.js): every refusal is one
 * line on stderr with exit code 2, and leaves every file byte-identical; nothing outside the run folder is
 * ever written, truncated or deleted through a symbolic link; a checkpoint that matches its manifest but
 * cannot be loaded is passed over for the older intact one; a damaged base-policy cache entry is rebuilt.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { EVENT } from '../../src/protocol/index.js';
import { cliBundle, readJsonl, runToEnd, snapshot, startTrainer, workFolder } from './runProcesses.js';

const work = workFolder('hostile');
const runs = path.join(work.dir, 'runs');
const base = path.join(runs, 'base');

/** A copy of the base run (4 steps, checkpoints at 2 and 4) under a new name. */
function copyOfBase(name: string): string {
  const dir = path.join(runs, name);
  fs.cpSync(base, dir, { recursive: true });
  return dir;
}

function cli(args: string[]) {
  return runToEnd(cliBundle, ['train', ...args], work.env);
}

/** Exit code 2 and exactly one line on stderr, matching `pattern`; nothing on stdout. */
function assertOneLineRefusal(result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(result.code, 2, `exit code 2; stderr: ${result.stderr}`);
  const lines = result.stderr.split('\n').filter((line) => line.length > 0);
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0], /^durian: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(result.stdout, '');
}

describe('hostile run folders (real CLI and trainer)', { timeout: 600_000 }, () => {
  before(async () => {
    const made = await cli(['--config', work.config({ steps: 4 }), '--out', base]);
    assert.equal(made.code, 0, made.stderr);
  });

  it('--out naming an existing run, and a backend that cannot be used: one line, exit 2, nothing written', async () => {
    const before = snapshot(base);
    assertOneLineRefusal(await cli(['--config', work.config(), '--out', base]), /A run named "base" already exists/);
    assert.deepEqual(snapshot(base), before);
    const missing = path.join(runs, 'no-backend');
    const result = await cli(['--config', work.config(), '--out', missing, '--backend', 'tfjs-node-gpu']);
    if (result.code !== 0) {
      assertOneLineRefusal(result, /backend 'tfjs-node-gpu' cannot be used/);
      assert.equal(fs.existsSync(missing), false, 'no run folder for a run that never started');
    }
  });

  it('refuses to resume a run without an intact checkpoint, keeping every byte, until --from-scratch', async () => {
    const noCheckpoint = copyOfBase('no-checkpoint');
    fs.rmSync(path.join(noCheckpoint, 'checkpoints'), { recursive: true });
    fs.mkdirSync(path.join(noCheckpoint, 'checkpoints'));
    const damaged = copyOfBase('damaged');
    for (const step of ['step-000002', 'step-000004']) fs.writeFileSync(path.join(damaged, 'checkpoints', step, 'weights.bin'), 'not weights');
    for (const [dir, why] of [[noCheckpoint, /it has no checkpoint/], [damaged, /step-000004 is damaged: part weights\.bin does not match its manifest/]] as const) {
      const before = snapshot(dir);
      const result = await cli(['--resume', dir, '--steps', '6']);
      assertOneLineRefusal(result, /Cannot resume .*: no intact checkpoint/);
      assert.match(result.stderr, why);
      assert.match(result.stderr, /holds 4 lines of metrics\.jsonl.*Nothing was changed.*--from-scratch/);
      assert.deepEqual(snapshot(dir), before, 'every file byte-identical');
    }
    const scratch = await cli(['--resume', damaged, '--from-scratch', '--steps', '3']);
    assert.equal(scratch.code, 0, scratch.stderr);
    assert.deepEqual(readJsonl(path.join(damaged, 'metrics.jsonl')).map((m) => m.step), [1, 2, 3], 'started over from step 0');
  });

  it('refuses a folder that only holds a config.json before writing anything', async () => {
    const folder = path.join(work.dir, 'a-project');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'config.json'), `${JSON.stringify({ steps: 3 })}\n`);
    const before = snapshot(folder);
    assertOneLineRefusal(await cli(['--resume', folder]), /is not a Durian run folder: it has no status\.json/);
    assert.deepEqual(snapshot(folder), before);
  });

  describe('symbolic links in a run folder: refused, nothing outside touched', () => {
    const outside = path.join(work.dir, 'outside');
    const cases: { name: string; link: string; target: 'file' | 'dir' }[] = [
      { name: 'metrics.jsonl linked to an outside file', link: 'metrics.jsonl', target: 'file' },
      { name: 'trainer.log linked to an outside file', link: 'trainer.log', target: 'file' },
      { name: 'rollouts/ linked to an outside folder', link: 'rollouts', target: 'dir' },
      { name: 'checkpoints/ linked to an outside folder', link: 'checkpoints', target: 'dir' },
      { name: 'images/ linked to an outside folder', link: 'images', target: 'dir' },
      { name: 'a checkpoint part linked to an outside file', link: 'checkpoints/step-000004/adam.bin', target: 'file' },
    ];
    for (const [i, attack] of cases.entries()) {
      it(attack.name, async () => {
        const dir = copyOfBase(`linked-${i}`);
        const target = path.join(outside, String(i));
        fs.mkdirSync(target, { recursive: true });
        const linked = path.join(dir, attack.link);
        // The outside target holds what the run had (a copy), plus a file of the user's own.
        if (attack.target === 'file') {
          fs.copyFileSync(linked, path.join(target, 'file'));
          fs.rmSync(linked);
          fs.symlinkSync(path.join(target, 'file'), linked);
        } else {
          fs.cpSync(linked, path.join(target, 'dir'), { recursive: true });
          fs.writeFileSync(path.join(target, 'dir', 'step-000099.jsonl'), 'the user\'s own file\n');
          fs.rmSync(linked, { recursive: true });
          fs.symlinkSync(path.join(target, 'dir'), linked);
        }
        const outsideBefore = snapshot(target);
        const runBefore = snapshot(dir);
        assertOneLineRefusal(await cli(['--resume', dir, '--steps', '6']), new RegExp(`holds a symbolic link, ${attack.link.replace(/[./]/g, '\\$&')} -> `));
        assert.deepEqual(snapshot(target), outsideBefore, 'the outside file or folder is untouched');
        assert.deepEqual(snapshot(dir), runBefore, 'the run is untouched');
      });
    }

    it('--out into an existing folder that holds a link', async () => {
      const dir = path.join(runs, 'new-with-link');
      fs.mkdirSync(dir);
      fs.mkdirSync(path.join(outside, 'images-of-new'), { recursive: true });
      fs.symlinkSync(path.join(outside, 'images-of-new'), path.join(dir, 'images'));
      assertOneLineRefusal(await cli(['--config', work.config(), '--out', dir]), /holds a symbolic link, images -> /);
      assert.deepEqual(fs.readdirSync(dir), ['images']);
      assert.deepEqual(fs.readdirSync(path.join(outside, 'images-of-new')), []);
    });
  });

  it('passes over a checkpoint that matches its manifest but cannot be loaded, for the older intact one', async () => {
    const dir = copyOfBase('undecodable');
    const checkpoint = path.join(dir, 'checkpoints', 'step-000004');
    const state = JSON.parse(fs.readFileSync(path.join(checkpoint, 'state.json'), 'utf8')) as { weightsIndex: Record<string, [number, number]> };
    for (const entry of Object.values(state.weightsIndex)) entry[0] += 1e9; // every array lies outside weights.bin
    const bytes = Buffer.from(JSON.stringify(state));
    fs.writeFileSync(path.join(checkpoint, 'state.json'), bytes);
    const manifestFile = path.join(checkpoint, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { parts: Record<string, { bytes: number; sha256: string }> };
    manifest.parts['state.json'] = { ...manifest.parts['state.json'], bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));

    const trainer = startTrainer(['--resume', dir, '--steps', '5'], work.env);
    const hello = await trainer.waitFor((e) => e.type === EVENT.hello, 'hello');
    assert.equal(hello.type === EVENT.hello ? hello.resumedFromStep : undefined, 2, 'resumed from the older intact checkpoint');
    await trainer.waitFor((e) => e.type === EVENT.done, 'done');
    assert.equal(await trainer.exit, 0, trainer.stderr());
    assert.match(fs.readFileSync(path.join(dir, 'trainer.log'), 'utf8'), /checkpoints\/step-000004 matches its manifest but cannot be loaded: weights\.bin: array .* lies outside/);
    assert.deepEqual(readJsonl(path.join(dir, 'metrics.jsonl')).map((m) => m.step), [1, 2, 3, 4, 5]);
  });

  it('rebuilds a damaged base-policy cache entry instead of using it', async () => {
    const cacheFolder = path.join(work.cacheDir, 'base-policy');
    const [bin] = fs.readdirSync(cacheFolder).filter((name) => name.endsWith('.bin'));
    const file = path.join(cacheFolder, bin);
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2) & ~3] ^= 0x01; // the lowest mantissa bit of one weight: still finite, silently wrong
    fs.writeFileSync(file, bytes);
    const dir = path.join(runs, 'after-damaged-cache');
    const result = await cli(['--config', work.config({ steps: 1 }), '--out', dir]);
    assert.equal(result.code, 0, result.stderr);
    const log = fs.readFileSync(path.join(dir, 'trainer.log'), 'utf8');
    assert.match(log, /base policy cache entry was damaged and has been rebuilt: .* does not match the SHA-256/);
    assert.match(log, /base policy built/);
    const index = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { sha256: string };
    assert.equal(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), index.sha256, 'the rebuilt entry matches its hash');
  });
});
