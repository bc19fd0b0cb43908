#!/usr/bin/env node
// Build benchmark (npm run bench:build [example ...]; default hello-js and hello-python): per app,
//   1. fabricks build with the runtime cached (a new app build: module layer, compose; for
//      JavaScript the bundle, for Python the syntax check),
//   2. a no-op rebuild (nothing changed),
//   3. the Bytecode Alliance tool building the same app as one monolithic component
//      (componentize-js or componentize-py, with the same bootstrap, the app's files inlined
//      instead of read from a module layer).
// Prints a table and JSON (also written to bench-results/build.json). Needs `npm run setup`.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const examples = process.argv.length > 2 ? process.argv.slice(2) : ['hello-js', 'hello-python'];
const runs = Number(process.env.BENCH_RUNS ?? 5);
const home = process.env.FABRICKS_HOME ?? join(tmpdir(), 'fabricks-bench-home');
const env = { ...process.env, FABRICKS_HOME: home };

function cli(args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`fabricks ${args.join(' ')} failed:\n${r.stderr}`);
  return { ms, stdout: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
for (const example of examples) {
  // The runtime, once (not part of the comparison: every machine pays it once).
  const language = (await readFile(join(root, 'examples', example, 'fabricks.toml'), 'utf8')).includes('runtimes/python') ? 'python' : 'javascript';
  const runtime = cli(['runtime', 'build', language === 'python' ? 'python' : 'node', '-q', '--json']);

  // 1. Warm build: a fresh copy with a unique file, so the build cache cannot answer it.
  const warm = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const dir = join(await mkdtemp(join(tmpdir(), 'fabricks-bench-')), example);
    await cp(join(root, 'examples', example), dir, { recursive: true, filter: (s) => !s.includes('.fabricks') && !s.endsWith('fabricks.lock') });
    await writeFile(join(dir, 'nonce.txt'), `${process.pid}-${i}-${Date.now()}\n`);
    const r = cli(['build', dir, '--json', '-q']);
    warm.push(r.ms);
    last = { dir, result: JSON.parse(r.stdout) };
  }
  // 2. No-op rebuilds of the last one.
  const noop = [];
  for (let i = 0; i < runs; i++) {
    const r = cli(['build', last.dir, '--json', '-q']);
    if (!JSON.parse(r.stdout).cached) throw new Error('a no-op rebuild was not answered from the cache');
    noop.push(r.ms);
  }

  // 3. Monolithic.
  const { ms: monoMs, bytes: monoBytes, tool } = language === 'python' ? await monolithicPython(last.dir) : await monolithicJs(last.dir);

  const result = {
    app: example,
    language,
    runs,
    runtime: { digest: JSON.parse(runtime.stdout).digest, bytes: JSON.parse(runtime.stdout).size },
    warmBuild: { ms: median(warm), samples: warm, moduleBytes: last.result.module.size, componentBytes: last.result.component.size },
    noopRebuild: { ms: median(noop), samples: noop },
    monolithic: { tool, ms: monoMs, componentBytes: monoBytes },
    speedup: monoMs / median(warm),
    checks: { warmAtLeast10xFaster: monoMs / median(warm) >= 10, noopUnder200ms: median(noop) < 200 },
  };
  results.push(result);
}

const row = (a, b, c, d) => `${a.padEnd(38)}${b.padStart(12)}${c.padStart(16)}${d.padStart(16)}`;
const fmt = (n) => Math.round(n).toLocaleString('en');
console.log(row('step', 'wall ms', 'output bytes', 'per-app bytes'));
for (const r of results) {
  console.log(`${r.app} (${r.language})`);
  console.log(row('  fabricks build (runtime cached)', fmt(r.warmBuild.ms), fmt(r.warmBuild.componentBytes), fmt(r.warmBuild.moduleBytes)));
  console.log(row('  fabricks build, no-op rebuild', fmt(r.noopRebuild.ms), '-', '0'));
  console.log(row(`  ${r.monolithic.tool}, monolithic`, fmt(r.monolithic.ms), fmt(r.monolithic.componentBytes), fmt(r.monolithic.componentBytes)));
  console.log(`  warm build is ${r.speedup.toFixed(1)}x faster than monolithic; no-op median ${fmt(r.noopRebuild.ms)} ms`);
}
const summary = { runs, apps: results };
console.log(JSON.stringify(summary));
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'build.json'), JSON.stringify(summary, null, 2) + '\n');
if (results.some((r) => !r.checks.warmAtLeast10xFaster || !r.checks.noopUnder200ms)) process.exitCode = 1;

/**
 * Turns a copy of a runtime's wit/ folder into the monolithic app's: the WASI packages its
 * builder speaks are staged as for a runtime build, and the fabricks:app/source import goes
 * (the app's files are inlined instead).
 */
