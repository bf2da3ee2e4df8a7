/**
 * A real VS Code server (code-server, installed by scripts/e2e-setup.sh) in an isolated run folder: its own
 * HOME, XDG folders, a short TMPDIR (unix socket paths must stay under 107 characters), user settings that
 * avoid first-run dialogs, and the packaged extension installed with `--install-extension`. Shared by the
 * e2e tests (through harness.ts) and `npm run try`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { e2ePaths, projectRoot } from './setup.js';

export interface ServerOptions {
  /** The folder VS Code opens (default: `ws/` in the run folder, removed with it). */
  workspaceDir?: string;
  /** Files to write into the workspace before start: relative path -> content. */
  workspaceFiles?: Record<string, string>;
  /** Extra user settings, merged over the defaults below. */
  settings?: Record<string, unknown>;
  /** The .vsix to install (default dist/durian-rl.vsix). */
  vsix?: string;
  /** Port to listen on (default: a free one). */
  port?: number;
  /** How long to wait for /healthz (default 60 s). */
  startTimeoutMs?: number;
}

export interface VsCodeServer {
  readonly port: number;
  /** The workbench URL, with the workspace folder opened. */
  readonly url: string;
  readonly runDir: string;
  readonly workspaceDir: string;
  readonly logFile: string;
  readonly pid: number;
  /** Resolves when code-server exits (by stop() or on its own) with its exit code or signal. */
  readonly exited: Promise<number | string>;
  /** The last lines of code-server's log (for error messages). */
  logTail(lines?: number): string;
  /** Kills code-server (its whole process group) and removes the run folder unless `keep`. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

const defaultSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'chat.disableAIFeatures': true,
  'window.restoreWindows': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/** Process groups of the code-servers this process started and has not stopped yet -> their run folders. */
const liveGroups = new Map<number, string>();
let trapInstalled = false;

function installExitTrap(): void {
  if (trapInstalled) return;
  trapInstalled = true;
  const killAll = () => {
    for (const [pid, runDir] of liveGroups) {
      killGroup(pid, 'SIGKILL');
      if (process.env.E2E_KEEP !== '1') rmSync(runDir, { recursive: true, force: true });
    }
    liveGroups.clear();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (os.constants.signals[signal] ?? 1));
    });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** A run folder with a short path: code-server's unix sockets live in its TMPDIR. */
