#!/usr/bin/env node
// Start-up benchmark (npm run bench:run [example ...]; default hello-js and hello-python): per
// example, wall time (median of BENCH_RUNS, default 7, at most 30) and peak RSS of
//   - `fabricks run <example>` warm (built, transpiled, V8 code cache written),
//   - `fabricks run <example>` first run (its transpile cache entry removed first),
//   - the same program run natively (`node main.js`, `python3 main.py`),
//   - wasmtime-py running the composed component (its compiled form cached), when installed,
//   - FABRICKS_BENCH_BASELINE=<path to another checkout's bin/fabricks.js>: that one warm too,
//     for a before/after table.
// Uses $FABRICKS_HOME as it is (the runtimes must be built: `npm run setup`); the first-run rows
// remove only this example's transpile cache entry. Prints a table and writes JSON to
// bench-results/run.json. Peak RSS is /usr/bin/time's maximum resident set (KiB), when present.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const examples = process.argv.length > 2 ? process.argv.slice(2) : ['hello-js', 'hello-python'];
const runs = Math.min(30, Math.max(1, Number(process.env.BENCH_RUNS ?? 7)));
const baseline = process.env.FABRICKS_BENCH_BASELINE;
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const wasmtimePy = process.env.FABRICKS_WASMTIME_PY ?? join(homedir(), '.cache', 'fabricks-tools', 'wasmtime-py-50.0.1', 'bin', 'python');
const wasmtimeCache = join(tmpdir(), 'fabricks-bench-run-wasmtime-py');
const home = resolve(process.env.FABRICKS_HOME || join(homedir(), '.cache', 'fabricks'));

/** One process: wall ms and peak RSS in MiB (null without /usr/bin/time). */
function once(cmd, args, cwd = root) {
  const argv = timeBin ? [timeBin, ['-f', '%M', cmd, ...args]] : [cmd, args];
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv[1], { cwd, encoding: 'utf8', env: process.env });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const kib = timeBin ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { ms, rssMiB: Number.isFinite(kib) ? kib / 1024 : null, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median wall and RSS of `runs` runs; `before` runs ahead of each (not timed). */
function measure(cmd, args, { cwd, before, n = runs } = {}) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    before?.();
    samples.push(once(cmd, args, cwd));
  }
  const rss = samples.map((s) => s.rssMiB).filter((x) => x !== null);
  return { ms: Math.round(median(samples.map((s) => s.ms))), rssMiB: rss.length ? Math.round(median(rss)) : null, runs: n, output: samples[0].stdout };
}

const results = [];
for (const example of examples) {
  const dir = join(root, 'examples', example);
  const python = (await readFile(join(dir, 'fabricks.toml'), 'utf8')).includes('runtimes/python');
  const args = ['bench'];
  // built once, untimed: these rows are about starting, not building
  const built = JSON.parse(once(process.execPath, [bin, 'build', dir, '-q', '--json']).stdout);
  const digest = built.component?.digest ?? built.componentDigest;
  if (!digest) throw new Error(`fabricks build --json gave no component digest: ${JSON.stringify(built)}`);
  const entry = join(home, 'cache', 'transpiled-v2', digest.replace(/^sha256:/, ''));
  const runArgs = [bin, 'run', '-q', dir, '--', ...args];
  once(process.execPath, runArgs); // transpile and write the code cache

  const rows = {};
  rows['fabricks run (warm)'] = measure(process.execPath, runArgs);
  if (baseline) {
    once(process.execPath, [resolve(baseline), 'run', '-q', dir, '--', ...args]);
    rows['baseline fabricks run (warm)'] = measure(process.execPath, [resolve(baseline), 'run', '-q', dir, '--', ...args]);
  }
  // a first run: the transpile cache has no entry for this component (fewer runs: each transpiles)
  rows['fabricks run (first run)'] = measure(process.execPath, runArgs, { n: Math.min(runs, 3), before: () => spawnSync('rm', ['-rf', entry]) });
  rows[python ? 'python3 main.py' : 'node main.js'] = python ? measure('python3', ['main.py', ...args], { cwd: dir }) : measure(process.execPath, ['main.js', ...args], { cwd: dir });
  if (existsSync(wasmtimePy)) {
    const component = join(dir, '.fabricks', 'app.wasm');
    const wt = [join(root, 'scripts', 'wasmtime-py-run.py'), component, wasmtimeCache, ...args];
    once(wasmtimePy, wt); // compile once into its cache
    rows['wasmtime-py 50 (warm)'] = measure(wasmtimePy, wt);
  }
  const outputs = new Set(Object.values(rows).map((r) => r.output));
  if (outputs.size !== 1) throw new Error(`the runs of ${example} printed different output:\n${[...outputs].join('\n---\n')}`);
  for (const r of Object.values(rows)) delete r.output;
  results.push({ example, digest, rows });
}

const table = ['| example | how | wall ms (median) | peak RSS MiB |', '|---|---|---:|---:|'];
for (const { example, rows } of results) for (const [how, r] of Object.entries(rows)) table.push(`| ${example} | ${how} | ${r.ms} | ${r.rssMiB ?? '-'} |`);
const out = { date: new Date().toISOString(), node: process.version, runs, loadavg: loadavg().map((x) => +x.toFixed(2)), results };
console.log(table.join('\n'));
console.log(JSON.stringify(out, null, 2));
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'run.json'), JSON.stringify(out, null, 2) + '\n');
await writeFile(join(root, 'bench-results', 'run.md'), table.join('\n') + '\n');
await rm(wasmtimeCache, { recursive: true, force: true }).catch(() => undefined);
