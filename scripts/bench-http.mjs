#!/usr/bin/env node
// HTTP serving benchmark (npm run bench:http [-- --smoke]): examples/http-js (Hono) and
// examples/http-python (WSGI), each served by `fabricks run` (served once before, so that the
// runtime is compiled for the machine) and natively: the same handler under Node's http server
// (scripts/native-serve.mjs), the same app under python3's wsgiref; and, when installed, by
// `wasmtime serve` (the standard wasi:http host, a fresh instance per request; not in a smoke
// run). A bounded load from this process (BENCH_REQUESTS requests, default 2000, at most
// BENCH_SECONDS s, default 30, BENCH_CONCURRENCY at once, default 8) after a warm-up: req/s,
// p50/p99 latency, the server's CPU time per request (all its processes: steadier than req/s on
// shared cores), and the peak RSS (VmHWM) of the server's processes, added up and the largest
// (fabricks run is node and its engine; the engine is the one serving).
// Aims (checks in the JSON): fabricks at least half the native req/s, p99 within 3x native, the
// serving process under 150 MB. Needs `npm run setup`.
import { existsSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { bin, copyProject, cpuBetween, fabricks, freePort, httpLoad, jsonPort, report, root, row, servingPort, setting, smoke, startServer, tools, warmUp, wasmtimeCompiled } from './bench-lib.mjs';

const requests = setting('BENCH_REQUESTS', 2000, 100);
const seconds = setting('BENCH_SECONDS', 30, 5);
const concurrency = setting('BENCH_CONCURRENCY', 8, 4);
const python = process.env.FABRICKS_PYTHON ?? 'python3';
// not in a smoke run: compiling the component for it takes longer than the rest
const standardHost = existsSync(tools.wasmtime) && !smoke;

// Built first, in copies (a build writes .fabricks/ into the project), so serving starts at once.
const projects = {};
for (const example of ['http-js', 'http-python']) {
  const dir = await copyProject(example);
  // hono, pinned in the example's package.json, is also a devDependency here
  if (example === 'http-js') await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  const built = await fabricks(['build', '-q', '--json', dir]);
  projects[example] = { dir, component: built.json.component.path, digest: built.json.component.digest };
  // served once first: a runtime not yet compiled for this machine is compiled by the serving
  // process (once per machine, at a peak of hundreds of MB), which is not what serving costs
  const first = await startServer('fabricks run', process.execPath, [bin, 'run', dir, '--listen', '127.0.0.1:0', '--progress', 'json'], { portOf: servingPort });
  await first.stop();
}

const fabricksServe = (example) => () =>
  startServer('fabricks run', process.execPath, [bin, 'run', projects[example].dir, '--listen', '127.0.0.1:0', '--progress', 'json'], { portOf: servingPort });
const wasmtimeServe = (example) => async () => {
  const port = await freePort();
  const cwasm = await wasmtimeCompiled(projects[example].component, projects[example].digest);
  return startServer('wasmtime serve (a fresh instance per request)', tools.wasmtime, ['serve', '-S', 'cli=y', '--allow-precompiled', '--addr', `127.0.0.1:${port}`, cwasm], {
    portOf: (out) => (/Serving HTTP on/.test(out) ? port : 0),
  });
};
// the WSGI app under the standard library's server, as `python3 app.py` serves it, on a free port
const wsgiref = `import sys, json; sys.path.insert(0, ${JSON.stringify(join(root, 'examples', 'http-python'))}); from app import app; from wsgiref.simple_server import make_server, WSGIRequestHandler
class Quiet(WSGIRequestHandler):
    def log_message(self, *a): pass
s = make_server('127.0.0.1', 0, app, handler_class=Quiet); print(json.dumps({"port": s.server_port}), flush=True); s.serve_forever()`;

const suites = [
  {
    group: 'http-js',
    path: '/hello/bench',
    servers: [
      ['fabricks', fabricksServe('http-js')],
      ['native', () => startServer(`node ${process.versions.node} (same handler)`, process.execPath, [join(root, 'scripts', 'native-serve.mjs'), join(root, 'examples', 'http-js', 'main.js')], { portOf: jsonPort })],
      ...(standardHost ? [['standard-host', wasmtimeServe('http-js')]] : []),
    ],
  },
  {
    group: 'http-python',
    path: '/json',
    servers: [
      ['fabricks', fabricksServe('http-python')],
      ['native', () => startServer('python3 wsgiref (same app)', python, ['-c', wsgiref], { portOf: jsonPort })],
      ...(standardHost ? [['standard-host', wasmtimeServe('http-python')]] : []),
    ],
  },
];

const rows = [];
for (const { group, path, servers } of suites) {
  for (const [side, make] of servers) {
    const s = await make();
    try {
      const url = `${s.url}${path}`;
      // every instance made and its app loaded (a Python instance imports the app on its first request)
      await warmUp(url, concurrency);
      const cpuBefore = await s.cpuTimes();
      const r = await httpLoad(url, { requests, seconds, concurrency });
      const cpuAfter = await s.cpuTimes();
      const cpu = cpuBetween(cpuBefore, cpuAfter);
      const rss = await s.peakRss();
      for (const p of rss.processes) p.cpuMs = (cpuAfter[p.pid] ?? 0) - (cpuBefore[p.pid] ?? 0);
      rows.push(
        row(group, side, s.name, { rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, cpuMsPerRequest: cpu > 0 ? cpu / r.requests : undefined, peakRssMB: rss.totalMB, largestProcessMB: rss.largestMB }, { path, requests: r.requests, failed: r.failed, seconds: r.seconds, cpuMs: cpu, processes: rss.processes }),
      );
    } finally {
      await s.stop();
    }
  }
}

const checks = {};
for (const { group } of suites) {
  const f = rows.find((r) => r.group === group && r.side === 'fabricks').metrics;
  const n = rows.find((r) => r.group === group && r.side === 'native').metrics;
  checks[group] = {
    rpsVsNative: +(f.rps / n.rps).toFixed(2),
    p99VsNative: +(f.p99Ms / n.p99Ms).toFixed(2),
    atLeastHalfNativeRps: f.rps >= n.rps / 2,
    p99Within3xNative: f.p99Ms <= 3 * n.p99Ms,
    servingProcessUnder150MB: f.largestProcessMB < 150,
  };
}
await report('http', rows, {
  columns: [['rps', 'req/s'], ['p50Ms', 'p50 ms'], ['p99Ms', 'p99 ms'], ['cpuMsPerRequest', 'CPU ms/req'], ['peakRssMB', 'peak RSS MB'], ['largestProcessMB', 'largest MB']],
  notes: [
    `${requests} requests at most, ${seconds} s at most, ${concurrency} at once, after a warm-up; peak RSS: all the server's processes (fabricks run: node and its engine), largest: the biggest of them`,
    ...Object.entries(checks).map(([g, c]) => `${g}: fabricks ${c.rpsVsNative}x native req/s, p99 ${c.p99VsNative}x native; aims: ${c.atLeastHalfNativeRps && c.p99Within3xNative && c.servingProcessUnder150MB ? 'met' : 'MISSED'}`),
  ],
  settings: { requests, seconds, concurrency },
  checks,
});
if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
// the aims are judged on full runs only: a smoke run's handful of requests says nothing of speed
if (!smoke && Object.values(checks).some((c) => !c.atLeastHalfNativeRps || !c.p99Within3xNative || !c.servingProcessUnder150MB)) process.exitCode = 1;
