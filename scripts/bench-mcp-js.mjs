#!/usr/bin/env node
// MCP benchmark for JavaScript (npm run bench:mcp-js [-- --smoke]): the stdio server of
// test/fixtures/mcp-stdio-js (official TypeScript SDK + zod), driven by the SDK's own client,
//   1. spawn to first tool result (initialize, tools/list, tools/call), median of BENCH_RUNS
//      (default 5),
//   2. tool-call round trips per second over one connection (BENCH_CALLS, default 200, at most
//      BENCH_SECONDS s, default 20),
//   3. one tool call whose request line (and answer) is BENCH_LINE_MIB (default 9) MiB long,
// under `fabricks run` (built and prepared first; a cold start is not part of it) and natively
// under node. Prints a table and JSON (bench-results/mcp-js.json).
import { cp, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { bin, fabricks, home, lockedNodeModules, median, report, root, row, scratchDir, setting } from './bench-lib.mjs';

const fixture = join(root, 'test', 'fixtures', 'mcp-stdio-js');
const runs = setting('BENCH_RUNS', 5, 1);
const calls = setting('BENCH_CALLS', 200, 10);
const seconds = setting('BENCH_SECONDS', 20, 5);
const lineMiB = setting('BENCH_LINE_MIB', 9, 1);
const env = { ...process.env, FABRICKS_HOME: home };

const dir = await scratchDir('fabricks-bench-mcp-');
for (const f of ['server.js', 'fabricks.toml', 'package.json']) await cp(join(fixture, f), join(dir, f));
await symlink(await lockedNodeModules(fixture, 'mcp-stdio-js'), join(dir, 'node_modules'));
const built = await fabricks(['build', dir, '--json', '-q']);
// run once (its module layer compiled), as a second run on the same machine finds it
await fabricks(['run', '-q', dir]);

async function measure(command, args) {
  const starts = [];
  let rate;
  let longLineMs;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command, args, env, stderr: 'ignore' }));
    try {
      await client.listTools();
      const r = await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
      if (r.content[0].text !== '3') throw new Error(`unexpected result ${JSON.stringify(r)}`);
      starts.push(performance.now() - t0);
      if (i === 0) {
        const t1 = performance.now();
        let n = 0;
        while (n < calls && performance.now() - t1 < seconds * 1000) await client.callTool({ name: 'add', arguments: { a: n++, b: 1 } });
        rate = n / ((performance.now() - t1) / 1000);
        const why = 'w'.repeat(lineMiB * 1024 * 1024);
        const t2 = performance.now();
        const long = await client.callTool({ name: 'fail', arguments: { why } }, undefined, { timeout: 600_000 });
        if (long.content[0].text.length !== 'failed: '.length + why.length) throw new Error('unexpected answer to the long line');
        longLineMs = performance.now() - t2;
      }
    } finally {
      await client.close();
    }
  }
  return { firstResultMs: median(starts), callsPerSecond: rate, longLineMs };
}

const rows = [
  row('mcp-stdio-js', 'fabricks', 'fabricks run', await measure(process.execPath, [bin, 'run', '-q', dir])),
  row('mcp-stdio-js', 'native', `node ${process.versions.node}`, await measure(process.execPath, [join(dir, 'server.js')])),
];
await report('mcp-js', rows, {
  columns: [['firstResultMs', 'spawn→first result ms'], ['callsPerSecond', 'tool calls/s'], ['longLineMs', `${lineMiB} MiB line ms`]],
  notes: [`module layer: ${built.json.module.size} bytes; ${runs} runs, up to ${calls} calls or ${seconds} s`],
  settings: { runs, calls, seconds, lineMiB },
  moduleLayerBytes: built.json.module.size,
});
