/** The extension manifest and the packaged .vsix: what VS Code and the marketplace read. */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** What `vsce ls` would package (listed once: each listing takes ~20 s on 2 cores). */
let listing: string[] | undefined;
function vsceFiles(): string[] {
  if (listing) return listing;
  const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
  const listed = spawnSync(process.execPath, [vsce, 'ls'], { cwd: root, encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  listing = listed.stdout.split('\n').filter(Boolean);
  return listing;
}

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
    const files = vsceFiles();
    for (const needed of ['dist/extension.js', 'dist/trainer.js', 'dist/cli.js', 'dist/webview/dashboard.js', 'dist/wasm/tfjs-backend-wasm-simd.wasm', 'media/encoder.onnx', 'README.md', 'node_modules/onnxruntime-node/dist/index.js']) {
      assert.ok(files.includes(needed), `${needed} ships`);
    }
    assert.ok(!files.some((f) => /\.map$|node_modules\/@tensorflow|napi-v6\/(darwin|win32)/.test(f)), 'no source maps, no tfjs packages, no other platforms');
    for (const file of files) assert.match(file, /^(dist\/[^/]+\.js|dist\/webview\/[^/]+\.(js|css)|dist\/wasm\/[^/]+\.wasm|media\/|package\.json|README\.md|LICENSE|CHANGELOG\.md|node_modules\/onnxruntime-(node|common)\/)/, file);
  });

  it('ships no sources, tests, caches or maps, only linux-x64 native binaries, and stays small', () => {
    const files = vsceFiles();
    const unwanted = files.filter((f) => /^(src|test|\.cache|scripts|bench|webview|test-results|\.github|\.vscode)\/|(^|\/)(test|tests|__tests__)\/|\.(ts|mts|cts|map|vsix|tsbuildinfo)$|(^|\/)(tsconfig[^/]*\.json|eslint\.config\.[cm]?js|\.npmrc|\.vscodeignore)$/.test(f));
    assert.deepEqual(unwanted, [], 'no TypeScript sources, tests, scripts, caches, source maps, build configs or packages');
    const native = files.filter((f) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(f));
    assert.ok(native.length > 0, 'onnxruntime-node ships its native binaries');
    for (const file of native) assert.match(file, /^node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/[^/]+$/, `${file}: only the linux-x64 target's binaries ship`);
    for (const file of files.filter((f) => f.startsWith('media/'))) assert.match(file, /^media\/[^/]+\.(png|svg|onnx|json|md)$/, file);
    for (const file of files.filter((f) => /^node_modules\/onnxruntime-(node|common)\//.test(f) && !native.includes(f))) {
      assert.match(file, /^node_modules\/onnxruntime-(node|common)\/(package\.json|dist\/([^/]+\/)*[^/]+\.js|dist\/cjs\/package\.json)$/, `${file}: only the runtime JavaScript of onnxruntime`);
    }
    // The packaged .vsix, when built (`npm run package`): about 19 MB; every platform's binaries would be > 100 MB.
    const vsix = path.join(root, 'dist', 'durian-rl.vsix');
    if (existsSync(vsix)) assert.ok(statSync(vsix).size < 25 * 1024 * 1024, `${vsix} is ${statSync(vsix).size} bytes`);
  });
});

/** The packaging script (scripts/package.mjs): one .vsix per platform onnxruntime-node has binaries for. */
const packager = path.join(root, 'scripts/package.mjs');
const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
const targets = JSON.parse(spawnSync(process.execPath, [packager, '--targets'], { cwd: root, encoding: 'utf8' }).stdout) as Record<string, { folder: string }>;
const nativeFile = /\.(node|so(\.\d+)*|dylib|dll)$/;

