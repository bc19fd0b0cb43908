#!/usr/bin/env node
// Build benchmark (npm run bench:build [example ...] [-- --smoke]; default hello-js and
// hello-python): per app,
//   1. fabricks build with the runtime cached (a new app build: module layer, compose; for
//      JavaScript the bundle, for Python the syntax check), median of BENCH_RUNS (default 5),
//   2. a no-op rebuild (nothing changed),
//   3. the Bytecode Alliance tool building the same app as one monolithic component
//      (componentize-js or componentize-py, with the same bootstrap, the app's files inlined
//      instead of read from a module layer): the native side, what one builds without fabricks.
// Prints a table and JSON (bench-results/build.json). Needs `npm run setup`.
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyProject, fabricks, scratchDir, median, positional, report, root, row, setting, smoke } from './bench-lib.mjs';

const examples = positional.length ? positional : ['hello-js', 'hello-python'];
const runs = setting('BENCH_RUNS', 5, 1);

const rows = [];
const checks = {};
for (const example of examples) {
  const language = (await readFile(join(root, 'examples', example, 'fabricks.toml'), 'utf8')).includes('runtimes/python') ? 'python' : 'javascript';
  // The runtime, once (not part of the comparison: every machine pays it once).
  const runtime = (await fabricks(['runtime', 'build', language === 'python' ? 'python' : 'node', '-q', '--json'])).json;

  // 1. Warm build: a fresh copy with a file of its own, so the build cache cannot answer it.
  const warm = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const dir = await copyProject(example);
    await writeFile(join(dir, 'nonce.txt'), `${process.pid}-${i}-${Date.now()}\n`);
    const r = await fabricks(['build', dir, '--json', '-q']);
    warm.push(r.ms);
    if (last) await rm(last.dir, { recursive: true, force: true });
    last = { dir, result: r.json };
  }
  // 2. No-op rebuilds of the last one.
  const noop = [];
  for (let i = 0; i < runs; i++) {
    const r = await fabricks(['build', last.dir, '--json', '-q']);
    if (!r.json.cached) throw new Error('a no-op rebuild was not answered from the cache');
    noop.push(r.ms);
  }
  // 3. Monolithic.
  const mono = language === 'python' ? await monolithicPython(last.dir) : await monolithicJs(last.dir);
  await rm(last.dir, { recursive: true, force: true });

  rows.push(row(example, 'fabricks', 'fabricks build (runtime cached)', { ms: median(warm), componentBytes: last.result.component.size, perAppBytes: last.result.module.size }, { runs, samplesMs: warm.map(Math.round) }));
  rows.push(row(example, 'fabricks', 'fabricks build, no-op rebuild', { ms: median(noop) }, { runs, samplesMs: noop.map(Math.round) }));
  rows.push(row(example, 'native', `${mono.tool}, monolithic`, { ms: mono.ms, componentBytes: mono.bytes, perAppBytes: mono.bytes }));
  checks[example] = {
    runtimeBytes: runtime.size,
    speedup: +(mono.ms / median(warm)).toFixed(1),
    warmAtLeast10xFaster: mono.ms / median(warm) >= 10,
    noopUnder200ms: median(noop) < 200,
  };
}

await report('build', rows, {
  columns: [['ms', 'wall ms'], ['componentBytes', 'output bytes'], ['perAppBytes', 'per-app bytes']],
  notes: Object.entries(checks).map(([app, c]) => `${app}: a warm build is ${c.speedup}x faster than monolithic`),
  settings: { runs },
  checks,
});
// the aims are judged on full runs only
if (!smoke && Object.values(checks).some((c) => !c.warmAtLeast10xFaster || !c.noopUnder200ms)) process.exitCode = 1;

/** `text` with `pattern` replaced, or a clear failure when the source it patches has changed shape. */
function patch(text, pattern, replacement, what) {
  const out = text.replace(pattern, replacement);
  if (out === text) throw new Error(`the monolithic build cannot patch ${what}: it no longer contains ${pattern}`);
  return out;
}

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
  const world = patch(await readFile(join(witDir, 'world.wit'), 'utf8'), /^\s*import fabricks:app\/source@0\.1\.0;\n/m, '', 'world.wit');
  await writeFile(join(witDir, 'world.wit'), world);
  await rm(join(witDir, 'deps', 'fabricks-app'), { recursive: true });
}

/** The node runtime's bootstrap with the app's packed files inlined, one componentize-js build. */
async function monolithicJs(dir) {
  const { bundleEntrypoint } = await import(join(root, 'dist', 'runtimes', 'node', 'bundle.js'));
  const { componentizeJs, COMPONENTIZE_JS_VERSION } = await import(join(root, 'dist', 'tools', 'componentize-js.js'));
  const { loadProject } = await import(join(root, 'dist', 'config', 'project.js'));
  const { collectSourceFiles } = await import(join(root, 'dist', 'builder', 'source-files.js'));
  const config = await loadProject(dir);
  const bundle = await bundleEntrypoint(config.source.dir, config.source.entrypoint);
  const files = {};
  for (const f of await collectSourceFiles(config)) if (!bundle.inputs.includes(f.abs)) files[f.path] = [...(await readFile(f.abs))];
  files[config.source.entrypoint] = [...bundle.code];
  files[`${config.source.entrypoint}.map`] = [...bundle.map];
  const mono = await scratchDir('fabricks-bench-mono-');
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
  return { ms, bytes, tool: `componentize-js ${COMPONENTIZE_JS_VERSION}` };
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
  const mono = await scratchDir('fabricks-bench-mono-');
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
  const bootstrap = patch(await readFile(join(src, 'fabricks_runtime.py'), 'utf8'), 'from wit_world.imports import source  # noqa: E402', 'import inline_source as source  # noqa: E402', 'guest/python/fabricks_runtime.py');
  await writeFile(join(src, 'fabricks_runtime.py'), bootstrap);
  await mkdir(join(mono, 'tmp'));
  const started = process.hrtime.bigint();
  await componentizePy({ appDir: src, appModule: 'fabricks_runtime', witPath: join(src, 'wit'), worldName: 'runtime', outPath: join(mono, 'app.wasm'), tmpDir: join(mono, 'tmp'), emptyVenv: join(mono, 'venv') });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const bytes = (await stat(join(mono, 'app.wasm'))).size;
  await rm(mono, { recursive: true, force: true });
  return { ms, bytes, tool: `componentize-py ${COMPONENTIZE_PY_VERSION}` };
}
