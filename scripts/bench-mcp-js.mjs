#!/usr/bin/env node
// MCP benchmark for JavaScript (npm run bench:mcp-js): the stdio server of
// test/fixtures/mcp-stdio-js (official TypeScript SDK + zod), driven by the SDK's own client,
//   1. spawn to first tool result (initialize, tools/list, tools/call), median of BENCH_RUNS,
//   2. tool-call round trips per second over one connection,
//   3. one tool call whose request line (and answer) is BENCH_LINE_MIB (9) MiB long,
// under `fabricks run` (built and prepared first; a cold start is not part of it) and under
// node on the host. Prints a table and JSON (also written to bench-results/mcp-js.json).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, cp, mkdir, mkdtemp, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const fixture = join(root, 'test', 'fixtures', 'mcp-stdio-js');
const runs = Number(process.env.BENCH_RUNS ?? 5);
const calls = Number(process.env.BENCH_CALLS ?? 200);
const lineMiB = Number(process.env.BENCH_LINE_MIB ?? 9);
const home = process.env.FABRICKS_HOME ?? join(tmpdir(), 'fabricks-bench-home');
const env = { ...process.env, FABRICKS_HOME: home };

// The fixture's dependencies, pinned by its lock file, installed once (shared with the tests).
const lock = await readFile(join(fixture, 'package-lock.json'));
const cache = join(tmpdir(), 'fabricks-test-npm', `mcp-stdio-js-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`);
const modules = join(cache, 'node_modules');
if (!(await access(join(modules, '.package-lock.json')).then(() => true, () => false))) {
  const work = await mkdtemp(join(tmpdir(), 'fabricks-bench-npm-'));
  await cp(join(fixture, 'package.json'), join(work, 'package.json'));
  await cp(join(fixture, 'package-lock.json'), join(work, 'package-lock.json'));
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: work, stdio: 'inherit' });
  await mkdir(cache, { recursive: true });
  await rename(join(work, 'node_modules'), modules).catch(() => undefined);
}
const dir = await mkdtemp(join(tmpdir(), 'fabricks-bench-mcp-'));
for (const f of ['server.js', 'fabricks.toml', 'package.json']) await cp(join(fixture, f), join(dir, f));
await symlink(modules, join(dir, 'node_modules'));

const built = spawnSync(process.execPath, [bin, 'build', dir, '--json'], { env, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`fabricks build failed:\n${built.stderr}`);
const moduleLayer = JSON.parse(built.stdout).module?.size;
// prepared once (the runtime compiled for wasmtime), as a second run on the same machine finds it
spawnSync(process.execPath, [bin, 'run', dir], { env, input: '' });

async function measure(command, args) {
  const starts = [];
  let rate;
  let longLineMs;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command, args, env, stderr: 'ignore' }));
    await client.listTools();
    const r = await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
    if (r.content[0].text !== '3') throw new Error(`unexpected result ${JSON.stringify(r)}`);
    starts.push(performance.now() - t0);
    if (i === 0) {
      const t1 = performance.now();
      for (let n = 0; n < calls; n++) await client.callTool({ name: 'add', arguments: { a: n, b: 1 } });
      rate = calls / ((performance.now() - t1) / 1000);
      const why = 'w'.repeat(lineMiB * 1024 * 1024);
      const t2 = performance.now();
      const long = await client.callTool({ name: 'fail', arguments: { why } }, undefined, { timeout: 600_000 });
      if (long.content[0].text.length !== 'failed: '.length + why.length) throw new Error('unexpected answer to the long line');
      longLineMs = performance.now() - t2;
    }
    await client.close();
  }
  return { firstResultMs: Math.round(starts.sort((a, b) => a - b)[Math.floor(runs / 2)]), callsPerSecond: Math.round(rate), longLineMs: Math.round(longLineMs) };
}

const results = [
  { server: 'fabricks run', ...(await measure(process.execPath, [bin, 'run', dir])) },
  { server: 'node (host)', ...(await measure(process.execPath, [join(dir, 'server.js')])) },
];
console.log(`module layer: ${moduleLayer} bytes; ${runs} runs, ${calls} calls`);
console.log(`server          spawn→first result   tool calls/s   ${lineMiB} MiB line`);
for (const r of results) console.log(`${r.server.padEnd(16)}${`${r.firstResultMs} ms`.padStart(19)}${String(r.callsPerSecond).padStart(15)}${`${r.longLineMs} ms`.padStart(14)}`);
const json = { moduleLayer, runs, calls, lineMiB, results };
console.log(JSON.stringify(json));
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'mcp-js.json'), JSON.stringify(json, null, 2) + '\n');
