#!/usr/bin/env node
// Start-up benchmark (npm run bench:start [-- --smoke]): how long a client waits for a program
// under fabricks and natively, in the same run, the variants taking turns (BENCH_RUNS each,
// default 5, median):
//   - examples/mcp-weather-js and mcp-weather-python, and published npm servers of the Node
//     corpus (test/corpus/npm; BENCH_START_SERVERS=id,id, default filesystem, memory,
//     everything): spawn to first tool result (initialize, tools/list, the first tools/call)
//     through the official TypeScript client over stdio, against node, and for the Python
//     example the official MCP SDK's FastMCP on the host's Python (the tools venv);
//   - published Python servers of the Python corpus (test/corpus/python;
//     BENCH_START_PY_SERVERS=id,id, default time, calculator; none in a smoke run): spawn to
//     first tool result, against the same packages pip-installed in a venv of the host's Python;
//   - examples/hello-js and hello-python: a warm run to its exit, against node and python3;
//   - for the four examples (not the corpus servers, whose module layers the corpus tests
//     share), a spawn that finds the module layer not compiled for this machine and, not in a
//     smoke run, one that finds neither the runtime nor the module compiled (build, pull and
//     prepare compile both, so only a trimmed cache or a copied home leaves this), 2 runs each.
// Each row gives wall ms, CPU ms (user + system) and peak memory (MiB) of the whole process tree:
// fabricks run is node and the engine. Measured two ways, each the robust one for its case:
//   - to the first tool result: the tree is alive then, so /proc/<pid>/stat and status of every
//     process in it are read at that moment (utime + stime, VmHWM): exact to the clock tick and
//     nothing missed, and nothing depends on how the server is later shut down;
//   - to the exit: CPU from the kernel's rusage of the waited-for children, through /usr/bin/time
//     (it counts every descendant that was waited for, so the engine under node too), and memory
//     by sampling the tree's VmHWM every 10 ms while it runs. rusage's maxrss is the largest single
//     process, not the tree, hence the sampling; a process living under 10 ms would be missed,
//     and fabricks starts none.
// Peak memory is the sum of each process's own peak, an upper bound of the tree's at any moment.
// Prints a table and JSON (bench-results/start.json). Needs `npm run setup` and /usr/bin/time.
// --smoke: hello-js, hello-python, mcp-weather-js and the corpus's hello-world, one run, no
// spawn with nothing compiled (it would compile the runtime again under the other tests).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  bin,
  copyProject,
  cpuTimes,
  exec,
  fabricks,
  home,
  lockedNodeModules,
  median,
  peakRss,
  report,
  root,
  row,
  scratchDir,
  setting,
  smoke,
  startWeatherApi,
  tools,
  track,
} from './bench-lib.mjs';

const runs = Math.max(1, setting('BENCH_RUNS', 5, 1));
const firstRuns = Math.min(runs, 2);
const examples = smoke ? ['hello-js', 'hello-python', 'mcp-weather-js'] : ['mcp-weather-js', 'mcp-weather-python', 'hello-js', 'hello-python'];
const serverIds = process.env.BENCH_START_SERVERS ? process.env.BENCH_START_SERVERS.split(',') : smoke ? ['hello-world'] : ['filesystem', 'memory', 'everything'];
const timeBin = '/usr/bin/time';
if (!existsSync(timeBin)) throw new Error('bench:start needs /usr/bin/time (Debian: apt-get install time)');
if (!existsSync(tools.mcpPython) && examples.includes('mcp-weather-python')) throw new Error(`bench:start needs the official MCP SDK's venv at ${tools.mcpPython}: run npm run setup`);

const { COMPILED_LAYOUT } = await import(pathToFileURL(join(root, 'dist', 'home', 'home.js')).href);
const compiledDir = join(process.env.FABRICKS_COMPILED_CACHE || join(home, 'cache'), COMPILED_LAYOUT);
const uncompile = (...digests) => Promise.all(digests.map((d) => rm(join(compiledDir, d.replace(/^sha256:/, '')), { recursive: true, force: true })));
const corpus = await import(pathToFileURL(join(root, 'test', 'corpus', 'npm', 'corpus.mjs')).href);
const { servers } = await import(pathToFileURL(join(root, 'test', 'corpus', 'npm', 'servers.mjs')).href);
const unknown = serverIds.filter((id) => !servers.some((s) => s.id === id));
if (unknown.length) throw new Error(`no corpus server ${unknown.join(', ')}; the ids are ${servers.map((s) => s.id).join(', ')}`);
const scratch = await scratchDir('fabricks-bench-start-');
const sum = (o) => Object.values(o).reduce((n, x) => n + x, 0);

