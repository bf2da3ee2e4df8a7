/**
 * Chooses the tfjs backend for training at start-up: tfjs-node-gpu, then tfjs-node, then wasm, then the
 * pure-JS cpu backend — the first that loads and passes `backendSelfCheck`. A forced choice fails with the
 * reason instead of falling back. The result (name, device, every attempt with its reason) is what the
 * trainer reports in its first event.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_NAMES, type BackendName } from '../../protocol/settings.js';
import { requireAtRuntime, resolveAtRuntime } from './nativeRequire.js';
import { backendSelfCheck } from './selfCheck.js';
import { installWasmKernels } from './wasmKernels.js';

export { BACKEND_NAMES, type BackendName };

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it failed in a few words ('not installed'), or a short note on success. */
  reason: string;
  /** The error's first line when it says more than `reason` (e.g. `Cannot find module '...'`). */
  detail?: string;
}

export interface BackendInfo {
  name: BackendName;
  /** Human-readable device, e.g. 'CPU (wasm, SIMD, 1 thread)' or the GPU's name. */
  device: string;
  tried: BackendAttempt[];
}

export interface BackendOptions {
  /** 'auto' (default) tries each in order; a name forces that backend. */
  backend?: BackendName | 'auto' | string;
}

export class BackendError extends Error {
  readonly tried: BackendAttempt[];
  constructor(message: string, tried: BackendAttempt[]) {
    super(message);
    this.name = 'BackendError';
    this.tried = tried;
  }
}

interface Loaded {
  /** The tfjs backend name registered by the package. */
  tfName: string;
  device: () => string;
}

/** The npm package each native backend loads. */
const PACKAGES: Partial<Record<BackendName, string>> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
};

/** A failed attempt: 'not installed' when the backend's own package is missing, else the error's first line. */
function failure(name: BackendName, error: unknown): BackendAttempt {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n')[0].trim();
  const code = (error as { code?: unknown } | null)?.code;
  const pkg = PACKAGES[name];
  if (code === 'MODULE_NOT_FOUND' && pkg !== undefined && line.includes(`'${pkg}'`)) return { name, ok: false, reason: 'not installed', detail: line };
  return { name, ok: false, reason: line };
}

function gpuName(): string {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      timeout: 3000,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const name = out.split('\n')[0].trim();
    if (name) return `GPU (${name}, CUDA)`;
  } catch {
    // nvidia-smi is optional: fall through to a generic name.
  }
  return 'GPU (CUDA)';
}

let wasmPathsSet = false;

async function load(name: BackendName): Promise<Loaded> {
  switch (name) {
    case 'tfjs-node-gpu':
      requireAtRuntime('@tensorflow/tfjs-node-gpu');
      return { tfName: 'tensorflow', device: gpuName };
    case 'tfjs-node':
      requireAtRuntime('@tensorflow/tfjs-node');
      return { tfName: 'tensorflow', device: () => 'CPU (TensorFlow native)' };
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (!wasmPathsSet) {
        // The .wasm binaries: next to the trainer bundle (dist/wasm/, copied by scripts/build.mjs: what an
        // installed extension ships), else in the package's dist/ in node_modules (running from source).
        const bundled = path.join(__dirname, 'wasm');
        const dist = existsSync(path.join(bundled, 'tfjs-backend-wasm-simd.wasm'))
          ? bundled
          : path.join(path.dirname(resolveAtRuntime('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
        wasm.setWasmPaths(dist + path.sep);
        wasmPathsSet = true;
      }
      return {
        tfName: 'wasm',
        device: () => {
          const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? ', SIMD' : '';
          const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? wasm.getThreadsCount() : 1;
          return `CPU (wasm${simd}, ${threads} thread${threads === 1 ? '' : 's'})`;
        },
      };
    }
    case 'cpu':
      return { tfName: 'cpu', device: () => 'CPU (pure JS, tfjs cpu backend)' };
  }
}

async function activate(name: BackendName): Promise<{ device: string }> {
  const loaded = await load(name);
  if (!tf.findBackendFactory(loaded.tfName)) throw new Error(`the package loaded but registered no '${loaded.tfName}' backend`);
  const ok = await tf.setBackend(loaded.tfName);
  if (!ok) throw new Error(`tf.setBackend('${loaded.tfName}') failed to initialise`);
  await tf.ready();
  if (loaded.tfName === 'wasm') installWasmKernels();
  const problem = backendSelfCheck();
  if (problem) throw new Error(problem);
  return { device: loaded.device() };
}

function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/** Selects and activates a tfjs backend; see the module comment for the order. */
export async function selectBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const requested = options.backend ?? 'auto';
  const tried: BackendAttempt[] = [];
  if (requested !== 'auto' && !isBackendName(requested)) {
    throw new BackendError(
      `unknown backend '${requested}': expected 'auto' or one of ${BACKEND_NAMES.map((n) => `'${n}'`).join(', ')}`,
      tried,
    );
  }
  const order: readonly BackendName[] = requested === 'auto' ? BACKEND_NAMES : [requested];
  for (const name of order) {
    try {
      const { device } = await activate(name);
      tried.push({ name, ok: true, reason: 'loaded and passed the self-check' });
      return { name, device, tried };
    } catch (error) {
      tried.push(failure(name, error));
    }
  }
  const summary = tried.map((t) => `${t.name}: ${t.reason}${t.detail ? ` (${t.detail})` : ''}`).join('; ');
  throw new BackendError(
    requested === 'auto' ? `no tfjs backend could be used (${summary})` : `backend '${requested}' cannot be used: ${summary}`,
    tried,
  );
}

/**
 * The start-up line of a chosen backend, short on the expected path: `backend wasm (CPU (wasm, SIMD,
 * 1 thread)); tried tfjs-node-gpu: not installed, tfjs-node: not installed, wasm: ok`.
 */
export function backendSummary(info: BackendInfo): string {
  return `backend ${info.name} (${info.device}); tried ${info.tried.map((t) => `${t.name}: ${t.ok ? 'ok' : t.reason}`).join(', ')}`;
}

/** The full reasons the summary shortens (for the debug log), or undefined when it shortens none. */
export function backendDetails(info: BackendInfo): string | undefined {
  const detailed = info.tried.filter((t) => t.detail);
  return detailed.length === 0 ? undefined : `backend attempts: ${detailed.map((t) => `${t.name}: ${t.detail}`).join('; ')}`;
}