function makeRunDir(): string {
  const base = os.tmpdir().length <= 40 ? os.tmpdir() : '/tmp';
  return mkdtempSync(path.join(base, 'dre2e-'));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The environment code-server runs in: Node 24 first on PATH, everything else inside the run folder. */
function serverEnv(runDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // VSCODE_* would make the CLI talk to an outer VS Code; NODE_OPTIONS may carry tsx's loader.
    if (key.startsWith('VSCODE_') || key === 'NODE_OPTIONS' || key === 'ELECTRON_RUN_AS_NODE') continue;
    env[key] = value;
  }
  const dirs = { HOME: 'home', XDG_CONFIG_HOME: 'config', XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', TMPDIR: 't' };
  for (const [key, name] of Object.entries(dirs)) {
    const dir = path.join(runDir, name);
    mkdirSync(dir, { recursive: true });
    env[key] = dir;
  }
  env.PATH = `${e2ePaths.node24Bin}${path.delimiter}${process.env.PATH ?? ''}`;
  return env;
}

function writeUserSettings(userDataDir: string, settings: Record<string, unknown>): void {
  const userDir = path.join(userDataDir, 'User');
  mkdirSync(userDir, { recursive: true });
  writeFileSync(path.join(userDir, 'settings.json'), `${JSON.stringify({ ...defaultSettings, ...settings }, null, 2)}\n`);
}

/**
 * Packages the extension into dist/durian-rl.vsix when the .vsix is missing or older than the bundle or
 * the manifest (`npm run package` does the same after a build; this covers `npm test`, which only builds).
 */
export function ensureVsix(vsix = e2ePaths.vsix): string {
  const inputs = ['dist/extension.js', 'dist/trainer.js', 'dist/webview/dashboard.js', 'package.json', '.vscodeignore'].map((file) => path.join(projectRoot, file));
  for (const input of inputs) if (!existsSync(input)) throw new Error(`${input} is missing: run \`npm run build\` first`);
  const newest = Math.max(...inputs.map((input) => statSync(input).mtimeMs));
  if (existsSync(vsix) && statSync(vsix).mtimeMs >= newest) return vsix;
  // The same packaging as `npm run package` (target platform, onnxruntime-node included).
  const result = spawnSync('npm', ['run', '--silent', 'package:vsix', '--', '--out', vsix], { cwd: projectRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`vsce package failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return vsix;
}

function installExtension(vsix: string, dirs: { userData: string; extensions: string }, env: NodeJS.ProcessEnv): void {
  const args = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', vsix, '--force'];
  const result = spawnSync(e2ePaths.codeServer, args, { env, encoding: 'utf8', timeout: 120_000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0 || !/successfully installed/i.test(output)) {
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${result.status}${result.error ? `, ${result.error.message}` : ''}):\n${output}`);
  }
}

function readTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForHealthz(port: number, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before answering /healthz; its log:\n${readTail(logFile, 40)}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer /healthz within ${Math.round(timeoutMs / 1000)} s; its log:\n${readTail(logFile, 40)}`);
}

/** Starts code-server with the extension installed; resolves once /healthz answers 200. */
export async function startServer(options: ServerOptions): Promise<VsCodeServer> {
  installExitTrap();
  const runDir = makeRunDir();
  const env = serverEnv(runDir);
  const dirs = { userData: path.join(runDir, 'user-data'), extensions: path.join(runDir, 'extensions') };
  const logFile = path.join(runDir, 'code-server.log');
  let child: ChildProcess | undefined;
  try {
    const workspaceDir = writeWorkspace(options.workspaceDir ?? path.join(runDir, 'ws'), options.workspaceFiles ?? {});
    writeUserSettings(dirs.userData, options.settings ?? {});
    installExtension(options.vsix ?? e2ePaths.vsix, dirs, env);
    const port = options.port ?? (await freePort());
    const args = [
      '--user-data-dir', dirs.userData,
      '--extensions-dir', dirs.extensions,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--ignore-last-opened',
      workspaceDir,
    ];
    const log = openSync(logFile, 'a');
    // detached: its own process group, so stop() can end it and every helper it forks.
    child = spawn(e2ePaths.codeServer, args, { env, cwd: workspaceDir, detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${e2ePaths.codeServer}`);
    liveGroups.set(pid, runDir);
    await waitForHealthz(port, child, logFile, options.startTimeoutMs ?? 60_000);
    return makeHandle(child, pid, { port, runDir, logFile, workspaceDir });
  } catch (error) {
    if (child?.pid !== undefined) await stopProcess(child, child.pid);
    const keep = process.env.E2E_KEEP === '1';
    if (!keep) rmSync(runDir, { recursive: true, force: true });
    throw error;
  }
}

async function stopProcess(child: ChildProcess, pid: number): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  killGroup(pid, 'SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') killGroup(pid, 'SIGKILL');
  // Helpers in the group that ignored SIGTERM.
  killGroup(pid, 'SIGKILL');
  liveGroups.delete(pid);
}

function makeHandle(
  child: ChildProcess,
  pid: number,
  where: { port: number; runDir: string; logFile: string; workspaceDir: string },
): VsCodeServer {
  let stopped = false;
  const exited = new Promise<number | string>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode ?? 'exited');
    else child.once('exit', (code, signal) => resolve(code ?? signal ?? 'exited'));
  });
  return {
    ...where,
    pid,
    exited,
    url: `http://127.0.0.1:${where.port}/?folder=${encodeURIComponent(where.workspaceDir)}`,
    logTail: (lines = 40) => readTail(where.logFile, lines),
    async stop({ keep = process.env.E2E_KEEP === '1' } = {}) {
      if (stopped) return;
      stopped = true;
      await stopProcess(child, pid);
      if (!keep) rmSync(where.runDir, { recursive: true, force: true });
    },
  };
}

/**
 * Sample lines for `Durian: Compute Advantages of a JSON Lines File`: one batch with the estimator of the
 * settings (no `estimator` field), one naming Durian with its own options.
 */
export const sampleBatches = [
  { index: ['p0', 'p0', 'p1', 'p1'], scores: [0, 1, 1, 1], visualEntropy: [0.5, 0.5, 1.5, 1.5], logprob: [-0.3, -0.6, -0.2, -0.1] },
  {
    estimator: 'durian',
    options: { reasoningBins: 2 },
    index: ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd'],
    scores: [1, 0, 1, 1, 0, 0, 1, 0],
    visualEntropy: [1, 1, 2, 2, 3, 3, 4, 4],
    logprob: [-0.2, -0.4, -0.1, -0.1, -0.9, -0.8, -0.3, -0.5],
  },
];

/** Writes files (relative path -> content) into a workspace folder, creating it and sub-folders. */
export function writeWorkspace(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}