// The weather API the weather examples call (as bench:mcp).
const KEY = 'bench-key';
const weather = await startWeatherApi(KEY);
const api = weather.server;
const weatherEnv = { WEATHER_API_URL: `http://127.0.0.1:${api.address().port}`, WEATHER_API_KEY: KEY, PYTHONDONTWRITEBYTECODE: '1' };
const weatherGrants = ['--env', 'WEATHER_API_URL', '--env', 'WEATHER_API_KEY', '--allow-connect', `127.0.0.1:${api.address().port}`];
const weatherCall = { name: 'get_forecast', arguments: { latitude: 38.9, longitude: -77 }, expect: /51°F/ };

/**
 * Spawn to the first tool result over stdio: wall ms, and the CPU and peak memory of the tree
 * read while it is still alive.
 */
async function toFirstResult({ command, args, env = {}, call, before }) {
  await before?.();
  const t0 = performance.now();
  const transport = new StdioClientTransport({ command, args, env: { ...process.env, FABRICKS_HOME: home, ...env }, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-8000)));
  const client = new Client({ name: 'bench-start', version: '1' });
  try {
    await client.connect(transport, { timeout: 300_000 });
    await client.listTools(undefined, { timeout: 300_000 });
    const result = await client.callTool({ name: call.name, arguments: call.arguments }, undefined, { timeout: 300_000 });
    const ms = performance.now() - t0;
    const [cpu, mem] = await Promise.all([cpuTimes(transport.pid), peakRss(transport.pid)]);
    const text = (result.content ?? []).map((c) => c.text ?? '').join('\n');
    if (!call.expect.test(text)) throw new Error(`${command} ${args.join(' ')}: ${call.name} answered ${JSON.stringify(text.slice(0, 500))}, not ${call.expect}`);
    return { ms, cpuMs: sum(cpu), rssMiB: mem.totalMB, output: text };
  } catch (e) {
    throw new Error(`${command} ${args.join(' ')}: ${e instanceof Error ? e.message : e}\n${stderr}`);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** A run to its exit: wall ms, CPU of the tree from rusage (/usr/bin/time), peak memory sampled. */
async function toExit({ command, args, cwd, env = {}, before }) {
  await before?.();
  const stats = join(scratch, `time-${process.pid}`);
  const t0 = performance.now();
  const child = track(spawn(timeBin, ['-f', '%U %S', '-o', stats, command, ...args], { cwd, env: { ...process.env, FABRICKS_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise((r, reject) => {
    child.once('close', (status) => r({ status, ms: performance.now() - t0 }));
    child.once('error', reject);
  });
  const peaks = new Map();
  let done = false;
  const sampling = (async () => {
    while (!done) {
      // /usr/bin/time itself (the root) is not part of what is measured
      for (const p of (await peakRss(child.pid)).processes) if (p.pid !== child.pid) peaks.set(p.pid, Math.max(peaks.get(p.pid) ?? 0, p.mb));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const { status, ms } = await closed;
  done = true;
  await sampling;
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${status}):\n${stderr.slice(-4000)}`);
  const [user, sys] = (await readFile(stats, 'utf8')).trim().split('\n').pop().split(' ').map(Number);
  return { ms, cpuMs: (user + sys) * 1000, rssMiB: [...peaks.values()].reduce((n, x) => n + x, 0), output: stdout };
}

/** Each variant `n` times, taking turns; the median of each measure. */
async function measure(variants, n) {
  const samples = variants.map(() => []);
  for (let i = 0; i < n; i++) for (const [k, v] of variants.entries()) samples[k].push(await (v.kind === 'first result' ? toFirstResult(v) : toExit(v)));
  return variants.map((v, k) => {
    const s = samples[k];
    return { ...v, ms: median(s.map((x) => x.ms)), cpuMs: median(s.map((x) => x.cpuMs)), rssMiB: median(s.map((x) => x.rssMiB)), runs: s.length, output: s[0].output };
  });
}

const rows = [];
const sizes = {};
function addRows(group, results) {
  const native = results.find((r) => r.side === 'native');
  const outputs = new Set(results.map((r) => r.output));
  if (outputs.size !== 1) throw new Error(`${group}: the variants answered differently:\n${[...outputs].join('\n---\n')}`);
  for (const r of results) {
    rows.push(row(group, r.side, r.name, { wallMs: r.ms, vsNative: r.side === 'native' ? undefined : r.ms / native.ms, cpuMs: r.cpuMs, peakMiB: r.rssMiB }, { measure: r.kind, runs: r.runs }));
  }
}

// The examples: a copy of each, its entry file given a comment of its own so that its module
// layer (and so its compiled form, which the first-spawn rows remove) is this run's alone.
for (const example of examples) {
  const dir = await copyProject(example);
  const toml = await readFile(join(dir, 'fabricks.toml'), 'utf8');
  const python = toml.includes('runtimes/python');
  const entry = /^entrypoint = "(.+)"$/m.exec(toml)[1];
  await appendFile(join(dir, entry), `${python ? '#' : '//'} bench:start ${process.pid} ${Date.now()}\n`);
  const mcp = example.startsWith('mcp-');
  if (mcp && !python) await symlink(await lockedNodeModules(join(root, 'examples', example), example), join(dir, 'node_modules'));
  const built = (await fabricks(['build', dir, '-q', '--json'])).json;
  // the pre-initialized form, as pull or fabricks prepare leaves it (engine/prepared.ts)
  await fabricks(['prepare', dir, '-q']);
  sizes[example] = built.module.size;
  const kind = mcp ? 'first result' : 'exit';
  const args = mcp ? weatherGrants : ['--', 'bench'];
  const env = mcp ? weatherEnv : {};
  const common = { kind, env, cwd: dir, call: weatherCall };
  const fab = { ...common, side: 'fabricks', command: process.execPath, args: [bin, 'run', '-q', dir, ...args] };
  // run once unmeasured: its module layer compiled, as a later spawn on the machine finds it
  await (mcp ? toFirstResult(fab) : toExit(fab));
  const nativeArgs = mcp ? [entry] : [entry, 'bench'];
  const native = python
    ? { ...common, side: 'native', name: mcp ? 'python (official mcp 1.30.0)' : 'python3 main.py', command: mcp ? tools.mcpPython : 'python3', args: nativeArgs.map((a, i) => (i === 0 ? join(dir, a) : a)) }
    : { ...common, side: 'native', name: `node ${process.versions.node}`, command: process.execPath, args: nativeArgs.map((a, i) => (i === 0 ? join(dir, a) : a)) };
  const plain = { ...fab, name: `${mcp ? 'fabricks run' : 'fabricks run (warm)'}, not pre-initialized`, env: { ...env, FABRICKS_PREPARED: '0' } };
  const results = await measure([{ ...fab, name: mcp ? 'fabricks run' : 'fabricks run (warm)' }, native, ...(smoke ? [] : [plain])], runs);
  // build, pull and prepare all compile: these are what a spawn meets when none of them ran here
  // (a copied home, a cache trimmed meanwhile); the pre-initialized form, where there is one, stays
  const first = [{ ...fab, name: 'fabricks run (module layer not compiled)', before: () => uncompile(built.module.digest) }];
  if (!smoke) first.push({ ...fab, name: 'fabricks run (runtime and module not compiled)', before: () => uncompile(built.module.digest, built.runtime.digest) });
  results.push(...(await measure(first, firstRuns)));
  addRows(example, results);
}

// Published servers of the Node corpus, unmodified, against node on the same bundle's sources.
if (serverIds.length) {
  const modules = await corpus.corpusNodeModules();
  for (const id of serverIds) {
    const server = servers.find((s) => s.id === id);
    if (!server.calls?.length) throw new Error(`corpus server ${id} has no tool call that needs no network: choose another`);
    const p = await corpus.prepare(server, modules, scratch);
    const built = await corpus.build(p.project, { home });
    if (built.status !== 0) throw new Error(`corpus server ${id} does not build:\n${built.stderr.slice(-4000)}`);
    await fabricks(['prepare', p.project, '-q']);
    sizes[id] = built.json.module.size;
    const variant = (side, name, cmd) => {
      const c = server.calls[0];
      return { kind: 'first result', side, name, command: cmd.command, args: cmd.args, env: cmd.env, call: { name: c.name, arguments: c.arguments(cmd.data), expect: c.expect }, before: () => corpus.resetData(server, side === 'native' ? p.data.native : p.data.fabricks) };
    };
    const fab = variant('fabricks', 'fabricks run', corpus.fabricksCommand(server, p.project, { home }));
    await toFirstResult(fab);
    const plain = { ...fab, name: 'fabricks run, not pre-initialized', env: { ...fab.env, FABRICKS_PREPARED: '0' } };
    addRows(`${id} (${server.package}@${p.version})`, await measure([fab, variant('native', `node ${process.versions.node}`, corpus.nativeCommand(server, modules, p.data.native)), ...(smoke ? [] : [plain])], runs));
  }
}
// Published Python servers of the corpus (test/corpus/python), unmodified, against the same
// packages installed with pip on the host's Python, in a venv of their own. Not in the smoke run
// (installing them takes a minute). A server whose imports draw random numbers has no
// pre-initialized form (docs/python.md): its rows say what a spawn costs without one.
const pythonIds = process.env.BENCH_START_PY_SERVERS !== undefined ? process.env.BENCH_START_PY_SERVERS.split(',').filter(Boolean) : smoke ? [] : ['time', 'calculator'];
if (pythonIds.length) {
  const { servers: pyServers } = await import(pathToFileURL(join(root, 'test', 'corpus', 'python', 'servers.mjs')).href);
  const pyCorpus = await import(pathToFileURL(join(root, 'test', 'corpus', 'python', 'corpus.mjs')).href);
  const hostPy = (await exec('python3', ['-c', 'import sys; print(sys.version.split()[0])'])).stdout.trim();
  for (const id of pythonIds) {
    const server = pyServers.find((s) => s.id === id);
    if (!server) throw new Error(`no Python corpus server ${id}; the ids are ${pyServers.map((s) => s.id).join(', ')}`);
    if (server.mount || server.env) throw new Error(`Python corpus server ${id} needs a folder or variables: choose another`);
    // a call whose answer is the same every time (time's convert_time, not get_current_time)
    const call = server.calls.find((c) => c.name !== 'get_current_time');
    if (!call) throw new Error(`Python corpus server ${id} has no tool call with a fixed answer: choose another`);
    const dir = join(scratch, `py-${id}`);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(pyCorpus.projectFiles(server, { name: `bench-py-${id}` }))) await writeFile(join(dir, file), text);
    const built = JSON.parse((await fabricks(['build', '--prepare', '--json', dir])).stdout);
    sizes[`python ${id}`] = built.module.size;
    const venv = join(scratch, `venv-${id}`);
    await exec('python3', ['-m', 'venv', venv]);
    await exec(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...server.requirements]);
    const expect = { name: call.name, arguments: call.arguments, expect: call.expect };
    const args = server.args ?? [];
    addRows(
      `${id} (${server.requirements[0]})`,
      await measure(
        [
          { kind: 'first result', side: 'fabricks', name: 'fabricks run', command: process.execPath, args: [bin, 'run', '-q', dir, '--', ...args], call: expect },
          { kind: 'first result', side: 'native', name: `python ${hostPy} (the same packages)`, command: join(venv, 'bin', 'python'), args: [join(dir, 'run_server.py'), ...args], call: expect },
        ],
        runs,
      ),
    );
  }
}
api.close();

const hostPython = existsSync(tools.mcpPython) ? (await exec(tools.mcpPython, ['-c', 'import sys; print(sys.version.split()[0])'])).stdout.trim() : undefined;
await report('start', rows, {
  columns: [['wallMs', 'wall ms'], ['vsNative', '× native'], ['cpuMs', 'CPU ms'], ['peakMiB', 'peak MiB']],
  notes: [
    'mcp-* and corpus rows: spawn to the first tool result; hello-*: a run to its exit. CPU and peak memory: the whole process tree (fabricks run is node and its engine).',
    `module layers (bytes): ${Object.entries(sizes).map(([k, v]) => `${k} ${v}`).join(', ')}; ${runs} runs (first spawns: ${firstRuns})`,
  ],
  settings: { runs, firstRuns, examples, servers: serverIds, pythonServers: pythonIds },
  moduleLayerBytes: sizes,
  hostPython,
});
