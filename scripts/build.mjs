// Builds one esbuild bundle per entry into dist/: the extension host, the trainer process, the CLI,
// and one browser bundle per webview (webview/<name>/main.ts -> dist/webview/<name>.js).
// Usage: node scripts/build.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
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
const wasmSource = path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
if (existsSync(wasmSource)) {
  mkdirSync(path.join(root, 'dist', 'wasm'), { recursive: true });
  for (const file of readdirSync(wasmSource).filter((f) => f.endsWith('.wasm'))) {
    copyFileSync(path.join(wasmSource, file), path.join(root, 'dist', 'wasm', file));
  }
}

if (watch) {
  const contexts = await Promise.all(configs.map((c) => esbuild.context(c)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log(`watching ${contexts.length} bundles (Ctrl+C to stop)`);
} else {
  const started = Date.now();
  await Promise.all(configs.map((c) => esbuild.build(c)));
  console.log(`built ${configs.length} bundles into dist/ in ${Date.now() - started} ms`);
}
