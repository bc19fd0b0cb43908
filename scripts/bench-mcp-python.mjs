#!/usr/bin/env node
// FastMCP benchmark (npm run bench:mcp-python [-- --smoke]; BENCH_RUNS=N, default 5, BENCH_CALLS,
// default 200, at most BENCH_SECONDS s, default 20): the test fixture server
// (test/fixtures/mcp-python, seven tools) driven over stdio by the official Python SDK's client
// (scripts/mcp_bench_client.py), four ways: fabricks' FastMCP in the runtime under
// `fabricks run`, the official SDK's FastMCP (mcp 1.30.0 from requirements.txt, pydantic-core
// and rpds-py built for WebAssembly) in the runtime under `fabricks run`, natively the official
// SDK's FastMCP on the host's Python, and fabricks' FastMCP on the host's Python. Spawn to first
// tool result (median), tool calls per second (median), and for the two under fabricks the runtime
// and module layers' sizes. Prints a table and JSON (bench-results/mcp-python.json). Needs `npm
// run setup` (the mcp venv); the official SDK's native wheels come from FABRICKS_NATIVE_CACHE
// when it holds them (else about six minutes of Rust builds first).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bin, copyProject, exec, fabricks, home, median, report, root, row, setting, tools } from './bench-lib.mjs';

const runs = setting('BENCH_RUNS', 5, 1);
const calls = setting('BENCH_CALLS', 200, 10);
const seconds = setting('BENCH_SECONDS', 20, 5);
const python = tools.mcpPython;
const env = { FABRICKS_HOME: home, PYTHONDONTWRITEBYTECODE: '1' };

const dir = await copyProject(join(root, 'test', 'fixtures', 'mcp-python'), { name: 'mcp-python' });
const official = await copyProject(join(root, 'test', 'fixtures', 'mcp-python'), { name: 'mcp-python-official' });
await writeFile(join(official, 'requirements.txt'), 'mcp==1.30.0\n');
const sizes = {};
for (const [side, project] of [['fabricks', dir], ['fabricks-official', official]]) {
  const built = JSON.parse((await fabricks(['build', '--json', project])).stdout);
  sizes[side] = { runtimeMB: built.runtime.size / 1e6, moduleKB: built.module.size / 1e3 };
  // run once (its module layer compiled), as a second run on the same machine finds it
  await fabricks(['run', '-q', project], { input: '' });
}
const hostOurs = join(dir, 'host_fabricks_fastmcp.py');
await writeFile(hostOurs, `import sys\nsys.path[:0] = [${JSON.stringify(join(root, 'guest', 'python'))}, ${JSON.stringify(dir)}]\nimport fabricks_provided\nfabricks_provided.preimport()\nfrom catalog import mcp\nmcp.run()\n`);

const cases = [
  ['fabricks', "fabricks run (fabricks' FastMCP in the runtime)", [process.execPath, bin, 'run', '-q', dir]],
  ['fabricks-official', "fabricks run (the official SDK's FastMCP, mcp 1.30.0)", [process.execPath, bin, 'run', '-q', official]],
  ['native', 'official FastMCP, host CPython', [python, join(dir, 'server.py')]],
  ['host-python', "fabricks' FastMCP, host CPython", [python, hostOurs]],
];
const rows = [];
for (const [side, name, command] of cases) {
  const out = JSON.parse((await exec(python, [join(root, 'scripts', 'mcp_bench_client.py'), String(runs), String(calls), String(seconds), ...command], { env })).stdout);
  rows.push(row('mcp-python fixture', side, name, { firstResultMs: median(out.map((r) => r.first_s)) * 1000, callsPerSecond: median(out.map((r) => r.calls_per_s)), ...sizes[side] }, { runs }));
}
await report('mcp-python', rows, {
  columns: [['firstResultMs', 'first tool result ms'], ['callsPerSecond', 'tool calls/s'], ['runtimeMB', 'runtime layer MB'], ['moduleKB', 'module layer KB']],
  notes: [`${runs} runs, up to ${calls} calls or ${seconds} s each`],
  settings: { runs, calls, seconds },
});
