/** Backend selection for the trainer: which tfjs backend trains, on what device, and why. */
export { BACKEND_NAMES, BackendError, backendDetails, backendSummary, selectBackend } from './select.js';
export type { BackendAttempt, BackendInfo, BackendName, BackendOptions } from './select.js';
export { installWasmKernels } from './wasmKernels.js';
export { requireAtRuntime, resolveAtRuntime } from './nativeRequire.js';
