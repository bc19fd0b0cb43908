#!/usr/bin/env node
// MCP benchmark (npm run bench:mcp): examples/mcp-weather-js (official TypeScript SDK) and
// examples/mcp-weather-python (the quickstart's FastMCP server, httpx), driven over stdio by the
// TypeScript SDK's client, their get_forecast tool calling a weather API served here on 127.0.0.1
// (two HTTP requests per call), measuring
//   1. spawn to first tool result (initialize, tools/list, tools/call), median of BENCH_RUNS,
//   2. tool-call round trips per second over one connection (BENCH_CALLS calls, at most
//      BENCH_SECONDS seconds),
// under `fabricks run` (built and prepared first: warm) and natively: node for the JavaScript
// one, the official MCP SDK's FastMCP on the host's Python (the tools venv scripts/install-tools
// makes) for the Python one, same source. Prints a table and JSON (bench-results/mcp.json).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, cp, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'fabricks.js');
const runs = Number(process.env.BENCH_RUNS ?? 5);
const calls = Number(process.env.BENCH_CALLS ?? 200);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const home = process.env.FABRICKS_HOME ?? join(tmpdir(), 'fabricks-bench-home');
const toolsDir = process.env.FABRICKS_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fabricks-tools');
const hostPython = join(toolsDir, 'mcp-py-1.30.0', 'bin', 'python');
const KEY = 'bench-key';

// The weather API, with api.weather.gov's paths.
let apiCalls = 0;
const api = createServer((req, res) => {
  apiCalls++;
  if (req.headers['x-api-key'] !== KEY) {
    res.statusCode = 401;
    return res.end('{}');
  }
  const base = `http://127.0.0.1:${api.address().port}`;
  res.setHeader('content-type', 'application/geo+json');
  if (req.url.startsWith('/points/')) return res.end(JSON.stringify({ properties: { forecast: `${base}/gridpoints/LWX/97,71/forecast` } }));
  const period = { name: 'Tonight', temperature: 51, temperatureUnit: 'F', windSpeed: '5 mph', windDirection: 'SW', shortForecast: 'Clear', detailedForecast: 'Clear skies.' };
  res.end(JSON.stringify({ properties: { periods: [period] } }));
});
await new Promise((r) => api.listen(0, '127.0.0.1', r));
const apiUrl = `http://127.0.0.1:${api.address().port}`;
const env = { ...process.env, FABRICKS_HOME: home, WEATHER_API_URL: apiUrl, WEATHER_API_KEY: KEY, PYTHONDONTWRITEBYTECODE: '1' };
const grants = ['--env', 'WEATHER_API_URL', '--env', 'WEATHER_API_KEY', '--allow-connect', `127.0.0.1:${api.address().port}`];

/** examples/<name> in a temporary folder; the JavaScript one with its locked node_modules (the tests' npm cache). */
async function copy(name) {
  const dir = join(await mkdtemp(join(tmpdir(), 'fabricks-bench-mcp-')), name);
  await cp(join(root, 'examples', name), dir, { recursive: true, filter: (s) => !s.includes('.fabricks') && !s.endsWith('fabricks.lock') && !s.includes('__pycache__') });
  if (name.endsWith('-js')) {
    const lock = await readFile(join(dir, 'package-lock.json'));
    const cache = join(tmpdir(), 'fabricks-test-npm', `${name}-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`);
    const modules = join(cache, 'node_modules');
    if (!(await access(join(modules, '.package-lock.json')).then(() => true, () => false))) {
      const work = await mkdtemp(join(tmpdir(), 'fabricks-bench-npm-'));
      await cp(join(dir, 'package.json'), join(work, 'package.json'));
      await cp(join(dir, 'package-lock.json'), join(work, 'package-lock.json'));
      execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: work, stdio: 'inherit' });
      await mkdir(cache, { recursive: true });
      await rename(join(work, 'node_modules'), modules).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
    await symlink(modules, join(dir, 'node_modules'));
  }
  const built = spawnSync(process.execPath, [bin, 'build', dir, '--json', '-q'], { env, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`fabricks build ${name} failed:\n${built.stderr}`);
  // prepared once (the runtime compiled for wasmtime), as a second run on the same machine finds it
  spawnSync(process.execPath, [bin, 'run', '-q', dir, ...grants], { env, input: '' });
  return { dir, moduleLayer: JSON.parse(built.stdout).module?.size };
}

async function measure(command, args) {
  const starts = [];
  let rate;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command, args, env, stderr: 'ignore' }));
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
    await client.close();
  }
  return { firstResultMs: Math.round(starts.sort((a, b) => a - b)[Math.floor(runs / 2)]), callsPerSecond: Math.round(rate * 10) / 10 };
}

const js = await copy('mcp-weather-js');
const py = await copy('mcp-weather-python');
const results = [
  { server: 'mcp-weather-js', runner: 'fabricks run', ...(await measure(process.execPath, [bin, 'run', '-q', js.dir, ...grants])) },
  { server: 'mcp-weather-js', runner: `node ${process.versions.node}`, ...(await measure(process.execPath, [join(js.dir, 'weather.js')])) },
  { server: 'mcp-weather-python', runner: 'fabricks run', ...(await measure(process.execPath, [bin, 'run', '-q', py.dir, ...grants])) },
  { server: 'mcp-weather-python', runner: 'python (official mcp 1.30.0)', ...(await measure(hostPython, [join(py.dir, 'weather.py')])) },
];
api.close();
const hostPy = spawnSync(hostPython, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).stdout.trim();
console.log(`module layers: mcp-weather-js ${js.moduleLayer} bytes, mcp-weather-python ${py.moduleLayer} bytes; host Python ${hostPy}; ${runs} runs, up to ${calls} calls or ${seconds} s; ${apiCalls} API requests`);
console.log('server              runner                         spawn→first result   tool calls/s');
for (const r of results) console.log(`${r.server.padEnd(20)}${r.runner.padEnd(31)}${`${r.firstResultMs} ms`.padStart(19)}${String(r.callsPerSecond).padStart(15)}`);
const json = { moduleLayers: { js: js.moduleLayer, python: py.moduleLayer }, hostPython: hostPy, node: process.versions.node, runs, calls, seconds, results };
console.log(JSON.stringify(json));
await mkdir(join(root, 'bench-results'), { recursive: true });
await writeFile(join(root, 'bench-results', 'mcp.json'), JSON.stringify(json, null, 2) + '\n');
