#!/usr/bin/env node
// Store and transfer benchmark (npm run bench:store [node|python]; BENCH_RUNS=N, default 3):
//   1. fabricks pull of one app (config, runtime layer, module layer) from a real local registry
//      into a fresh FABRICKS_HOME, one blob at a time (FABRICKS_TRANSFER_CONCURRENCY=1) and three
//      at a time (the default), median wall time of N runs each;
//   2. fabricks ls and fabricks gc (nothing to remove, then after rm) on the pulled home.
// Needs `npm run setup` (the registry comes from install-tools) and the runtime built in
// FABRICKS_HOME (fabricks runtime build). Prints a table and JSON.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const runtime = process.argv[2] ?? 'node';
const runs = Number(process.env.BENCH_RUNS ?? 3);
const builderHome = process.env.FABRICKS_HOME ?? join(tmpdir(), 'fabricks-bench-home');
const toolsDir = process.env.FABRICKS_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fabricks-tools');
const registryBin = join(toolsDir, 'go-tools-distribution-v3.1.2-oras-v1.3.6-crane-v0.22.1', 'registry');
const scratch = await mkdtemp(join(tmpdir(), 'fabricks-bench-store-'));

function cli(args, home, env = {}) {
  const started = process.hrtime.bigint();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, FABRICKS_HOME: home, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (status !== 0) return reject(new Error(`fabricks ${args.join(' ')} failed:\n${stderr}`));
      resolvePromise({ ms, json: stdout.trim().startsWith('{') ? JSON.parse(stdout) : undefined });
    });
  });
}

const freePort = () =>
  new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const port = await freePort();
await writeFile(join(scratch, 'config.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(scratch, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
const registry = spawn(registryBin, ['serve', join(scratch, 'config.yml')], { stdio: 'ignore' });
try {
  for (let i = 0; ; i++) {
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)) break;
    if (i > 100) throw new Error('the registry did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const example = runtime === 'python' ? 'hello-python' : 'hello-js';
  const app = join(scratch, example);
  await cp(join(root, 'examples', example), app, { recursive: true, filter: (s) => !s.includes('.fabricks') && !s.endsWith('fabricks.lock') });
  await cli(['build', '-q', app], builderHome);
  const reference = `127.0.0.1:${port}/bench/${example}:1`;
  const pushed = await cli(['push', app, reference, '--plain-http', '--json', '-q'], builderHome);
  const size = pushed.json.layers.reduce((n, l) => n + l.size, 0);
  const results = { runtime, bytes: size, pull: {}, store: {} };
  let lastHome;
  for (const concurrency of [1, 3]) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const home = await mkdtemp(join(scratch, 'home-'));
      times.push((await cli(['pull', reference, '--plain-http', '-q'], home, { FABRICKS_TRANSFER_CONCURRENCY: String(concurrency) })).ms);
      if (lastHome) await rm(lastHome, { recursive: true, force: true });
      lastHome = home;
    }
    results.pull[`concurrency ${concurrency}`] = { medianMs: Math.round(median(times)), runsMs: times.map(Math.round) };
  }
  results.store.lsMs = Math.round((await cli(['ls', '--json'], lastHome)).ms);
  results.store.gcNothingMs = Math.round((await cli(['gc', '--json'], lastHome)).ms);
  await cli(['rm', reference], lastHome);
  const gc = await cli(['gc', '--json'], lastHome);
  results.store.gcAfterRmMs = Math.round(gc.ms);
  results.store.freedBytes = gc.json.freed;
  console.log(`pull of ${reference} (${(size / 1e6).toFixed(1)} MB in 3 blobs), median of ${runs}:`);
  for (const [k, v] of Object.entries(results.pull)) console.log(`  ${k.padEnd(14)} ${v.medianMs} ms  (${v.runsMs.join(', ')})`);
  console.log(`ls ${results.store.lsMs} ms; gc with nothing to remove ${results.store.gcNothingMs} ms; gc after rm ${results.store.gcAfterRmMs} ms, freed ${(results.store.freedBytes / 1e6).toFixed(1)} MB`);
  console.log(JSON.stringify(results));
} finally {
  registry.kill('SIGKILL');
  await rm(scratch, { recursive: true, force: true });
}
