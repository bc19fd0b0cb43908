#!/usr/bin/env node
// Start-up benchmark (npm run bench:run [example ...] [-- --smoke]; default hello-js and
// hello-python): per example, wall time, CPU time (user+system) and peak memory, median of
// BENCH_RUNS (default 7, at most 30; the variants take turns, so a change in the machine's load
// hits them alike) of
//   - `fabricks run <example>` warm (the runtime and the app compiled and cached),
//   - `fabricks run` on the first run of this app (its module layer not compiled yet),
//   - `fabricks run` on the very first run on this runtime (nothing compiled yet; not in a smoke
//     run: it compiles the whole runtime again, and takes it from any run beside it),
//   - the same program run natively (`node main.js`, `python3 main.py`),
//   - `wasmtime run` (the standard host, the component compiled ahead) when installed, not in
//     a smoke run (its compile takes longer than the rest),
//   - FABRICKS_BENCH_BASELINE=<path to another checkout's bin/fabricks.js>: that one warm too,
//     for a before/after table.
// Peak memory adds up the peaks of every process of a row: fabricks run is two, node and its
// engine, each measured as it ends (the engine through a small wrapper that records both, a few
// ms of its own). Runs a copy of each example (with a file of its own, so its module layer is
// its own to remove), in $FABRICKS_HOME as it is. Needs `npm run setup` and /usr/bin/time.
import { existsSync } from 'node:fs';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bin, copyProject, exec, fabricks, home, median, positional, report, root, row, scratchDir, setting, smoke, tools, toolsDir, wasmtimeCompiled } from './bench-lib.mjs';

const examples = positional.length ? positional : ['hello-js', 'hello-python'];
const runs = Math.min(30, Math.max(1, setting('BENCH_RUNS', 7, 1)));
const baseline = process.env.FABRICKS_BENCH_BASELINE;
const timeBin = '/usr/bin/time';
if (!existsSync(timeBin)) throw new Error('bench:run needs /usr/bin/time (Debian: apt-get install time)');
const engine = process.env.FABRICKS_ENGINE_BIN || join(toolsDir, 'fabricks-engine', 'bin', 'fabricks-engine');
const { COMPILED_LAYOUT } = await import(join(root, 'dist', 'home', 'home.js'));
const compiled = (digest) => join(home, 'cache', COMPILED_LAYOUT, digest.replace(/^sha256:/, ''));

// The engine behind a wrapper that writes down its own peak RSS and CPU, and its parent's (node)
// as the engine ends. The engine is started with an empty environment: absolute paths only.
const scratch = await scratchDir('fabricks-bench-run-');
const stats = join(scratch, 'stats');
const wrapper = join(scratch, 'engine');
await writeFile(
  wrapper,
  `#!/bin/sh\n${timeBin} -f '%M %U %S' -o ${stats}.engine ${engine} "$@"\nst=$?\n` +
    // node's VmHWM (kB) and its user+system CPU (clock ticks, fields 14 and 15 of stat)
    `/usr/bin/awk '/VmHWM/ {print $2}' /proc/$PPID/status > ${stats}.node\n/usr/bin/awk '{print $14 + $15}' /proc/$PPID/stat >> ${stats}.node\nexit $st\n`,
);
await chmod(wrapper, 0o755);
const ticks = Number((await exec('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
const lastLine = async (f) => (await readFile(f, 'utf8')).trim().split('\n').pop();

/** One run of a variant: wall ms, CPU ms and peak RSS MiB of all its processes, its stdout. */
async function once(v) {
  if (v.fabricks) {
    const r = await exec(process.execPath, v.args, { cwd: v.cwd, env: { ...v.env, FABRICKS_ENGINE_BIN: wrapper } });
    const [engineKiB, user, sys] = (await lastLine(`${stats}.engine`)).split(' ').map(Number);
    const [nodeKiB, nodeTicks] = (await readFile(`${stats}.node`, 'utf8')).trim().split('\n').map(Number);
    return { ms: r.ms, cpuMs: (user + sys) * 1000 + (nodeTicks / ticks) * 1000, rssMiB: (engineKiB + nodeKiB) / 1024, stdout: r.stdout };
  }
  const r = await exec(timeBin, ['-f', '%M %U %S', '-o', `${stats}.native`, v.cmd, ...v.args], { cwd: v.cwd, env: v.env });
  const [kib, user, sys] = (await lastLine(`${stats}.native`)).split(' ').map(Number);
  return { ms: r.ms, cpuMs: (user + sys) * 1000, rssMiB: kib / 1024, stdout: r.stdout };
}

/** Each variant `n` times, in turn; `before` runs ahead of each run of its variant (not timed). */
async function measure(variants, n) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (const [name, v] of Object.entries(variants)) {
      await v.before?.();
      samples[name].push(await once(v));
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, s]) => [k, { side: variants[k].side, ms: median(s.map((x) => x.ms)), cpuMs: median(s.map((x) => x.cpuMs)), rssMiB: median(s.map((x) => x.rssMiB)), runs: s.length, output: s[0].stdout }]),
  );
}

