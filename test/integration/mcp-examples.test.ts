import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { stdioClient, textOf } from '../mcp-client.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { copyExample, fabricks, repoRoot } from '../helpers.js';
import { exampleNodeModules } from '../example-deps.js';
import { mcpPythonJson } from '../mcp-tools.js';
import { freePort, startRegistry, type RegistryServer } from '../registry-servers.js';
import { startWeatherApi, type WeatherApi } from '../weather-api.js';

/**
 * examples/mcp-weather-js (official TypeScript SDK) and examples/mcp-weather-python (the MCP
 * quickstart's FastMCP server, httpx) under `fabricks run`, driven by the official clients over
 * stdio and Streamable HTTP. Their tools reach a weather API with api.weather.gov's paths served
 * here on loopback, granted for the run with --allow-connect, with the key passed by --env.
 */
const bin = join(repoRoot, 'bin', 'fabricks.js');
const KEY = 'test-key-5f1c';

const examples = [
  { name: 'mcp-weather-js', alertsText: 'No active alerts for CA', httpEnv: ['--env', 'MCP_TRANSPORT=http'] },
  { name: 'mcp-weather-python', alertsText: 'No active alerts for this state.', httpEnv: [] },
] as const;

let api: WeatherApi;
const dirs: Record<string, string> = {};

beforeAll(async () => {
  api = await startWeatherApi();
  for (const e of examples) {
    // renamed: name:version tags are shared in the suite's store
    const dir = await copyExample(e.name, `${e.name}-test`);
    if (e.name === 'mcp-weather-js') await symlink(await exampleNodeModules(e.name), join(dir, 'node_modules'));
    const built = await fabricks(['build', '-q', dir]);
    expect(built.status, built.stderr).toBe(0);
    dirs[e.name] = dir;
  }
});

afterAll(() => {
  api?.server.close();
});

const grants = (allowConnect = true) => ['--env', `WEATHER_API_URL=${api.url}`, '--env', `WEATHER_API_KEY=${KEY}`, ...(allowConnect ? ['--allow-connect', `127.0.0.1:${api.port}`] : [])];


/** What every example answers, whatever the transport. */
async function exercise(client: Client, alertsText: string): Promise<void> {
  expect(client.getServerVersion()?.name).toBe('weather');
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(['get_alerts', 'get_forecast']);
  const forecastTool = tools.find((t) => t.name === 'get_forecast')!;
  expect(forecastTool.inputSchema).toMatchObject({ type: 'object', properties: { latitude: { type: 'number' }, longitude: { type: 'number' } }, required: ['latitude', 'longitude'] });

  const before = api.seen.length;
  const forecast = await client.callTool({ name: 'get_forecast', arguments: { latitude: 38.9, longitude: -77.0 } });
  expect(forecast.isError ?? false).toBe(false);
  expect(textOf(forecast)).toContain('Temperature: 51°F');
  const calls = api.seen.slice(before);
  expect(calls.map((c) => c.path)).toEqual([expect.stringMatching(/^\/points\/38\.9(0*),-77(\.0*)?$/), '/gridpoints/LWX/97,71/forecast']);
  expect(calls.map((c) => c.key)).toEqual([KEY, KEY]);

  const alerts = await client.callTool({ name: 'get_alerts', arguments: { state: 'CA' } });
  expect(textOf(alerts)).toContain(alertsText);

  const bad = await client.callTool({ name: 'get_forecast', arguments: { latitude: 'north', longitude: 0 } });
  expect(bad.isError).toBe(true);
  expect(textOf(bad)).toMatch(/latitude/);

  const resource = await client.readResource({ uri: 'weather://states' });
  expect(resource.contents).toHaveLength(1);
  expect(resource.contents[0]!.mimeType).toBe('application/json');
  expect(JSON.parse(String((resource.contents[0] as { text: string }).text))).toMatchObject({ CA: 'California', NY: 'New York' });

  const { prompts } = await client.listPrompts();
  expect(prompts.map((p) => p.name)).toEqual(['weather_report']);
  const prompt = await client.getPrompt({ name: 'weather_report', arguments: { location: 'Boston' } });
  expect(prompt.messages).toHaveLength(1);
  expect(prompt.messages[0]!.role).toBe('user');
  expect((prompt.messages[0]!.content as { text: string }).text).toContain('Get the forecast for Boston');
}

/** `fabricks run <dir> --allow-listen <port> ...` in a child process, resolved once it serves. */
async function serve(dir: string, args: string[]): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'run', dir, '--allow-listen', String(port), ...args], {
    env: { ...process.env, FABRICKS_HOME: inject('fabricksHome') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout!.resume();
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', () => err.includes(`on http://127.0.0.1:${port}`) && resolve());
    child.once('exit', (code) => reject(new Error(`fabricks run ended (status ${code}): ${err}`)));
  });
  return { url: `http://127.0.0.1:${port}/mcp`, child, stderr: () => err };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}

