#!/usr/bin/env node
// MCP gateway benchmark (npm run bench:gateway [-- --smoke]): examples/mcp-weather-js and
// examples/mcp-weather-python behind one `fabricks mcp serve`, against each run alone under
// `fabricks run` and natively (node; the official MCP SDK on the host's Python), all driven over
// stdio by the TypeScript SDK's client, get_forecast calling a weather API served here on
// 127.0.0.1. Measures
//   1. spawn to first tool result (initialize, tools/list, tools/call), median of BENCH_RUNS
//      (default 5): through the gateway this waits for both servers, started concurrently,
//   2. tool calls per second over one connection (BENCH_CALLS calls, default 200, at most
//      BENCH_SECONDS seconds, default 20): what the extra hop costs a call.
// Prints a table and JSON (bench-results/gateway.json).
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { bin, copyProject, exec, fabricks, home, lockedNodeModules, median, report, root, row, scratchDir, setting, startWeatherApi, tools } from './bench-lib.mjs';

const runs = setting('BENCH_RUNS', 5, 1);
const calls = setting('BENCH_CALLS', 200, 5);
const seconds = setting('BENCH_SECONDS', 20, 5);
const KEY = 'bench-key';

const weather = await startWeatherApi(KEY);
const port = weather.port;
const env = { ...process.env, FABRICKS_HOME: home, WEATHER_API_URL: weather.url, WEATHER_API_KEY: KEY, PYTHONDONTWRITEBYTECODE: '1' };
const grants = ['--env', 'WEATHER_API_URL', '--env', 'WEATHER_API_KEY', '--allow-connect', `127.0.0.1:${port}`];

/** examples/<name> in a temporary folder, built and run once (as a second run on a machine finds it). */
async function prepare(name) {
  const dir = await copyProject(name, { rename: `${name}-gateway-bench` });
  if (name.endsWith('-js')) await symlink(await lockedNodeModules(join(root, 'examples', name), name), join(dir, 'node_modules'));
  await fabricks(['build', dir, '-q']);
  await fabricks(['run', '-q', dir, ...grants], { env });
  return dir;
}

async function measure(command, args, tool) {
  const starts = [];
  let rate;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command, args, env, stderr: 'ignore' }));
    try {
      await client.listTools();
      const first = await client.callTool({ name: tool, arguments: { latitude: 38.9, longitude: -77 } });
      if (!first.content?.[0]?.text?.includes('51°F')) throw new Error(`unexpected result from ${command} ${args.join(' ')}: ${JSON.stringify(first)}`);
      starts.push(performance.now() - t0);
      if (i === 0) {
        const t1 = performance.now();
        let n = 0;
        while (n < calls && performance.now() - t1 < seconds * 1000) {
          await client.callTool({ name: tool, arguments: { latitude: 38.9, longitude: -77 + n / 1000 } });
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
const config = join(await scratchDir('fabricks-bench-gateway-'), 'gateway.toml');
const server = (name, dir) => `[servers.${name}]\nref = ${JSON.stringify(dir)}\nenv = ["WEATHER_API_URL", "WEATHER_API_KEY"]\nallow-connect = ["127.0.0.1:${port}"]\n`;
await writeFile(config, `${server('js', js)}\n${server('py', py)}`);
const gateway = [bin, 'mcp', 'serve', '-q', '--config', config];
const hostPython = (await exec(tools.mcpPython, ['-c', 'import sys; print(sys.version.split()[0])'])).stdout.trim();

const rows = [
  row('mcp-weather-js', 'fabricks', 'fabricks mcp serve (js + py)', await measure(process.execPath, gateway, 'js__get_forecast')),
  row('mcp-weather-js', 'alone', 'fabricks run', await measure(process.execPath, [bin, 'run', '-q', js, ...grants], 'get_forecast')),
  row('mcp-weather-js', 'native', `node ${process.versions.node}`, await measure(process.execPath, [join(js, 'weather.js')], 'get_forecast')),
  row('mcp-weather-python', 'fabricks', 'fabricks mcp serve (js + py)', await measure(process.execPath, gateway, 'py__get_forecast')),
  row('mcp-weather-python', 'alone', 'fabricks run', await measure(process.execPath, [bin, 'run', '-q', py, ...grants], 'get_forecast')),
  row('mcp-weather-python', 'native', `python ${hostPython} (official mcp 1.30.0)`, await measure(tools.mcpPython, [join(py, 'weather.py')], 'get_forecast')),
];
weather.server.close();
await report('gateway', rows, {
  columns: [['firstResultMs', 'spawn→first result ms'], ['callsPerSecond', 'tool calls/s']],
  notes: [`the gateway starts both servers at once and lists tools when both are up; ${runs} runs, up to ${calls} calls or ${seconds} s; ${weather.calls()} API requests`],
  settings: { runs, calls, seconds },
  hostPython,
});