const rows = [];
try {
  for (const example of examples) {
    const dir = await copyProject(example);
    await writeFile(join(dir, 'nonce.txt'), `${process.pid} ${Date.now()}\n`);
    const python = (await readFile(join(dir, 'fabricks.toml'), 'utf8')).includes('runtimes/python');
    const args = ['bench'];
    // built once, untimed: these rows are about starting, not building
    const built = (await fabricks(['build', dir, '-q', '--json'])).json;
    const runArgs = [bin, 'run', '-q', dir, '--', ...args];
    const env = { FABRICKS_HOME: home };
    await fabricks(['run', '-q', dir, '--', ...args]); // compiled once
    const variants = { 'fabricks run (warm)': { side: 'fabricks', fabricks: true, args: runArgs, env } };
    if (baseline) {
      variants['baseline fabricks run (warm)'] = { side: 'baseline', fabricks: true, args: [resolve(baseline), 'run', '-q', dir, '--', ...args], env };
      await exec(process.execPath, variants['baseline fabricks run (warm)'].args, { env });
    }
    variants[python ? 'python3 main.py' : `node ${process.versions.node} main.js`] = python
      ? { side: 'native', cmd: 'python3', args: ['main.py', ...args], cwd: dir }
      : { side: 'native', cmd: process.execPath, args: ['main.js', ...args], cwd: dir };
    if (existsSync(tools.wasmtime) && !smoke) {
      const cwasm = await wasmtimeCompiled(built.component.path, built.component.digest);
      variants['wasmtime run (compiled ahead)'] = { side: 'standard-host', cmd: tools.wasmtime, args: ['run', '-S', 'http=y', '--allow-precompiled', cwasm, ...args] };
    }
    const results = await measure(variants, runs);
    // first runs (fewer: each compiles): this app on a runtime compiled already, and the first app on the runtime
    const first = { 'fabricks run (first run of this app)': { side: 'fabricks', fabricks: true, args: runArgs, env, before: () => rm(compiled(built.module.digest), { recursive: true, force: true }) } };
    if (!smoke) {
      first['fabricks run (first run on this runtime)'] = {
        side: 'fabricks',
        fabricks: true,
        args: runArgs,
        env,
        before: () => Promise.all([compiled(built.module.digest), compiled(built.runtime.digest)].map((d) => rm(d, { recursive: true, force: true }))),
      };
    }
    Object.assign(results, await measure(first, Math.min(runs, 3)));
    const outputs = new Set(Object.values(results).map((r) => r.output));
    if (outputs.size !== 1) throw new Error(`the runs of ${example} printed different output:\n${[...outputs].join('\n---\n')}`);
    for (const [name, r] of Object.entries(results)) rows.push(row(example, r.side, name, { wallMs: r.ms, cpuMs: r.cpuMs, peakRssMiB: r.rssMiB }, { runs: r.runs }));
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}

await report('run', rows, {
  columns: [['wallMs', 'wall ms'], ['cpuMs', 'CPU ms'], ['peakRssMiB', 'peak RSS MiB']],
  notes: ['fabricks run is two processes, node and its engine: CPU and peak RSS are both added up.'],
  settings: { runs },
});
