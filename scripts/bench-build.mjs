#!/usr/bin/env node
// Build benchmark (npm run bench:build): on one app, compares
//   1. fabricks build with the runtime cached (a new app build: bundle, module layer, compose),
//   2. a no-op rebuild (nothing changed),
//   3. componentize-js building the same app as one monolithic component (the same bootstrap,
//      with the app's files inlined instead of read from a module layer).
// Prints a table and JSON (also written to bench-results/build.json). Needs `npm run setup`.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const example = process.argv[2] ?? 'hello-js';
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

// The runtime, once (not part of the comparison: every machine pays it once).
const runtime = cli(['runtime', 'build', '-q', '--json']);

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

// 3. Monolithic: the bootstrap with the app's packed files inlined, one componentize-js build.
const { bundleEntrypoint } = await import(join(root, 'dist', 'build', 'bundle.js'));
const { componentizeJs } = await import(join(root, 'dist', 'build', 'componentize-js.js'));
const { loadProject } = await import(join(root, 'dist', 'config', 'project.js'));
const { collectSourceFiles } = await import(join(root, 'dist', 'build', 'source-files.js'));
const config = await loadProject(last.dir);
const bundle = await bundleEntrypoint(config.source.dir, config.source.entrypoint);
const files = {};
for (const f of await collectSourceFiles(config)) if (!bundle.inputs.includes(f.abs)) files[f.path] = [...(await readFile(f.abs))];
files[config.source.entrypoint] = [...bundle.code];
files[`${config.source.entrypoint}.map`] = [...bundle.map];
const mono = await mkdtemp(join(tmpdir(), 'fabricks-bench-mono-'));
await cp(join(root, 'runtimes', 'node', 'wit'), join(mono, 'wit'), { recursive: true });
const { wasiPackages } = await import(join(root, 'dist', 'runtimes', 'build-runtime.js'));
for (const { dir, text } of await wasiPackages()) {
  await mkdir(join(mono, 'wit', 'deps', dir), { recursive: true });
  await writeFile(join(mono, 'wit', 'deps', dir, 'package.wit'), text);
}
const world = (await readFile(join(mono, 'wit', 'world.wit'), 'utf8')).replace(/^\s*import fabricks:app\/source@0\.1\.0;\n/m, '');
await writeFile(join(mono, 'wit', 'world.wit'), world);
await rm(join(mono, 'wit', 'deps', 'fabricks-app'), { recursive: true });
const inline = `const __files = ${JSON.stringify(files)};
const entrypoint = () => ${JSON.stringify(config.source.entrypoint)};
const list = () => Object.keys(__files).sort();
const read = (p) => (p in __files ? new Uint8Array(__files[p]) : undefined);
`;
const bootstrap = (await readFile(join(root, 'runtimes', 'node', 'bootstrap.js'), 'utf8')).replace(/^import \{ entrypoint, list, read \} from 'fabricks:app\/source@0\.1\.0';$/m, inline);
await writeFile(join(mono, 'app.js'), bootstrap);
await mkdir(join(mono, 'tmp'));
const monoStarted = process.hrtime.bigint();
await componentizeJs({ sourcePath: join(mono, 'app.js'), witPath: join(mono, 'wit'), worldName: 'runtime', outPath: join(mono, 'app.wasm'), tmpDir: join(mono, 'tmp'), disableFeatures: ['fetch-event'] });
const monoMs = Number(process.hrtime.bigint() - monoStarted) / 1e6;
const monoBytes = (await stat(join(mono, 'app.wasm'))).size;

const result = {
  app: example,
  runs,
  runtime: { digest: JSON.parse(runtime.stdout).digest, bytes: JSON.parse(runtime.stdout).size },
  warmBuild: { ms: median(warm), samples: warm, moduleBytes: last.result.module.size, componentBytes: last.result.component.size },
  noopRebuild: { ms: median(noop), samples: noop },
  monolithic: { tool: 'componentize-js 0.23.0', ms: monoMs, componentBytes: monoBytes },
  speedup: monoMs / median(warm),
  checks: { warmAtLeast10xFaster: monoMs / median(warm) >= 10, noopUnder200ms: median(noop) < 200 },
};

const row = (a, b, c, d) => `${a.padEnd(38)}${b.padStart(12)}${c.padStart(16)}${d.padStart(16)}`;
const fmt = (n) => Math.round(n).toLocaleString('en');
console.log(row('step', 'wall ms', 'output bytes', 'per-app bytes'));
console.log(row('fabricks build (runtime cached)', fmt(result.warmBuild.ms), fmt(result.warmBuild.componentBytes), fmt(result.warmBuild.moduleBytes)));
console.log(row('fabricks build, no-op rebuild', fmt(result.noopRebuild.ms), '-', '0'));
console.log(row('componentize-js, monolithic', fmt(monoMs), fmt(monoBytes), fmt(monoBytes)));
console.log(`warm build is ${result.speedup.toFixed(1)}x faster than monolithic; no-op median ${fmt(result.noopRebuild.ms)} ms`);
console.log(JSON.stringify(result));
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'build.json'), JSON.stringify(result, null, 2) + '\n');
await rm(mono, { recursive: true, force: true });
if (!result.checks.warmAtLeast10xFaster || !result.checks.noopUnder200ms) process.exitCode = 1;
