/** The extension manifest and the packaged .vsix: what VS Code and the marketplace read. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('extension manifest', () => {
  it('has the fields VS Code requires and the CLI bin', () => {
    for (const field of ['name', 'displayName', 'publisher', 'version', 'main', 'engines']) assert.ok(manifest[field], field);
    assert.match(manifest.engines.vscode, /^\^1\.\d+\.\d+$/);
    assert.equal(manifest.main, './dist/extension.js');
    assert.deepEqual(manifest.bin, { durian: 'dist/cli.js' });
    assert.ok(existsSync(path.join(root, 'dist/extension.js')), 'dist/extension.js is built');
    assert.match(readFileSync(path.join(root, 'dist/cli.js'), 'utf8').split('\n')[0], /^#!\/usr\/bin\/env node/);
  });

  it('puts every command in the Durian category and registers each one in the extension source', () => {
    const source = readFileSync(path.join(root, 'src/extension/extension.ts'), 'utf8');
    assert.ok(manifest.contributes.commands.length > 0);
    for (const command of manifest.contributes.commands) {
      assert.equal(command.category, 'Durian', command.command);
      assert.ok(source.includes(`'${command.command}'`), `${command.command} is registered`);
    }
  });

  it('contributes a Runs view in its own container, settings with descriptions, and icons that exist', () => {
    const container = manifest.contributes.viewsContainers.activitybar[0];
    assert.ok(existsSync(path.join(root, container.icon)));
    assert.ok(existsSync(path.join(root, manifest.icon)));
    assert.equal(manifest.contributes.views[container.id][0].name, 'Runs');
    for (const [key, setting] of Object.entries(manifest.contributes.configuration.properties as Record<string, { description?: string; markdownDescription?: string }>)) {
      assert.ok(key.startsWith('durian.'), key);
      assert.ok((setting.description ?? setting.markdownDescription ?? '').length > 20, `${key} has a description`);
    }
  });

  it('packages only the bundles, media and docs into the .vsix', () => {
    const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
    const listed = spawnSync(process.execPath, [vsce, 'ls'], { cwd: root, encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const files = listed.stdout.split('\n').filter(Boolean);
    for (const needed of ['dist/extension.js', 'dist/trainer.js', 'dist/cli.js', 'dist/webview/dashboard.js', 'dist/wasm/tfjs-backend-wasm-simd.wasm', 'media/encoder.onnx', 'README.md', 'node_modules/onnxruntime-node/dist/index.js']) {
      assert.ok(files.includes(needed), `${needed} ships`);
    }
    assert.ok(!files.some((f) => /\.map$|node_modules\/@tensorflow|napi-v6\/(darwin|win32)/.test(f)), 'no source maps, no tfjs packages, no other platforms');
    for (const file of files) assert.match(file, /^(dist\/[^/]+\.js|dist\/webview\/[^/]+\.(js|css)|dist\/wasm\/[^/]+\.wasm|media\/|package\.json|README\.md|LICENSE|CHANGELOG\.md|node_modules\/onnxruntime-(node|common)\/)/, file);
  });
});

describe('settings and the trainer config', () => {
  it('every durian.training.* setting is a trainer config field with a range no wider than the trainer accepts', async () => {
    const { parseTrainConfig } = await import('../../src/trainer/config.js');
    const defaults = parseTrainConfig({}) as unknown as Record<string, unknown>;
    const properties = manifest.contributes.configuration.properties as Record<string, { minimum?: number; maximum?: number }>;
    for (const [key, setting] of Object.entries(properties)) {
      if (!key.startsWith('durian.training.')) continue;
      const field = key.slice('durian.training.'.length);
      assert.ok(field in defaults, `${field} is a trainer config field`);
      if (typeof setting.maximum === 'number') assert.doesNotThrow(() => parseTrainConfig({ [field]: setting.maximum }), `${field} = maximum is accepted`);
    }
  });
});
