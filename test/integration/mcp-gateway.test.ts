import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { copyExample, fabricks, repoRoot } from '../helpers.js';
import { exampleNodeModules } from '../example-deps.js';
import { startWeatherApi, type WeatherApi } from '../weather-api.js';

/**
 * `fabricks mcp serve`: examples/mcp-weather-js (official TypeScript SDK) and
 * examples/mcp-weather-python (FastMCP) behind one gateway, each in its own `fabricks run` with
 * its own grants from a gateway.toml, driven by the official TypeScript client over stdio and
 * Streamable HTTP. Both servers are called "weather" and offer the same tool names, so only the
 * prefixes tell them apart; their answers differ in wording ("No active alerts for CA" from the
 * JavaScript one, "No active alerts for this state." from the Python one).
 */
const bin = join(repoRoot, 'bin', 'fabricks.js');
const KEY = 'gateway-key-9d2e';

let api: WeatherApi;
let work: string;
let config: string;
const dirs: Record<string, string> = {};

beforeAll(async () => {
  api = await startWeatherApi();
  for (const name of ['mcp-weather-js', 'mcp-weather-python']) {
    const dir = await copyExample(name, `${name}-gateway`);
    if (name === 'mcp-weather-js') await symlink(await exampleNodeModules(name), join(dir, 'node_modules'));
    const built = await fabricks(['build', '-q', dir]);
    expect(built.status, built.stderr).toBe(0);
    dirs[name] = dir;
  }
  work = await mkdtemp(join(tmpdir(), 'fabricks-gateway-test-'));
  config = join(work, 'gateway.toml');
  const server = (name: string, dir: string) =>
    [`[servers.${name}]`, `ref = ${JSON.stringify(dir)}`, `env = ["WEATHER_API_URL=${api.url}", "WEATHER_API_KEY=${KEY}"]`, `allow-connect = ["127.0.0.1:${api.port}"]`].join('\n');
  await writeFile(config, `${server('js', dirs['mcp-weather-js']!)}\n\n${server('py', dirs['mcp-weather-python']!)}\n`);
});

afterAll(() => {
  api?.server.close();
});

interface Gateway {
  client: Client;
  stderr: () => string;
  /** The gateway's progress events about its servers (--progress json). */
  events: () => Array<{ event: string; server?: string; state?: string; pid?: number; tools?: number; detail?: string; url?: string }>;
}

