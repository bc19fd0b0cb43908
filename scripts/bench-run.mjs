#!/usr/bin/env node
// Start-up benchmark (npm run bench:run [example ...]; default hello-js and hello-python): per
// example, wall time and CPU time (user+system; median of BENCH_RUNS, default 7, at most 30; the
// variants run in turn, so a change in the machine's load hits them alike) and peak memory of
//   - `fabricks run <example>` warm, on its default engine (wasmtime: the runtime compiled and
//     cached, the wasmtime host started while fabricks resolves the project),
//   - the same on the in-process engine (FABRICKS_ENGINE=jco: transpiled, V8 code cache written),
//   - `fabricks run <example>` first run of this app (its module layer not compiled yet) and the
//     very first run on this runtime (nothing compiled yet),
//   - the same program run natively (`node main.js`, `python3 main.py`),
//   - wasmtime-py running the composed component (its compiled form cached), when installed,
//   - FABRICKS_BENCH_BASELINE=<path to another checkout's bin/fabricks.js>: that one warm too,
//     for a before/after table.
// Peak memory is the peak RSS of every process of a row added up: fabricks on wasmtime is two
// processes (node, and the wasmtime host, measured through a wrapper that records both).
// Uses $FABRICKS_HOME as it is (the runtimes must be built: `npm run setup`); the first-run rows
// remove only this example's cache entries. Prints a table and writes JSON to
// bench-results/run.json. Peak RSS and CPU come from /usr/bin/time, when present. On a shared,
// loaded machine CPU time is the steadier figure; wall time is what a user waits.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

/** One process: wall ms, CPU ms and peak RSS in MiB (null without /usr/bin/time). */
function once(cmd, args, cwd = root, env = {}) {
  const argv = timeBin ? [timeBin, ['-f', '%M %U %S', cmd, ...args]] : [cmd, args];
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv[1], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const [kib, user, sys] = timeBin ? r.stderr.trim().split('\n').pop().split(' ').map(Number) : [];
  return { ms, cpuMs: Number.isFinite(user) ? (user + sys) * 1000 : null, rssMiB: Number.isFinite(kib) ? kib / 1024 : null, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const summary = (samples) => {
  const of = (k) => {
    const xs = samples.map((s) => s[k]).filter((x) => x !== null);
    return xs.length ? Math.round(median(xs)) : null;
  };
  return { ms: of('ms'), cpuMs: of('cpuMs'), rssMiB: of('rssMiB'), runs: samples.length, output: samples[0].stdout };
};

/** Each variant `runs` times, in turn; `before` runs ahead of each run of its variant (not timed). */
async function measure(variants, n = runs) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (const [name, v] of Object.entries(variants)) {
      v.before?.();
      const sample = once(v.cmd, v.args, v.cwd, v.env);
      // two processes: the peak of each, added up (the wrapper wrote them down)
      if (v.rss) sample.rssMiB = await v.rss();
      samples[name].push(sample);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, summary(s)]));
}

// The wasmtime host behind a wrapper that writes down its own peak RSS and its parent's (node),
// for the memory of a fabricks run on wasmtime, which is two processes.
const wrapDir = await mkdtemp(join(tmpdir(), 'fabricks-bench-run-'));
const rssFile = join(wrapDir, 'rss');
const wrapper = join(wrapDir, 'python');
await writeFile(wrapper, `#!/bin/sh\n/usr/bin/time -f %M -o ${rssFile}.py ${wasmtimePy} "$@"\nst=$?\nawk '/VmHWM/ {print $2}' /proc/$PPID/status > ${rssFile}.node\nexit $st\n`);
await chmod(wrapper, 0o755);
const twoProcessRss = async () => {
  const kib = await Promise.all(['py', 'node'].map((k) => readFile(`${rssFile}.${k}`, 'utf8').then((t) => Number(t.trim().split('\n').pop()))));
  return (kib[0] + kib[1]) / 1024;
};