describe('one .vsix per target platform', () => {
  it("packages every platform onnxruntime-node ships binaries for, and the default .vsix is linux-x64's", () => {
    const shipped = ['darwin', 'linux', 'win32'].flatMap((platform) => {
      const dir = path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', platform);
      return existsSync(dir) ? readdirSync(dir).map((arch) => `${platform}-${arch}`) : [];
    });
    assert.deepEqual(Object.keys(targets).sort(), shipped.sort());
    assert.equal(manifest.scripts['package:vsix'], 'node scripts/package.mjs --target linux-x64 --out dist/durian-rl.vsix');
    assert.match(manifest.scripts['package:all'], /node scripts\/package\.mjs --all/);
  });

  it("lists, for each target, that target's onnxruntime binaries and no other platform's", async () => {
    const run = promisify(execFile);
    const listings = await Promise.all(
      Object.keys(targets).map(async (target) => {
        const ignoreFile = spawnSync(process.execPath, [packager, '--ignore-file', target], { cwd: root, encoding: 'utf8' }).stdout.trim();
        const { stdout } = await run(process.execPath, [vsce, 'ls', '--ignoreFile', ignoreFile], { cwd: root, maxBuffer: 16 << 20 });
        return [target, stdout.split('\n').filter(Boolean)] as const;
      }),
    );
    for (const [target, files] of listings) {
      const folder = `node_modules/onnxruntime-node/bin/napi-v6/${targets[target].folder}/`;
      const native = files.filter((f) => nativeFile.test(f));
      assert.ok(native.includes(`${folder}onnxruntime_binding.node`), `${target}: its binding ships`);
      for (const file of native) assert.ok(file.startsWith(folder) && !file.slice(folder.length).includes('/'), `${target}: ${file} is not its own binary`);
      // Every binary of its folder ships, except darwin's versioned copy of libonnxruntime.1.dylib (byte-identical).
      const expected = readdirSync(path.join(root, folder)).filter((file) => !/^libonnxruntime\.\d+(\.\d+)+\.dylib$/.test(file));
      assert.deepEqual(native.map((file) => file.slice(folder.length)).sort(), expected.sort(), `${target}: its binaries, each once`);
      assert.ok(files.includes('dist/trainer.js') && files.includes('media/encoder.onnx'), `${target}: the extension itself ships`);
    }
  });

  it('writes a real per-target .vsix with a CycloneDX SBOM beside it naming onnxruntime-node and the bundled packages', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'durian-vsix-'));
    try {
      const vsix = path.join(out, 'durian-rl-linux-arm64.vsix');
      const packaged = spawnSync(process.execPath, [packager, '--target', 'linux-arm64', '--out', vsix], { cwd: root, encoding: 'utf8' });
      assert.equal(packaged.status, 0, packaged.stderr);
      const entries = spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      assert.match(readFileSync(vsix).subarray(0, 4).toString('latin1'), /^PK/);
      assert.ok(entries.includes('extension.vsixmanifest'));
      assert.match(spawnSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' }).stdout, /TargetPlatform="linux-arm64"/);
      const native = entries.filter((f) => nativeFile.test(f));
      assert.deepEqual(native.sort(), ['extension/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1', 'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node']);

      const sbom = JSON.parse(readFileSync(path.join(out, 'durian-rl-linux-arm64.cdx.json'), 'utf8'));
      assert.equal(sbom.bomFormat, 'CycloneDX');
      assert.match(sbom.specVersion, /^1\.\d+$/);
      assert.equal(sbom.metadata.component.name, 'durian-rl');
      const property = (name: string) => sbom.metadata.component.properties.find((p: { name: string }) => p.name === name)?.value;
      assert.equal(property('durian:target'), 'linux-arm64');
      assert.equal(property('durian:vsix-sha256'), createHash('sha256').update(readFileSync(vsix)).digest('hex'));
      const components = new Map<string, { version: string; purl: string; properties: { name: string; value: string }[] }>(sbom.components.map((c: { name: string }) => [c.name, c]));
      for (const name of ['onnxruntime-node', 'onnxruntime-common', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'pngjs', 'jpeg-js', 'hyparquet', 'uplot', '@vscode-elements/elements', 'protobufjs']) {
        const component = components.get(name);
        assert.ok(component, `${name} is in the SBOM`);
        const installed = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
        assert.equal(component.version, installed, `${name}: the installed version`);
        assert.equal(component.purl, `pkg:npm/${name.replace('@', '%40')}@${installed}`);
        assert.ok(component.properties.some((p) => p.name === 'durian:shipped'), `${name}: says how it ships`);
      }
      assert.ok(components.get('onnxruntime-node')?.properties.some((p) => p.value === 'files under node_modules/onnxruntime-node/'));
      for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'adm-zip', 'global-agent', 'esbuild', 'typescript']) {
        assert.ok(!components.has(name), `${name} does not ship, so it is not in the SBOM`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
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
