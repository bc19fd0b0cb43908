#!/usr/bin/env node
// MCP benchmark (npm run bench:mcp [-- --smoke]): examples/mcp-weather-js (official TypeScript
// SDK) and examples/mcp-weather-python (the quickstart's FastMCP server, httpx), driven over
// stdio by the TypeScript SDK's client, their get_forecast tool calling a weather API served
// here on 127.0.0.1 (two HTTP requests per call), measuring
//   1. spawn to first tool result (initialize, tools/list, tools/call), median of BENCH_RUNS
//      (default 5),
//   2. tool-call round trips per second over one connection (BENCH_CALLS calls, default 200, at
//      most BENCH_SECONDS seconds, default 20),
// under `fabricks run` (built and prepared first: warm) and natively: node for the JavaScript
// one, the official MCP SDK's FastMCP on the host's Python (the tools venv scripts/install-tools
// makes) for the Python one, same source. Prints a table and JSON (bench-results/mcp.json).
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { bin, copyProject, exec, fabricks, home, lockedNodeModules, median, report, root, row, setting, startWeatherApi, tools } from './bench-lib.mjs';

const runs = setting('BENCH_RUNS', 5, 1);
const calls = setting('BENCH_CALLS', 200, 5);
const seconds = setting('BENCH_SECONDS', 20, 5);
const KEY = 'bench-key';

// The weather API, with api.weather.gov's paths.
const weather = await startWeatherApi(KEY);
const api = weather.server;
const apiUrl = `http://127.0.0.1:${api.address().port}`;
const env = { ...process.env, FABRICKS_HOME: home, WEATHER_API_URL: apiUrl, WEATHER_API_KEY: KEY, PYTHONDONTWRITEBYTECODE: '1' };
const grants = ['--env', 'WEATHER_API_URL', '--env', 'WEATHER_API_KEY', '--allow-connect', `127.0.0.1:${api.address().port}`];

/** examples/<name> in a temporary folder (the JavaScript one with its locked node_modules), built and run once. */
async function prepare(name) {
  const dir = await copyProject(name);
  if (name.endsWith('-js')) await symlink(await lockedNodeModules(join(root, 'examples', name), name), join(dir, 'node_modules'));
  const built = await fabricks(['build', dir, '--json', '-q']);
  // run once (its module layer compiled), as a second run on the same machine finds it
  await fabricks(['run', '-q', dir, ...grants], { env });
  return { dir, moduleLayer: built.json.module.size };
}

async function measure(command, args) {
  const starts = [];
  let rate;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command, args, env, stderr: 'ignore' }));
    try {
      await client.listTools();
      const first = await client.callTool({ name: 'get_forecast', arguments: { latitude: 38.9, longitude: -77 } });
      if (!first.content?.[0]?.text?.includes('51°F')) throw new Error(`unexpected result from ${command} ${args.join(' ')}: ${JSON.stringify(first)}`);
      starts.push(performance.now() - t0);
      if (i === 0) {
        const t1 = performance.now();
        let n = 0;
        while (n < calls && performance.now() - t1 < seconds * 1000) {
          await client.callTool({ name: 'get_forecast', arguments: { latitude: 38.9, longitude: -77 + n / 1000 } });
          n++;
        }
        rate = n / ((performance.now() - t1) / 1000);
      }
    } finally {
      await client.close();
    }
  }
  return { firstResultMs: median(starts), callsPerSecond: rate };
}

const js = await prepare('mcp-weather-js');
const py = await prepare('mcp-weather-python');
const hostPython = (await exec(tools.mcpPython, ['-c', 'import sys; print(sys.version.split()[0])'])).stdout.trim();
const rows = [
  row('mcp-weather-js', 'fabricks', 'fabricks run', await measure(process.execPath, [bin, 'run', '-q', js.dir, ...grants])),
  row('mcp-weather-js', 'native', `node ${process.versions.node}`, await measure(process.execPath, [join(js.dir, 'weather.js')])),
  row('mcp-weather-python', 'fabricks', 'fabricks run', await measure(process.execPath, [bin, 'run', '-q', py.dir, ...grants])),
  row('mcp-weather-python', 'native', `python ${hostPython} (official mcp 1.30.0)`, await measure(tools.mcpPython, [join(py.dir, 'weather.py')])),
];
api.close();
await report('mcp', rows, {
  columns: [['firstResultMs', 'spawn→first result ms'], ['callsPerSecond', 'tool calls/s']],
  notes: [`module layers: mcp-weather-js ${js.moduleLayer} bytes, mcp-weather-python ${py.moduleLayer} bytes; ${runs} runs, up to ${calls} calls or ${seconds} s; ${weather.calls()} API requests`],
  settings: { runs, calls, seconds },
  moduleLayers: { js: js.moduleLayer, python: py.moduleLayer },
  hostPython,
});