describe.each(examples)('examples/$name', (e) => {
  it('over stdio, with the TypeScript SDK client: tools reach the granted API with the key, a resource, a prompt, a tool error', async () => {
    const { client } = await stdioClient(['run', '-q', dirs[e.name]!, ...grants()]);
    try {
      await exercise(client, e.alertsText);
    } finally {
      await client.close();
    }
  });

  it('a tool denied the API host answers with a tool error naming [capabilities.network] connect', async () => {
    const { client } = await stdioClient(['run', '-q', dirs[e.name]!, ...grants(false)]);
    try {
      const before = api.seen.length;
      const denied = await client.callTool({ name: 'get_forecast', arguments: { latitude: 38.9, longitude: -77.0 } });
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toContain(`network access to 127.0.0.1:${api.port} is not granted`);
      expect(textOf(denied)).toContain('[capabilities.network] connect');
      expect(api.seen.length).toBe(before);
    } finally {
      await client.close();
    }
  });

  it('over stdio, with the Python SDK client', async () => {
    const out = await mcpPythonJson('mcp_client.py', ['weather', 'stdio', process.execPath, bin, 'run', '-q', dirs[e.name]!, ...grants()], { FABRICKS_HOME: inject('fabricksHome') });
    expect(out.initialize.serverInfo.name).toBe('weather');
    expect(out.tools.sort()).toEqual(['get_alerts', 'get_forecast']);
    expect(out.forecast.isError).toBe(false);
    expect(out.forecast.content[0].text).toContain('Temperature: 51°F');
    expect(out.alerts.content[0].text).toContain(e.alertsText);
    expect(out.bad.isError).toBe(true);
    expect(JSON.parse(out.resource.contents[0].text)).toMatchObject({ CA: 'California' });
    expect(out.prompt.messages[0].content.text).toContain('Get the forecast for Boston');
    expect(api.seen.at(-1)!.key).toBe(KEY);
  });

  it('over Streamable HTTP through fabricks run --allow-listen, with the TypeScript SDK client', async () => {
    const served = await serve(dirs[e.name]!, [...grants(), ...e.httpEnv]);
    const client = new Client({ name: 'fabricks-test', version: '1.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(served.url)));
      await exercise(client, e.alertsText);
    } finally {
      await client.close().catch(() => undefined);
      await stop(served.child);
    }
    expect(served.stderr()).toMatch(/POST \/mcp 200/);
  });
});

describe('fabricks run <registry reference> as the command an MCP client starts', () => {
  let registry: RegistryServer;
  let home: string;
  let ref: string;

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    ref = `${registry.host}/examples/mcp-weather-js:0.1.0`;
    const pushed = await fabricks(['push', '-q', '--plain-http', dirs['mcp-weather-js']!, ref]);
    expect(pushed.status, pushed.stderr).toBe(0);
    home = await mkdtemp(join(tmpdir(), 'fabricks-mcp-client-home-'));
  });

  afterAll(async () => {
    await registry?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('pulls on first run with nothing but protocol messages on stdout, progress on stderr', async () => {
    const requests = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_forecast', arguments: { latitude: 1, longitude: 2 } } },
    ];
    // stdin stays open until both answers are out, as a client keeps it
    const child = spawn(process.execPath, [bin, 'run', '--plain-http', ref, ...grants()], { env: { ...process.env, FABRICKS_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    const r = { status: null as number | null, stdout: '', stderr: '' };
    child.stderr!.on('data', (d: Buffer) => (r.stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      r.stdout += d.toString();
      if (r.stdout.split('\n').filter((l) => l !== '').length >= 2) child.stdin!.end();
    });
    child.stdin!.write(requests.map((m) => JSON.stringify(m)).join('\n') + '\n');
    r.status = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    const replies = lines.map((l) => JSON.parse(l) as { jsonrpc: string; id: number; result: unknown });
    expect(replies.map((m) => [m.jsonrpc, m.id])).toEqual([['2.0', 1], ['2.0', 2]]);
    expect(textOf(replies[1]!.result)).toContain('Temperature: 51°F');
    // the pull and the first run's preparation were reported, on stderr
    expect(r.stderr).toMatch(/pull/i);
    expect(r.stderr).toMatch(/widened: connect 127\.0\.0\.1:/);
  });

  it('serves the TypeScript SDK client from the pulled artifact', async () => {
    const { client, stderr } = await stdioClient(['run', '--plain-http', ref, ...grants()], { FABRICKS_HOME: home });
    try {
      await exercise(client, 'No active alerts for CA');
    } finally {
      await client.close();
    }
    expect(stderr()).not.toContain('{"jsonrpc"');
  });
});
