#!/usr/bin/env node
// HTTP serving benchmark (npm run bench:http): examples/http-js (Hono) served by `fabricks run`
// and the same handler served natively by Node (scripts/native-serve.mjs); examples/http-python
// (WSGI) served by `fabricks run` and natively by python3's wsgiref. A bounded load
// (BENCH_REQUESTS requests, default 1000, at most BENCH_SECONDS s, default 60, BENCH_CONCURRENCY
// at once, default 8) from a small loop over Node's fetch (undici) in this process; reports
// req/s, p50/p99 latency and the serving process's peak RSS (VmHWM: all its threads).
// Prints a table and JSON (also written to bench-results/http.json). Needs `npm run setup`.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requests = Number(process.env.BENCH_REQUESTS ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const home = process.env.FABRICKS_HOME ?? join(tmpdir(), 'fabricks-bench-home');
const python = process.env.FABRICKS_PYTHON ?? 'python3';

/** Starts a server process and resolves with its port once it prints it. */
function start(name, args, portOf, command = process.execPath) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, FABRICKS_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const look = (d) => {
      out += d.toString();
      const port = portOf(out);
      if (port) resolvePromise({ name, child, port });
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('close', (code) => reject(new Error(`${name} exited (${code}):\n${out}`)));
  });
}

async function peakRss(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function load(url) {
  const latencies = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests && performance.now() < deadline) {
        next++;
        const t = performance.now();
        try {
          const r = await fetch(url);
          await r.arrayBuffer();
          if (r.status !== 200) failed++;
        } catch {
          failed++;
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { requests: latencies.length, failed, seconds: +elapsed.toFixed(2), rps: +(latencies.length / elapsed).toFixed(1), p50ms: +pct(50).toFixed(1), p99ms: +pct(99).toFixed(1) };
}

const fabricksServe = (example) => () =>
  start(`fabricks run examples/${example}`, [join(root, 'bin', 'fabricks.js'), 'run', join(root, 'examples', example), '--listen', '127.0.0.1:0', '--progress', 'json'], (out) =>
    Number(/"event":"serving".*?"port":(\d+)/.exec(out)?.[1] ?? 0),
  );
// the WSGI app under the standard library's server, as `python3 app.py` serves it, on a free port
const wsgiref = `import sys, json; sys.path.insert(0, ${JSON.stringify(join(root, 'examples', 'http-python'))}); from app import app; from wsgiref.simple_server import make_server, WSGIRequestHandler
class Quiet(WSGIRequestHandler):
    def log_message(self, *a): pass
s = make_server('127.0.0.1', 0, app, handler_class=Quiet); print(json.dumps({"port": s.server_port}), flush=True); s.serve_forever()`;

const suites = [
  {
    path: '/hello/bench',
    servers: [
      fabricksServe('http-js'),
      () => start('node (native, same handler)', [join(root, 'scripts', 'native-serve.mjs'), join(root, 'examples', 'http-js', 'main.js')], (out) => Number(/\{"port":(\d+)\}/.exec(out)?.[1] ?? 0)),
    ],
  },
  {
    path: '/json',
    servers: [fabricksServe('http-python'), () => start('python3 wsgiref (native, same app)', ['-c', wsgiref], (out) => Number(/\{"port": (\d+)\}/.exec(out)?.[1] ?? 0), python)],
  },
];

const results = [];
for (const { path, servers } of suites) {
  for (const make of servers) {
    const s = await make();
    const url = `http://127.0.0.1:${s.port}${path}`;
    // warm up: the first requests of each worker (a Python instance imports the app on its first)
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: concurrency }, () => fetch(url).then((r) => r.arrayBuffer(), () => undefined)));
    const r = await load(url);
    results.push({ server: s.name, path, concurrency, ...r, peakRssMB: +((await peakRss(s.child.pid)) / 1048576).toFixed(0) });
    s.child.removeAllListeners('close');
    s.child.kill('SIGTERM');
    await new Promise((r2) => s.child.once('close', r2));
  }
}

const workers = process.env.FABRICKS_SERVE_WORKERS ?? 'default';
console.log(`${requests} requests at most, ${seconds} s at most, ${concurrency} at once; FABRICKS_SERVE_WORKERS=${workers}`);
console.log('server'.padEnd(48), 'GET'.padEnd(13), 'req/s'.padStart(8), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'peak RSS'.padStart(10), 'failed'.padStart(7));
for (const r of results) console.log(r.server.padEnd(48), r.path.padEnd(13), String(r.rps).padStart(8), String(r.p50ms).padStart(8), String(r.p99ms).padStart(8), `${r.peakRssMB} MB`.padStart(10), String(r.failed).padStart(7));
const json = { date: new Date().toISOString(), node: process.version, workers, results };
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'http.json'), JSON.stringify(json, null, 2) + '\n');
console.log(JSON.stringify(json));