async function stdioGateway(args: string[]): Promise<Gateway> {
  const client = new Client({ name: 'fabricks-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, 'mcp', 'serve', '--progress', 'json', ...args],
    env: { ...(process.env as Record<string, string>), FABRICKS_HOME: inject('fabricksHome') },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await client.connect(transport);
  return { client, stderr: () => stderr, events: () => eventsOf(stderr) };
}

const eventsOf = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{"event":"mcp-'))
    .map((l) => JSON.parse(l) as ReturnType<Gateway['events']>[number]);

const textOf = (result: unknown): string => ((result as { content: Array<{ type: string; text?: string }> }).content ?? []).map((c) => c.text ?? '').join('');

const forecastArgs = { latitude: 38.9, longitude: -77.0 };

/** Waits (bounded) until `check` holds. */
async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function auditLines(file: string): Promise<Array<Record<string, unknown>>> {
  return (await readFile(file, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('fabricks mcp serve over stdio', () => {
  it('offers both servers\' tools, prompts and resources under prefixed names, routes each call to its server, and logs every call', async () => {
    const audit = join(work, 'calls.jsonl');
    const g = await stdioGateway(['--config', config, '--audit', audit]);
    try {
      expect(g.client.getServerVersion()?.name).toBe('fabricks-mcp-gateway');
      const { tools } = await g.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['js__get_alerts', 'js__get_forecast', 'py__get_alerts', 'py__get_forecast']);
      expect(tools.find((t) => t.name === 'py__get_forecast')!.inputSchema).toMatchObject({ type: 'object', required: ['latitude', 'longitude'] });

      const before = api.seen.length;
      for (const server of ['js', 'py']) {
        const forecast = await g.client.callTool({ name: `${server}__get_forecast`, arguments: forecastArgs });
        expect(forecast.isError ?? false, textOf(forecast)).toBe(false);
        expect(textOf(forecast)).toContain('Temperature: 51°F');
      }
      // each server reached the API with the key its own grants gave it
      expect(api.seen.slice(before).map((c) => c.key)).toEqual([KEY, KEY, KEY, KEY]);
      expect(textOf(await g.client.callTool({ name: 'js__get_alerts', arguments: { state: 'CA' } }))).toContain('No active alerts for CA');
      expect(textOf(await g.client.callTool({ name: 'py__get_alerts', arguments: { state: 'CA' } }))).toContain('No active alerts for this state.');

      // a server's tool error comes back as it is
      const bad = await g.client.callTool({ name: 'js__get_forecast', arguments: { latitude: 'north', longitude: 0 } });
      expect(bad.isError).toBe(true);
      expect(textOf(bad)).toMatch(/latitude/);
      // a name no server has is refused, naming the servers there are
      await expect(g.client.callTool({ name: 'rb__get_forecast', arguments: forecastArgs })).rejects.toThrow(/unknown tool "rb__get_forecast".*servers are js, py/);

      const { prompts } = await g.client.listPrompts();
      expect(prompts.map((p) => p.name).sort()).toEqual(['js__weather_report', 'py__weather_report']);
      const prompt = await g.client.getPrompt({ name: 'py__weather_report', arguments: { location: 'Boston' } });
      expect((prompt.messages[0]!.content as { text: string }).text).toContain('Get the forecast for Boston');
      // a server's error answer comes back with its code and message as the server sent them
      // (the SDK's McpServer writes "MCP error -32602: " into the message itself; the client adds it again)
      await expect(g.client.getPrompt({ name: 'js__weather_report', arguments: {} })).rejects.toThrow(/^MCP error -32602: MCP error -32602: Invalid arguments for prompt weather_report/);

      // resources keep their URIs; one both list is offered once, from the first server
      const { resources } = await g.client.listResources();
      expect(resources.map((r) => r.uri)).toEqual(['weather://states']);
      const states = await g.client.readResource({ uri: 'weather://states' });
      expect(JSON.parse(String((states.contents[0] as { text: string }).text))).toMatchObject({ CA: 'California' });
      await expect(g.client.readResource({ uri: 'weather://nowhere' })).rejects.toThrow(/no server behind this gateway lists the resource weather:\/\/nowhere/);

      const started = g.events().filter((e) => e.event === 'mcp-server' && e.state === 'started');
      expect(started.map((e) => e.server).sort()).toEqual(['js', 'py']);
      expect(started.every((e) => e.tools === 2 && typeof e.pid === 'number')).toBe(true);
    } finally {
      await g.client.close();
    }
    const lines = await auditLines(audit);
    expect(lines.map((l) => [l.server, l.tool, l.outcome])).toEqual([
      ['js', 'get_forecast', 'ok'],
      ['py', 'get_forecast', 'ok'],
      ['js', 'get_alerts', 'ok'],
      ['py', 'get_alerts', 'ok'],
      ['js', 'get_forecast', 'error'],
      ['rb', 'get_forecast', 'error'],
    ]);
    for (const l of lines) {
      expect(Date.parse(l.time as string)).toBeGreaterThan(Date.now() - 600_000);
      expect(typeof l.duration_ms).toBe('number');
      expect(l).not.toHaveProperty('arguments');
    }
  });

  it('offers and lets through only the tools --allow-tool and --deny-tool leave, and logs refusals with their arguments', async () => {
    const audit = join(work, 'filtered.jsonl');
    const g = await stdioGateway(['--config', config, '--allow-tool', '*__get_forecast', '--allow-tool', 'py__*', '--deny-tool', 'py__get_forecast', '--audit', audit, '--audit-arguments']);
    try {
      const { tools } = await g.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['js__get_forecast', 'py__get_alerts']);
      await expect(g.client.callTool({ name: 'py__get_forecast', arguments: forecastArgs })).rejects.toThrow(/tool "py__get_forecast" is not offered by this gateway \(.*--deny-tool py__get_forecast\)/);
      await expect(g.client.callTool({ name: 'js__get_alerts', arguments: { state: 'CA' } })).rejects.toThrow(/not offered/);
      expect(textOf(await g.client.callTool({ name: 'py__get_alerts', arguments: { state: 'NY' } }))).toContain('No active alerts');
    } finally {
      await g.client.close();
    }
    expect((await auditLines(audit)).map((l) => [l.server, l.tool, l.outcome, l.arguments])).toEqual([
      ['py', 'get_forecast', 'refused', forecastArgs],
      ['js', 'get_alerts', 'refused', { state: 'CA' }],
      ['py', 'get_alerts', 'ok', { state: 'NY' }],
    ]);
  });

  it('starts a server that was killed again on its next call, 3 times a minute at most; one that cannot start is reported and left out, its calls answered with its name', async () => {
    const g = await stdioGateway(['--config', config, '--server', 'broken=no-such-server:0.0.0']);
    const notified: string[] = [];
    g.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void notified.push('tools'));
    try {
      const { tools } = await g.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['js__get_alerts', 'js__get_forecast', 'py__get_alerts', 'py__get_forecast']);
      const failed = g.events().find((e) => e.server === 'broken' && e.state === 'failed');
      expect(failed?.detail, g.stderr()).toBeDefined();
      // the output of its fabricks run says why
      expect(g.stderr()).toMatch(/no-such-server/);
      await expect(g.client.callTool({ name: 'broken__anything', arguments: {} })).rejects.toThrow(/^MCP error -32603: server "broken" could not be started: /);

      const first = g.events().find((e) => e.server === 'js' && e.state === 'started')!;
      process.kill(first.pid!, 'SIGKILL');
      await until('the gateway to see js end', () => g.events().some((e) => e.server === 'js' && e.state === 'exited'));
      const again = await g.client.callTool({ name: 'js__get_forecast', arguments: forecastArgs });
      expect(textOf(again)).toContain('Temperature: 51°F');
      const starts = g.events().filter((e) => e.server === 'js' && e.state === 'started');
      expect(starts).toHaveLength(2);
      expect(starts[1]!.pid).not.toBe(first.pid);
      // the other server was not disturbed
      expect(g.events().filter((e) => e.server === 'py' && e.state === 'started')).toHaveLength(1);
      await until('list_changed after the restart', () => notified.length > 0, 5_000);

      // restarts are bounded: 3 a minute, then its calls say it is down
      const killAndCall = async () => {
        const live = g.events().filter((e) => e.server === 'js' && e.state === 'started').at(-1)!;
        const ended = g.events().filter((e) => e.server === 'js' && e.state === 'exited').length;
        process.kill(live.pid!, 'SIGKILL');
        await until('js to end', () => g.events().filter((e) => e.server === 'js' && e.state === 'exited').length > ended);
        return g.client.callTool({ name: 'js__get_forecast', arguments: forecastArgs });
      };
      expect(textOf(await killAndCall())).toContain('Temperature: 51°F');
      expect(textOf(await killAndCall())).toContain('Temperature: 51°F');
      await expect(killAndCall()).rejects.toThrow(/^MCP error -32603: server "js" is down: it ended or failed to start 4 times in the last minute/);
      expect(textOf(await g.client.callTool({ name: 'py__get_forecast', arguments: forecastArgs }))).toContain('Temperature: 51°F');
    } finally {
      await g.client.close();
    }
  });
});

describe('fabricks mcp serve --listen', () => {
  let child: ChildProcess;
  let stderr = '';

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('serves Streamable HTTP on loopback to the SDK client, sessions sharing the servers, and stops on Ctrl-C', async () => {
    child = spawn(process.execPath, [bin, 'mcp', 'serve', '--config', config, '--listen', '0', '--progress', 'json'], {
      env: { ...process.env, FABRICKS_HOME: inject('fabricksHome') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await until('the gateway to listen', () => eventsOf(stderr).some((e) => e.event === 'mcp-gateway') || child.exitCode !== null);
    const url = eventsOf(stderr).find((e) => e.event === 'mcp-gateway')?.url;
    expect(url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const clients = [new Client({ name: 'a', version: '1' }), new Client({ name: 'b', version: '1' })];
    try {
      for (const c of clients) await c.connect(new StreamableHTTPClientTransport(new URL(url!)));
      const { tools } = await clients[0]!.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['js__get_alerts', 'js__get_forecast', 'py__get_alerts', 'py__get_forecast']);
      expect(textOf(await clients[0]!.callTool({ name: 'js__get_forecast', arguments: forecastArgs }))).toContain('Temperature: 51°F');
      expect(textOf(await clients[1]!.callTool({ name: 'py__get_alerts', arguments: { state: 'TX' } }))).toContain('No active alerts for this state.');
    } finally {
      for (const c of clients) await c.close().catch(() => undefined);
    }
    // one start per server, whatever the number of sessions
    expect(eventsOf(stderr).filter((e) => e.state === 'started').map((e) => e.server).sort()).toEqual(['js', 'py']);

    // another host's page may not reach it (DNS rebinding)
    const foreign = await fetch(url!, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(foreign.status).toBe(403);

    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).toBe('');
  });
});
