/**
 * A `require` that esbuild leaves alone, for packages that must be loaded from node_modules at run time
 * (native addons such as tfjs-node, and files such as the wasm binaries). It resolves from this file when run
 * from source (tsx) and from the bundle's own location when run from dist/, so both find the project's
 * node_modules.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

function anchor(): string {
  // __filename exists in both cases (the sources are CommonJS, and so is the esbuild bundle).
  return typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'index.js');
}

const runtimeRequire = createRequire(anchor());

/** Loads a package by a name held in a variable, so no bundler inlines it. */
export function requireAtRuntime(name: string): unknown {
  return runtimeRequire(name);
}

/** Absolute path of a file inside an installed package (e.g. `@tensorflow/tfjs-backend-wasm/package.json`). */
export function resolveAtRuntime(request: string): string {
  return runtimeRequire.resolve(request);
}
