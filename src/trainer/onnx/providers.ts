/**
 * The onnxruntime execution providers of every session the trainer opens (rollout samplers, the image
 * encoder): CUDA first when onnxruntime-node can have it, else the CPU. onnxruntime-node 1.30 on Linux x64 is
 * built with CUDA support (`listSupportedBackends()` lists `cuda` with `bundled: false`), but the provider's
 * libraries are not in the npm package: its install script fetches `libonnxruntime_providers_cuda.so` and
 * `libonnxruntime_providers_shared.so` into the binding's folder (`bin/napi-v6/linux/x64/`). So CUDA is chosen
 * when the binding lists it and both libraries are there. `DURIAN_ORT_PROVIDERS` overrides: `cpu`, `cuda` (CUDA
 * or an error) or `cuda,cpu` (CUDA, else the CPU). A session whose creation with CUDA fails while the CPU is
 * allowed (no driver, no CUDA 12 / cuDNN 9 libraries, no memory) is created again on the CPU, with one warning
 * line saying why. What each kind of session ended up on is kept for the trainer's start-up log.
 */
import * as ort from 'onnxruntime-node';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DurianInputError } from '../../core/errors.js';
import { resolveAtRuntime } from '../backend/nativeRequire.js';

/** The environment variable that overrides the providers (for users and tests). */
export const ORT_PROVIDERS_ENV = 'DURIAN_ORT_PROVIDERS';

/** The values `DURIAN_ORT_PROVIDERS` accepts, each a provider list in the order they are tried. */
export const ORT_PROVIDER_SETTINGS = ['cpu', 'cuda', 'cuda,cpu'] as const;

export type OrtProvider = 'cuda' | 'cpu';

/** The libraries onnxruntime-node loads for its CUDA provider, next to its binding. */
const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

export interface OrtProviderChoice {
  /** Tried in this order; the CPU, when listed, is the fallback. */
  providers: readonly OrtProvider[];
  /** Why, in a few words ('DURIAN_ORT_PROVIDERS=cpu', 'CUDA provider not installed: ...'). */
  reason: string;
}

/** Which provider one kind of session ended up on, and why it is not the first one tried (if it is not). */
export interface OrtSessionOutcome {
  provider: OrtProvider;
  fallbackReason?: string;
}

/** Why the CUDA provider cannot be used by this onnxruntime-node, or undefined when it can. */
export function cudaProviderMissing(): string | undefined {
  if (!ort.listSupportedBackends().some((backend) => backend.name === 'cuda')) {
    return `this onnxruntime-node build (${process.platform}/${process.arch}) has no CUDA provider`;
  }
  const binFolder = path.join(path.dirname(resolveAtRuntime('onnxruntime-node/package.json')), 'bin');
  const bindingFolders = readdirSync(binFolder)
    .filter((name) => name.startsWith('napi-v'))
    .map((name) => path.join(binFolder, name, process.platform, process.arch))
    .filter((folder) => existsSync(path.join(folder, 'onnxruntime_binding.node')));
  if (bindingFolders.some((folder) => CUDA_PROVIDER_LIBRARIES.every((file) => existsSync(path.join(folder, file))))) return undefined;
  return `CUDA provider not installed: no ${CUDA_PROVIDER_LIBRARIES[0]} beside the binding in ${bindingFolders[0] ?? binFolder}`;
}

/** The providers to try: `DURIAN_ORT_PROVIDERS` when set, else CUDA then the CPU when CUDA is installed, else the CPU. */
export function chooseOrtProviders(env: NodeJS.ProcessEnv = process.env): OrtProviderChoice {
  const setting = env[ORT_PROVIDERS_ENV]?.trim();
  if (setting) {
    const normalised = setting.toLowerCase().split(',').map((name) => name.trim()).join(',');
    const known = ORT_PROVIDER_SETTINGS.find((allowed) => allowed === normalised);
    if (!known) {
      throw new DurianInputError(ORT_PROVIDERS_ENV, `'${setting}' is not a provider list; use one of ${ORT_PROVIDER_SETTINGS.map((s) => `'${s}'`).join(', ')} (or unset it for CUDA when installed, else the CPU)`);
    }
    return { providers: known.split(',') as OrtProvider[], reason: `${ORT_PROVIDERS_ENV}=${known}` };
  }
  const missing = cudaProviderMissing();
  return missing ? { providers: ['cpu'], reason: missing } : { providers: ['cuda', 'cpu'], reason: 'CUDA provider installed' };
}

const outcomes = new Map<string, OrtSessionOutcome>();
/** `kind` + reason of the fall-backs already warned about: a sampler opens two sessions, the user reads one line. */
const warned = new Set<string>();

/** The first line of an error's message. */
function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
}

function writeWarning(line: string): void {
  process.stderr.write(`warning: ${line}\n`);
}

/**
 * Opens an onnxruntime session on the chosen providers, keeping the caller's other options (threads, ...).
 * `kind` names the session in messages and in `ortSessionOutcomes()` ('rollouts', 'encoder'). When CUDA fails
 * and the CPU is allowed, the session is opened again on the CPU and `warn` gets one line saying why (once per
 * kind and reason in a process); when CUDA alone is allowed its failure is thrown, naming the setting; a failure
 * on the CPU is thrown as it is.
 */
export async function createOrtSession(
  kind: string,
  model: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  choice: OrtProviderChoice = chooseOrtProviders(),
  warn: (line: string) => void = writeWarning,
): Promise<ort.InferenceSession> {
  const [first, ...rest] = choice.providers;
  try {
    const session = await ort.InferenceSession.create(model, { ...options, executionProviders: [first] });
    outcomes.set(kind, { provider: first });
    return session;
  } catch (error) {
    if (first !== 'cuda') throw error;
    const reason = firstLine(error);
    if (!rest.includes('cpu')) throw new Error(`the ${kind} session could not use the CUDA provider (${choice.reason}): ${reason}`);
    if (!warned.has(`${kind}\n${reason}`)) {
      warned.add(`${kind}\n${reason}`);
      warn(`onnxruntime: the ${kind} session could not use the CUDA provider (${reason}); it runs on the CPU`);
    }
    const session = await ort.InferenceSession.create(model, { ...options, executionProviders: ['cpu'] });
    outcomes.set(kind, { provider: 'cpu', fallbackReason: reason });
    return session;
  }
}

/** What the latest session of each kind opened in this process runs on, by kind. */
export function ortSessionOutcomes(): ReadonlyMap<string, OrtSessionOutcome> {
  return outcomes;
}

/**
 * The start-up line of the onnxruntime providers: `onnxruntime providers cuda, cpu (CUDA provider installed);
 * encoder: cuda; rollouts: not opened yet`. Kinds in `expected` that no session has opened yet are listed as such.
 */
export function ortProvidersSummary(choice: OrtProviderChoice = chooseOrtProviders(), expected: readonly string[] = ['encoder', 'rollouts']): string {
  const kinds = [...new Set([...expected, ...outcomes.keys()])];
  const parts = kinds.map((kind) => {
    const outcome = outcomes.get(kind);
    if (!outcome) return `${kind}: not opened yet`;
    return `${kind}: ${outcome.provider}${outcome.fallbackReason ? ` (CUDA failed: ${outcome.fallbackReason})` : ''}`;
  });
  return `onnxruntime providers ${choice.providers.join(', ')} (${choice.reason}); ${parts.join('; ')}`;
}
