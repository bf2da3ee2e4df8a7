// Packages the extension into one .vsix per target platform, each holding only that platform's onnxruntime-node
// binaries, and writes beside each .vsix a CycloneDX SBOM of what it contains (<name>.cdx.json).
// Run `npm run build` (or `npm run build -- --production`) first: the bundles and dist/bundled-packages.json come
// from it.
// Usage:
//   node scripts/package.mjs --target linux-x64 [--out dist/durian-rl.vsix]   one target (default out: dist/durian-rl-<target>.vsix)
//   node scripts/package.mjs --all                                          every target -> dist/durian-rl-<target>.vsix
//   node scripts/package.mjs --targets                                      the targets as JSON
//   node scripts/package.mjs --ignore-file TARGET                           writes TARGET's ignore file, prints its path
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/**
 * vsce target -> onnxruntime-node's binary folder (node_modules/onnxruntime-node/bin/napi-v6/<folder>) and files of
 * it not to ship. These are every platform onnxruntime-node 1.30 ships binaries for (no darwin-x64, no musl).
 * darwin-arm64: libonnxruntime.1.<version>.dylib is a byte-identical copy of libonnxruntime.1.dylib, the name the
 * binding links (@rpath/libonnxruntime.1.dylib); npm unpacks the original symlink as a copy (44 MB more).
 */
const TARGETS = {
  'linux-x64': { folder: 'linux/x64', skip: [] },
  'linux-arm64': { folder: 'linux/arm64', skip: [] },
  'darwin-arm64': { folder: 'darwin/arm64', skip: [/^libonnxruntime\.\d+(\.\d+)+\.dylib$/] },
  'win32-x64': { folder: 'win32/x64', skip: [] },
  'win32-arm64': { folder: 'win32/arm64', skip: [] },
};

const BINARIES = 'node_modules/onnxruntime-node/bin/napi-v6';
/** The line of .vscodeignore that lets the default target's binaries in (vsce ls / vsce package without a target). */
const BINARY_LINE = /^!node_modules\/onnxruntime-node\/bin\/napi-v6\/[^/]+\/[^/]+\/\*\*$/;

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(2);
}

/**
 * .vscodeignore with its one platform-binaries line swapped for one `!` line per binary of `target` (vsce re-includes
 * whatever a `!` line matches, whatever comes after it, so files to skip must never be matched by one); written to
 * .cache/package/.
 */
