// `npm run try`: the packaged extension in a real VS Code (code-server) you open in your own browser.
// Builds and packages dist/durian-rl.vsix, runs scripts/e2e-setup.sh (cached after the first time), writes a
// sample workspace into .cache/try-workspace, starts code-server on 127.0.0.1 with the extension installed,
// prints the URL and runs until Ctrl+C. The server code is the e2e tests' own (test/e2e/server.ts).
// Usage: npm run try [-- --port 8080] [-- --workspace DIR] [-- --skip-build]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { require as tsxRequire } from 'tsx/cjs/api';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function parseArgs(argv) {
  const options = { port: undefined, workspace: path.join(root, '.cache', 'try-workspace'), build: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') options.port = Number(argv[++i]);
    else if (arg.startsWith('--port=')) options.port = Number(arg.slice('--port='.length));
    else if (arg === '--workspace') options.workspace = path.resolve(argv[++i]);
    else if (arg.startsWith('--workspace=')) options.workspace = path.resolve(arg.slice('--workspace='.length));
    else if (arg === '--skip-build') options.build = false;
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: npm run try [-- --port N] [-- --workspace DIR] [-- --skip-build]');
      process.exit(0);
    } else {
      console.error(`unknown argument ${JSON.stringify(arg)} (try --help)`);
      process.exit(2);
    }
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) {
    console.error(`--port must be a port number (1-65535), got ${JSON.stringify(argv)}`);
    process.exit(2);
  }
  return options;
}

function run(command, args) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[try] ${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
  console.log(`[try] ${command} ${args.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The sample workspace: files are written only when missing, so your edits survive a restart. */
function writeSampleWorkspace(dir, sampleBatches) {
  const files = {
    'batches.jsonl': `${sampleBatches.map((batch) => JSON.stringify(batch)).join('\n')}\n`,
    'runs/example-run/status.json': `${JSON.stringify({ state: 'completed', step: 5, totalSteps: 5 })}\n`,
    'README.md': [
      '# Durian RL sample workspace',
      '',
      '- `batches.jsonl`: two batches of rollouts. Right-click it in the Explorer and choose',
      '  **Compute Advantages of a JSON Lines File** (or run that command from the palette, F1) to see',
      '  every rollout\'s advantage, the estimator\'s components and Durian\'s difficulty buckets.',
      '- `runs/`: the Runs view (the Durian RL icon in the activity bar) lists one entry per sub-folder;',
      '  `example-run/status.json` is what a trainer writes.',
      '- Settings (Ctrl+,, search "durian"): the estimator and Durian\'s weights and bins.',
      '',
    ].join('\n'),
  };
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative);
    if (existsSync(file)) continue;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

const options = parseArgs(process.argv.slice(2));
if (options.build) run('npm', ['run', '--silent', 'package']);
run('bash', [path.join(root, 'scripts', 'e2e-setup.sh')]);

const server = tsxRequire('../test/e2e/server.ts', import.meta.url);
const { setupVersions } = tsxRequire('../test/e2e/setup.ts', import.meta.url);
writeSampleWorkspace(options.workspace, server.sampleBatches);
const vscode = await server.startServer({ workspaceDir: options.workspace, port: options.port });

console.log(`
  Durian RL in VS Code: ${vscode.url}
  (${setupVersions()})
  workspace: ${options.workspace}
  log:       ${vscode.logFile}
  From another machine: ssh -L ${vscode.port}:127.0.0.1:${vscode.port} THIS_HOST, then open the URL there.
  Ctrl+C stops it.
`);

// test/e2e/server.ts traps SIGINT/SIGTERM/exit: it kills code-server's process group and removes its run folder.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.prependListener(signal, () => {
    stopping = true;
    console.log(`\n[try] ${signal}: stopping code-server (pid ${vscode.pid})`);
  });
}

const how = await vscode.exited;
if (!stopping) {
  console.error(`[try] code-server exited on its own (${how}); its log:\n${vscode.logTail(40)}`);
  await vscode.stop();
  process.exit(1);
}
