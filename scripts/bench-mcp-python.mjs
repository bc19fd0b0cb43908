#!/usr/bin/env node
// FastMCP benchmark (npm run bench:mcp-python; BENCH_RUNS=N, default 5, BENCH_CALLS, default
// 200): the test fixture server (test/fixtures/mcp-python, seven tools) driven over stdio by the
// official Python SDK's client, three ways: fabricks' FastMCP in the runtime under `fabricks run`,
// the official SDK's FastMCP (mcp 1.30.0) on the host's Python, and fabricks' FastMCP on the
// host's Python. Spawn to first tool result (median) and tool calls per second (median). Prints a
// table and JSON (also bench-results/mcp-python.json). Needs `npm run setup` (the mcp venv).
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const runs = Number(process.env.BENCH_RUNS ?? 5);
const calls = Number(process.env.BENCH_CALLS ?? 200);
const home = process.env.FABRICKS_HOME ?? join(tmpdir(), 'fabricks-bench-home');
const toolsDir = process.env.FABRICKS_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fabricks-tools');
const python = join(toolsDir, 'mcp-py-1.30.0', 'bin', 'python');
const env = { ...process.env, FABRICKS_HOME: home, PYTHONDONTWRITEBYTECODE: '1' };

const dir = join(await mkdtemp(join(tmpdir(), 'fabricks-bench-mcp-')), 'mcp-python');
await cp(join(root, 'test', 'fixtures', 'mcp-python'), dir, { recursive: true, filter: (s) => !s.includes('.fabricks') && !s.includes('__pycache__') });
execFileSync(process.execPath, [bin, 'build', '-q', dir], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const hostOurs = join(dir, 'host_fabricks_fastmcp.py');
await writeFile(hostOurs, `import sys\nsys.path[:0] = [${JSON.stringify(join(root, 'guest', 'python'))}, ${JSON.stringify(dir)}]\nimport fabricks_provided\nfabricks_provided.preimport()\nfrom catalog import mcp\nmcp.run()\n`);

const cases = [
  ['fabricks run (FastMCP in the runtime)', [process.execPath, bin, 'run', '-q', dir]],
  ['official FastMCP, host CPython', [python, join(dir, 'server.py')]],
  ["fabricks' FastMCP, host CPython", [python, hostOurs]],
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (const [name, command] of cases) {
  const out = JSON.parse(execFileSync(python, [join(root, 'scripts', 'mcp_bench_client.py'), String(runs), String(calls), ...command], { env, maxBuffer: 1 << 24 }).toString());
  results.push({ name, runs, calls, firstToolResultMs: Math.round(median(out.map((r) => r.first_s)) * 1000), toolCallsPerSecond: Math.round(median(out.map((r) => r.calls_per_s))) });
}
console.log('server                                   first tool result   tool calls/s');
for (const r of results) console.log(`${r.name.padEnd(40)} ${String(r.firstToolResultMs).padStart(10)} ms ${String(r.toolCallsPerSecond).padStart(14)}`);
const json = JSON.stringify({ results }, null, 2);
console.log(json);
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'mcp-python.json'), json + '\n');