function writeIgnoreFile(target) {
  const spec = TARGETS[target];
  if (!spec) fail(`unknown target ${JSON.stringify(target)} (known: ${Object.keys(TARGETS).join(', ')})`);
  const lines = readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n');
  const at = lines.findIndex((line) => BINARY_LINE.test(line.trim()));
  if (at < 0 || lines.findIndex((line, i) => i > at && BINARY_LINE.test(line.trim())) >= 0) {
    fail('.vscodeignore must hold exactly one line !node_modules/onnxruntime-node/bin/napi-v6/<os>/<arch>/**');
  }
  const folder = path.join(root, BINARIES, spec.folder);
  if (!existsSync(folder)) fail(`${BINARIES}/${spec.folder} is missing: run npm ci`);
  const binaries = readdirSync(folder).filter((name) => !spec.skip.some((pattern) => pattern.test(name)));
  lines.splice(at, 1, ...binaries.map((name) => `!${BINARIES}/${spec.folder}/${name}`));
  const directory = path.join(root, '.cache', 'package');
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `vscodeignore-${target}`);
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** Names of the files inside a .vsix (a zip), read from its central directory. */
function zipEntries(file) {
  const zip = readFileSync(file);
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error(`${file}: not a zip file (no end of central directory)`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: damaged central directory at entry ${i}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** `node_modules/a/node_modules/@s/b/x.js` -> `node_modules/a/node_modules/@s/b` (the innermost package folder). */
function packageFolder(file) {
  const parts = file.split('/');
  const last = parts.lastIndexOf('node_modules');
  if (last < 0 || last + 1 >= parts.length) return null;
  const depth = parts[last + 1].startsWith('@') ? 3 : 2;
  return parts.slice(0, last + depth).join('/');
}

/**
 * The packages a .vsix carries: those bundled into its dist/*.js (dist/bundled-packages.json, written by the
 * build) and those shipped as files under node_modules/. Returns name@version -> how it ships.
 */
function shippedPackages(entries) {
  const shipped = new Map();
  const note = (folder, how) => {
    const pkg = JSON.parse(readFileSync(path.join(root, folder, 'package.json'), 'utf8'));
    const ref = `${pkg.name}@${pkg.version}`;
    const entry = shipped.get(ref) ?? { name: pkg.name, version: pkg.version, license: pkg.license, folder, ways: new Set() };
    entry.ways.add(how);
    shipped.set(ref, entry);
  };
  const bundledFile = path.join(root, 'dist', 'bundled-packages.json');
  if (!existsSync(bundledFile)) fail('dist/bundled-packages.json is missing: run `npm run build` first');
  const bundled = JSON.parse(readFileSync(bundledFile, 'utf8'));
  const files = new Set(entries.map((entry) => entry.replace(/^extension\//, '')));
  for (const [bundle, folders] of Object.entries(bundled)) {
    if (!files.has(bundle)) continue;
    for (const folder of folders) note(folder, bundle.endsWith('.wasm') ? `copied as ${bundle}` : `bundled into ${bundle}`);
  }
  for (const file of files) {
    const folder = packageFolder(file);
    if (folder) note(folder, `files under ${folder}/`);
  }
  return shipped;
}

/** A CycloneDX 1.5 SBOM of the .vsix: npm sbom's records of the packages it carries, and the extension itself. */
function writeSbom(vsixFile, target) {
  const listed = spawnSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (listed.status !== 0) fail(`npm sbom failed (exit ${listed.status}): ${listed.stderr}`);
  const npmSbom = JSON.parse(listed.stdout);
  const byRef = new Map(npmSbom.components.map((component) => [component['bom-ref'], component]));
  const shipped = shippedPackages(zipEntries(vsixFile));
  const components = [...shipped.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ref, entry]) => {
      const component = byRef.get(ref) ?? {
        'bom-ref': ref,
        type: 'library',
        name: entry.name,
        version: entry.version,
        purl: `pkg:npm/${entry.name.replace('@', '%40')}@${entry.version}`,
        ...(entry.license ? { licenses: [{ license: { id: entry.license } }] } : {}),
      };
      const properties = (component.properties ?? []).filter((p) => !p.name.startsWith('durian:'));
      for (const way of [...entry.ways].sort()) properties.push({ name: 'durian:shipped', value: way });
      return { ...component, scope: 'required', properties };
    });
  const refs = new Set(components.map((component) => component['bom-ref']));
  const self = `${manifest.name}@${manifest.version}`;
  const sbom = {
    ...npmSbom,
    metadata: {
      ...npmSbom.metadata,
      component: {
        'bom-ref': self,
        type: 'application',
        name: manifest.name,
        version: manifest.version,
        description: manifest.description,
        licenses: [{ license: { id: manifest.license } }],
        properties: [
          { name: 'durian:vsix', value: path.basename(vsixFile) },
          { name: 'durian:target', value: target },
          { name: 'durian:vsix-sha256', value: createHash('sha256').update(readFileSync(vsixFile)).digest('hex') },
        ],
      },
    },
    components,
    dependencies: [
      { ref: self, dependsOn: components.map((component) => component['bom-ref']) },
      ...(npmSbom.dependencies ?? [])
        .filter((dependency) => refs.has(dependency.ref))
        .map((dependency) => ({ ref: dependency.ref, dependsOn: (dependency.dependsOn ?? []).filter((ref) => refs.has(ref)) })),
    ],
  };
  const out = vsixFile.replace(/\.vsix$/, '') + '.cdx.json';
  writeFileSync(out, `${JSON.stringify(sbom, null, 2)}\n`);
  return { out, components: components.length };
}

/**
 * vsce rewrites the README's relative links and images (docs/..., examples/...) against the repository, and refuses
 * to package when it cannot tell where that is (only GitHub/GitLab URLs are recognised): give it the bases.
 */
function readmeBases() {
  const repository = String(manifest.repository?.url ?? manifest.repository ?? '').replace(/^git\+/, '').replace(/\.git$/, '');
  if (!/^https:\/\//.test(repository)) fail('package.json needs repository.url (https) for the README links in the .vsix');
  return ['--baseContentUrl', `${repository}/blob/HEAD/`, '--baseImagesUrl', `${repository}/raw/HEAD/`];
}

function packageTarget(target, out) {
  const ignoreFile = writeIgnoreFile(target);
  mkdirSync(path.dirname(out), { recursive: true });
  const started = Date.now();
  const args = [vsce, 'package', '--target', target, '--ignoreFile', ignoreFile, ...readmeBases(), '--out', out];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) fail(`vsce package --target ${target} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  const sbom = writeSbom(out, target);
  const size = readFileSync(out).length;
  console.log(`${path.relative(root, out)}: ${target}, ${(size / 2 ** 20).toFixed(1)} MiB, ${((Date.now() - started) / 1000).toFixed(0)} s; SBOM ${path.relative(root, sbom.out)} (${sbom.components} components)`);
}

function main(argv) {
  const targets = [];
  let out;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--targets') return console.log(JSON.stringify(Object.fromEntries(Object.entries(TARGETS).map(([t, spec]) => [t, { folder: spec.folder, skip: spec.skip.map(String) }])), null, 2));
    if (arg === '--ignore-file') return console.log(writeIgnoreFile(argv[++i]));
    if (arg === '--all') targets.push(...Object.keys(TARGETS));
    else if (arg === '--target') targets.push(argv[++i]);
    else if (arg.startsWith('--target=')) targets.push(arg.slice('--target='.length));
    else if (arg === '--out' || arg === '-o') out = argv[++i]; // the last --out wins (npm run package:vsix -- --out FILE)
    else if (arg.startsWith('--out=')) out = arg.slice('--out='.length);
    else fail(`unknown argument ${JSON.stringify(arg)} (usage: --target T [--out FILE] | --all | --targets | --ignore-file T)`);
  }
  if (targets.length === 0) fail('name a --target (one of ' + Object.keys(TARGETS).join(', ') + ') or --all');
  for (const target of targets) if (!TARGETS[target]) fail(`unknown target ${JSON.stringify(target)} (known: ${Object.keys(TARGETS).join(', ')})`);
  if (out && targets.length > 1) fail('--out takes one target; --all writes dist/durian-rl-<target>.vsix');
  for (const target of targets) packageTarget(target, path.resolve(root, out ?? path.join('dist', `${manifest.name}-${target}.vsix`)));
}

main(process.argv.slice(2));