const results = [];
for (const example of examples) {
  const dir = join(root, 'examples', example);
  const python = (await readFile(join(dir, 'fabricks.toml'), 'utf8')).includes('runtimes/python');
  const args = ['bench'];
  // built once, untimed: these rows are about starting, not building
  const built = JSON.parse(once(process.execPath, [bin, 'build', dir, '-q', '--json']).stdout);
  const digest = built.component?.digest ?? built.componentDigest;
  if (!digest) throw new Error(`fabricks build --json gave no component digest: ${JSON.stringify(built)}`);
  const transpiledEntry = join(home, 'cache', 'transpiled-v2', digest.replace(/^sha256:/, ''));
  const compiled = (d) => join(home, 'cache', 'compiled-wasmtime-50.0.1', d.replace(/^sha256:/, ''));
  const runArgs = [bin, 'run', '-q', dir, '--', ...args];
  const jco = { FABRICKS_ENGINE: 'jco' };
  once(process.execPath, runArgs); // compile once
  once(process.execPath, runArgs, root, jco); // transpile and write the code cache

  const warm = { 'fabricks run (warm)': { cmd: process.execPath, args: runArgs } };
  warm['fabricks run, in-process engine (warm)'] = { cmd: process.execPath, args: runArgs, env: jco };
  if (baseline) {
    warm['baseline fabricks run (warm)'] = { cmd: process.execPath, args: [resolve(baseline), 'run', '-q', dir, '--', ...args] };
    once(process.execPath, warm['baseline fabricks run (warm)'].args);
  }
  warm[python ? 'python3 main.py' : 'node main.js'] = python ? { cmd: 'python3', args: ['main.py', ...args], cwd: dir } : { cmd: process.execPath, args: ['main.js', ...args], cwd: dir };
  if (existsSync(wasmtimePy)) {
    const component = join(dir, '.fabricks', 'app.wasm');
    warm['wasmtime-py 50 (warm)'] = { cmd: wasmtimePy, args: [join(root, 'scripts', 'wasmtime-py-run.py'), component, wasmtimeCache, ...args] };
    once(wasmtimePy, warm['wasmtime-py 50 (warm)'].args); // compile once into its cache
  }
  const rows = await measure(warm);
  // memory of the two-process row, through the wrapper (not timed: the wrapper adds a process)
  if (timeBin) {
    const peaks = [];
    for (let i = 0; i < 3; i++) {
      once(process.execPath, runArgs, root, { FABRICKS_WASMTIME_PYTHON: wrapper });
      peaks.push(await twoProcessRss());
    }
    rows['fabricks run (warm)'].rssMiB = Math.round(median(peaks));
  }
  const viaWrapper = { cmd: process.execPath, args: runArgs, env: { FABRICKS_WASMTIME_PYTHON: wrapper }, rss: timeBin ? twoProcessRss : undefined };
  // first runs (fewer: each compiles or transpiles): this app on a runtime compiled already,
  // the first app on the runtime, and the in-process engine's first run
  Object.assign(
    rows,
    await measure(
      {
        // (through the wrapper, for the two processes' memory: its own few ms are lost in these)
        'fabricks run (first run of this app)': { ...viaWrapper, before: () => spawnSync('rm', ['-rf', compiled(built.module.digest)]) },
        'fabricks run (first run on this runtime)': { ...viaWrapper, before: () => spawnSync('rm', ['-rf', compiled(built.module.digest), compiled(built.runtime.digest)]) },
        'fabricks run, in-process engine (first run)': { cmd: process.execPath, args: runArgs, env: jco, before: () => spawnSync('rm', ['-rf', transpiledEntry]) },
      },
      Math.min(runs, 3),
    ),
  );
  const outputs = new Set(Object.values(rows).map((r) => r.output));
  if (outputs.size !== 1) throw new Error(`the runs of ${example} printed different output:\n${[...outputs].join('\n---\n')}`);
  for (const r of Object.values(rows)) delete r.output;
  results.push({ example, digest, rows });
}

const table = ['| example | how | wall ms | CPU ms | peak RSS MiB |', '|---|---|---:|---:|---:|'];
for (const { example, rows } of results) for (const [how, r] of Object.entries(rows)) table.push(`| ${example} | ${how} | ${r.ms} | ${r.cpuMs ?? '-'} | ${r.rssMiB ?? '-'} |`);
const out = { date: new Date().toISOString(), node: process.version, runs, loadavg: loadavg().map((x) => +x.toFixed(2)), results };
table.push('', "peak RSS of `fabricks run` on wasmtime (the rows without \"in-process\") is node's and the wasmtime host's added up.");
console.log(table.join('\n'));
console.log(JSON.stringify(out, null, 2));
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'run.json'), JSON.stringify(out, null, 2) + '\n');
await writeFile(join(root, 'bench-results', 'run.md'), table.join('\n') + '\n');
await rm(wasmtimeCache, { recursive: true, force: true }).catch(() => undefined);
await rm(wrapDir, { recursive: true, force: true });
