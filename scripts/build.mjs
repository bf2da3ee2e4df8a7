// Builds one esbuild bundle per entry into dist/: the extension host, the trainer process, the CLI,
// and one browser bundle per webview (webview/<name>/main.ts -> dist/webview/<name>.js).
// Usage: node scripts/build.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// Native or heavy runtime packages are loaded only inside the trainer process, from node_modules.
const nativeExternals = [
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'onnxruntime-node',
];

const common = {
  bundle: true,
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const nodeEntries = [
  { in: 'src/extension/extension.ts', out: 'extension', external: ['vscode'] },
  { in: 'src/trainer/main.ts', out: 'trainer', external: nativeExternals },
  { in: 'src/cli/main.ts', out: 'cli', external: nativeExternals, banner: '#!/usr/bin/env node' },
  // The general policy's gradient worker (a worker_thread of the trainer and the CLI: src/trainer/policy/parallel).
  { in: 'src/trainer/policy/parallel/worker.ts', out: 'gradientWorker', external: nativeExternals },
];

const configs = [];
for (const entry of nodeEntries) {
  if (!existsSync(path.join(root, entry.in))) continue;
  configs.push({
    ...common,
    entryPoints: { [entry.out]: entry.in },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: entry.external,
    banner: entry.banner ? { js: entry.banner } : undefined,
  });
}

const webviewRoot = path.join(root, 'webview');
if (existsSync(webviewRoot)) {
  for (const name of readdirSync(webviewRoot)) {
    const entry = path.join('webview', name, 'main.ts');
    if (!existsSync(path.join(root, entry))) continue;
    configs.push({
      ...common,
      entryPoints: { [name]: entry },
      outdir: 'dist/webview',
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      loader: { '.css': 'css' },
    });
  }
}

// The trainer bundle inlines tfjs-backend-wasm's JS but loads its .wasm binaries from files: ship them
// beside it (dist/wasm/), so an installed extension needs no node_modules for them.
const copiedFrom = {}; // dist file -> the package it was copied from (for dist/bundled-packages.json)
const wasmSource = path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
if (existsSync(wasmSource)) {
  mkdirSync(path.join(root, 'dist', 'wasm'), { recursive: true });
  for (const file of readdirSync(wasmSource).filter((f) => f.endsWith('.wasm'))) {
    copyFileSync(path.join(wasmSource, file), path.join(root, 'dist', 'wasm', file));
    copiedFrom[`dist/wasm/${file}`] = ['node_modules/@tensorflow/tfjs-backend-wasm'];
  }
}

if (watch) {
  const contexts = await Promise.all(configs.map((c) => esbuild.context(c)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log(`watching ${contexts.length} bundles (Ctrl+C to stop)`);
} else {
  const started = Date.now();
  const results = await Promise.all(configs.map((c) => esbuild.build({ ...c, metafile: true })));
  writeBundledPackages(results.map((r) => r.metafile));
  console.log(`built ${configs.length} bundles into dist/ in ${Date.now() - started} ms`);
}

// dist/bundled-packages.json: for each bundle, the npm packages esbuild put into it (their folders under
// node_modules/), and for each copied file (dist/wasm/*.wasm) its package. scripts/package.mjs lists them in the
// .vsix's SBOM; the file itself does not ship.
function writeBundledPackages(metafiles) {
  const bundles = { ...copiedFrom };
  for (const metafile of metafiles) {
    for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
      if (!/\.(js|css)$/.test(output)) continue;
      const folders = new Set();
      for (const input of Object.keys(inputs)) {
        const parts = input.split('/');
        const last = parts.lastIndexOf('node_modules');
        if (last < 0 || last + 1 >= parts.length) continue;
        folders.add(parts.slice(0, last + (parts[last + 1].startsWith('@') ? 3 : 2)).join('/'));
      }
      bundles[output] = [...folders].sort();
    }
  }
  writeFileSync(path.join(root, 'dist', 'bundled-packages.json'), `${JSON.stringify(bundles, null, 2)}\n`);
}