async function worldWithoutModuleLayer(witDir, runtime) {
  const { wasiPackages } = await import(join(root, 'dist', 'runtimes', 'build-runtime.js'));
  const { findBuiltinByName } = await import(join(root, 'dist', 'runtimes', 'catalogue.js'));
  const builder = await findBuiltinByName(runtime).kind.builder();
  for (const w of await wasiPackages(builder.wasi)) {
    await mkdir(join(witDir, 'deps', w.dir), { recursive: true });
    await writeFile(join(witDir, 'deps', w.dir, 'package.wit'), w.text);
  }
  const world = (await readFile(join(witDir, 'world.wit'), 'utf8')).replace(/^\s*import fabricks:app\/source@0\.1\.0;\n/m, '');
  await writeFile(join(witDir, 'world.wit'), world);
  await rm(join(witDir, 'deps', 'fabricks-app'), { recursive: true });
}

/** The node runtime's bootstrap with the app's packed files inlined, one componentize-js build. */
async function monolithicJs(dir) {
  const { bundleEntrypoint } = await import(join(root, 'dist', 'runtimes', 'node', 'bundle.js'));
  const { componentizeJs } = await import(join(root, 'dist', 'tools', 'componentize-js.js'));
  const { loadProject } = await import(join(root, 'dist', 'config', 'project.js'));
  const { collectSourceFiles } = await import(join(root, 'dist', 'builder', 'source-files.js'));
  const config = await loadProject(dir);
  const bundle = await bundleEntrypoint(config.source.dir, config.source.entrypoint);
  const files = {};
  for (const f of await collectSourceFiles(config)) if (!bundle.inputs.includes(f.abs)) files[f.path] = [...(await readFile(f.abs))];
  files[config.source.entrypoint] = [...bundle.code];
  files[`${config.source.entrypoint}.map`] = [...bundle.map];
  const mono = await mkdtemp(join(tmpdir(), 'fabricks-bench-mono-'));
  await cp(join(root, 'guest', 'node', 'wit'), join(mono, 'wit'), { recursive: true });
  await worldWithoutModuleLayer(join(mono, 'wit'), 'node');
  // a module in the place of fabricks:app/source answers from the inlined files
  const inline = `const __files = ${JSON.stringify(files)};
export const entrypoint = () => ${JSON.stringify(config.source.entrypoint)};
export const list = () => Object.keys(__files).sort();
export const read = (p) => (p in __files ? new Uint8Array(__files[p]) : undefined);
`;
  const { bundleBootstrap } = await import(join(root, 'dist', 'runtimes', 'node', 'bootstrap-bundle.js'));
  await writeFile(join(mono, 'app.js'), await bundleBootstrap(join(root, 'guest', 'node', 'bootstrap', 'index.js'), { source: inline }));
  await mkdir(join(mono, 'tmp'));
  const monoStarted = process.hrtime.bigint();
  await componentizeJs({ sourcePath: join(mono, 'app.js'), witPath: join(mono, 'wit'), worldName: 'runtime', outPath: join(mono, 'app.wasm'), tmpDir: join(mono, 'tmp'), disableFeatures: ['fetch-event'] });
  const ms = Number(process.hrtime.bigint() - monoStarted) / 1e6;
  const bytes = (await stat(join(mono, 'app.wasm'))).size;
  await rm(mono, { recursive: true, force: true });
  return { ms, bytes, tool: 'componentize-js 0.23.0' };
}

/** The Python runtime's bootstrap with the app's files inlined (a module in its place of
 * fabricks:app/source), one componentize-py build. */
async function monolithicPython(dir) {
  const { componentizePy, COMPONENTIZE_PY_VERSION } = await import(join(root, 'dist', 'tools', 'componentize-py.js'));
  const { loadProject } = await import(join(root, 'dist', 'config', 'project.js'));
  const { collectSourceFiles } = await import(join(root, 'dist', 'builder', 'source-files.js'));
  const config = await loadProject(dir);
  const files = {};
  for (const f of await collectSourceFiles(config)) files[f.path] = (await readFile(f.abs)).toString('base64');
  const mono = await mkdtemp(join(tmpdir(), 'fabricks-bench-mono-'));
  const src = join(mono, 'src');
  await cp(join(root, 'guest', 'python'), src, { recursive: true });
  await worldWithoutModuleLayer(join(src, 'wit'), 'python');
  await writeFile(
    join(src, 'inline_source.py'),
    `import base64\n_FILES = {k: base64.b64decode(v) for k, v in ${JSON.stringify(files)}.items()}\n` +
      `def entrypoint():\n    return ${JSON.stringify(config.source.entrypoint)}\n` +
      `def list():\n    return sorted(_FILES)\n` +
      `def read(path):\n    return _FILES.get(path)\n`,
  );
  const bootstrap = (await readFile(join(src, 'fabricks_runtime.py'), 'utf8')).replace('from wit_world.imports import source  # noqa: E402', 'import inline_source as source  # noqa: E402');
  await writeFile(join(src, 'fabricks_runtime.py'), bootstrap);
  await mkdir(join(mono, 'tmp'));
  const started = process.hrtime.bigint();
  await componentizePy({ appDir: src, appModule: 'fabricks_runtime', witPath: join(src, 'wit'), worldName: 'runtime', outPath: join(mono, 'app.wasm'), tmpDir: join(mono, 'tmp') });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const bytes = (await stat(join(mono, 'app.wasm'))).size;
  await rm(mono, { recursive: true, force: true });
  return { ms, bytes, tool: `componentize-py ${COMPONENTIZE_PY_VERSION}` };
}
