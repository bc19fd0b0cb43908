#!/usr/bin/env node
// FastMCP benchmark (npm run bench:mcp-python [-- --smoke]; BENCH_RUNS=N, default 5, BENCH_CALLS,
// default 200, at most BENCH_SECONDS s, default 20): the test fixture server
// (test/fixtures/mcp-python, seven tools) driven over stdio by the official Python SDK's client
// (scripts/mcp_bench_client.py), three ways: fabricks' FastMCP in the runtime under
// `fabricks run`, natively the official SDK's FastMCP (mcp 1.30.0) on the host's Python, and
// fabricks' FastMCP on the host's Python. Spawn to first tool result (median) and tool calls per
// second (median). Prints a table and JSON (bench-results/mcp-python.json). Needs `npm run setup`
// (the mcp venv).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bin, copyProject, exec, fabricks, home, median, report, root, row, setting, tools } from './bench-lib.mjs';

const runs = setting('BENCH_RUNS', 5, 1);
const calls = setting('BENCH_CALLS', 200, 10);
const seconds = setting('BENCH_SECONDS', 20, 5);
const python = tools.mcpPython;
const env = { FABRICKS_HOME: home, PYTHONDONTWRITEBYTECODE: '1' };

const dir = await copyProject(join(root, 'test', 'fixtures', 'mcp-python'), { name: 'mcp-python' });
await fabricks(['build', '-q', dir]);
// run once (its module layer compiled), as a second run on the same machine finds it
await fabricks(['run', '-q', dir]);
const hostOurs = join(dir, 'host_fabricks_fastmcp.py');
await writeFile(hostOurs, `import sys\nsys.path[:0] = [${JSON.stringify(join(root, 'guest', 'python'))}, ${JSON.stringify(dir)}]\nimport fabricks_provided\nfabricks_provided.preimport()\nfrom catalog import mcp\nmcp.run()\n`);

const cases = [
  ['fabricks', 'fabricks run (FastMCP in the runtime)', [process.execPath, bin, 'run', '-q', dir]],
  ['native', 'official FastMCP, host CPython', [python, join(dir, 'server.py')]],
  ['host-python', "fabricks' FastMCP, host CPython", [python, hostOurs]],
];
const rows = [];
for (const [side, name, command] of cases) {
  const out = JSON.parse((await exec(python, [join(root, 'scripts', 'mcp_bench_client.py'), String(runs), String(calls), String(seconds), ...command], { env })).stdout);
  rows.push(row('mcp-python fixture', side, name, { firstResultMs: median(out.map((r) => r.first_s)) * 1000, callsPerSecond: median(out.map((r) => r.calls_per_s)) }, { runs }));
}
await report('mcp-python', rows, {
  columns: [['firstResultMs', 'first tool result ms'], ['callsPerSecond', 'tool calls/s']],
  notes: [`${runs} runs, up to ${calls} calls or ${seconds} s each`],
  settings: { runs, calls, seconds },
});
