import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { copyExample, exists, fabricks, repoRoot } from '../helpers.js';
import { exampleNodeModules } from '../example-deps.js';
import { startWeatherApi, type WeatherApi } from '../weather-api.js';

/**
 * `fabricks mcp add` writes a client's entry with the real CLI, and the official MCP TypeScript
 * client then starts exactly the command and arguments the file holds (with only the variables
 * an MCP client passes on its own, plus the test's fabricks home), as Claude Desktop would:
 * initialize, tools/list, tools/call reaching the API the entry's grant flags allow.
 * Then `mcp ls --json` finds it and `mcp rm` takes it out.
 */
const bin = join(repoRoot, 'bin', 'fabricks.js');
const KEY = 'clients-key-77';

let api: WeatherApi;
let project: string;

beforeAll(async () => {
  api = await startWeatherApi();

  // examples/mcp-weather-js with its dependencies, under its own name (name:version tags are shared in the suite's store)
  project = await copyExample('mcp-weather-js', 'mcp-weather-js-clients');
  await symlink(await exampleNodeModules('mcp-weather-js'), join(project, 'node_modules'));
  const built = await fabricks(['build', '-q', project]);
  expect(built.status, built.stderr).toBe(0);
});

afterAll(() => {
  api?.server.close();
});

const grantFlags = () => ['--env', `WEATHER_API_URL=${api.url}`, '--env', `WEATHER_API_KEY=${KEY}`, '--allow-connect', `127.0.0.1:${api.port}`];

/** The environment an MCP client gives a server it starts (the SDK's defaults), and where the test's store and caches are. */
function clientEnvironment(): Record<string, string> {
  const env: Record<string, string> = { ...getDefaultEnvironment(), FABRICKS_HOME: inject('fabricksHome') };
  for (const name of ['TMPDIR', 'FABRICKS_COMPILED_CACHE']) if (process.env[name]) env[name] = process.env[name]!;
  return env;
}

const textOf = (result: unknown): string => ((result as { content: Array<{ text?: string }> }).content ?? []).map((c) => c.text ?? '').join('');

describe('fabricks mcp add, ls, rm', () => {
  it('writes a Claude Desktop entry that the official MCP client starts as written: initialize, tools, a tool call', async () => {
    const config = join(await mkdtemp(join(tmpdir(), 'fabricks-clients-')), 'x.json');
    // a relative folder, as `fabricks mcp add examples/mcp-weather-js` is typed in a checkout
    const add = await fabricks(['mcp', 'add', basename(project), '--client', 'claude-desktop', '--config', config, ...grantFlags()], { cwd: dirname(project) });
    expect(add.status, add.stderr).toBe(0);
    expect(add.stdout).toContain(`added "mcp-weather-js" in ${config} (Claude Desktop)`);
    // readied for this machine, so that the client's first start builds and compiles nothing
    expect(add.stdout).toContain('"mcp-weather-js" is ready: compiled for this machine and pre-initialized');
    const written = await readFile(config, 'utf8');
    const entry = JSON.parse(written).mcpServers['mcp-weather-js'];
    expect(entry).toEqual({ command: bin, args: ['run', project, ...grantFlags()] });

    const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: clientEnvironment(), stderr: 'pipe' });
    let stderr = '';
    transport.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'fabricks-clients-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()?.name).toBe('weather');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['get_alerts', 'get_forecast']);
      const before = api.seen.length;
      const forecast = await client.callTool({ name: 'get_forecast', arguments: { latitude: 38.9, longitude: -77.0 } });
      expect(forecast.isError ?? false, stderr).toBe(false);
      expect(textOf(forecast)).toContain('Temperature: 51°F');
      expect(api.seen.slice(before).map((s) => s.key)).toEqual([KEY, KEY]);
      // it started from its pre-initialized form, and built nothing
      expect(stderr).not.toMatch(/pre-initialized form|bundling/);
    } finally {
      await client.close();
    }

    // the same again changes nothing, and says so
    const again = await fabricks(['mcp', 'add', project, '--client', 'claude-desktop', '--config', config, ...grantFlags()]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(`"mcp-weather-js" in ${config} already runs that; nothing changed\n"mcp-weather-js" is ready: compiled for this machine and pre-initialized\n`);
    expect(await readFile(config, 'utf8')).toBe(written);
    expect(await exists(`${config}.bak`)).toBe(false);

    const ls = await fabricks(['mcp', 'ls', '--client', 'claude-desktop', '--config', config, '--json']);
    expect(ls.status, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual([
      { client: 'claude-desktop', title: 'Claude Desktop', file: config, servers: [{ name: 'mcp-weather-js', command: bin, args: entry.args, reference: project }] },
    ]);

    const rm = await fabricks(['mcp', 'rm', 'mcp-weather-js', '--client', 'claude-desktop', '--config', config]);
    expect(rm.status, rm.stderr).toBe(0);
    expect(rm.stdout).toBe(`removed "mcp-weather-js" from ${config} (Claude Desktop); the old file is ${config}.bak\n`);
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({ mcpServers: {} });
    expect(await readFile(`${config}.bak`, 'utf8')).toBe(written);
    const after = await fabricks(['mcp', 'ls', '--client', 'claude-desktop', '--config', config, '--json']);
    expect(JSON.parse(after.stdout)[0].servers).toEqual([]);
  });

  it('--print shows the entry and the file without writing; a malformed file is refused (status 1) and left as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-clients-'));
    const config = join(dir, 'mcp.json');
    const printed = await fabricks(['mcp', 'add', 'ghcr.io/you/mcp-weather-js:0.1.0', '--client', 'vscode', '--config', config, '--name', 'weather', '--print', '--env', 'WEATHER_API_KEY']);
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stderr).toBe(`would add "weather" to ${config} (VS Code)\n`);
    expect(JSON.parse(printed.stdout)).toEqual({ servers: { weather: { type: 'stdio', command: bin, args: ['run', 'ghcr.io/you/mcp-weather-js:0.1.0', '--env', 'WEATHER_API_KEY'] } } });
    expect(await exists(config)).toBe(false);

    const broken = '{\n  "servers": {\n    "a": { "command": "x" }\n    "b": {}\n  }\n}\n';
    await writeFile(config, broken);
    const refused = await fabricks(['mcp', 'add', 'hello-js:0.1.0', '--client', 'vscode', '--config', config]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`error: ${config}: 4:5: comma expected`);
    expect(refused.stderr).toContain('hint: fix the file by hand (fabricks left it as it was)');
    expect(await readFile(config, 'utf8')).toBe(broken);
    expect(await exists(`${config}.bak`)).toBe(false);

    const usage = await fabricks(['mcp', 'add', 'hello-js:0.1.0', '--client', 'emacs', '--config', config]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/Allowed choices are claude-desktop, claude-code, vscode, cursor/);
  });

  it('finds each client\'s usual files from HOME and the current folder', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-clients-home-'));
    const env = { HOME: home, XDG_CONFIG_HOME: '' };
    const code = await fabricks(['mcp', 'add', 'hello-js:0.1.0', '--client', 'claude-code'], { cwd: home, env });
    expect(code.status, code.stderr).toBe(0);
    const vs = await fabricks(['mcp', 'add', 'hello-js:0.1.0', '--client', 'vscode', '--name', 'hello', '--no-prepare'], { cwd: home, env });
    expect(vs.status, vs.stderr).toBe(0);
    expect(vs.stdout).not.toMatch(/ready/);
    expect(JSON.parse(await readFile(join(home, '.claude.json'), 'utf8')).mcpServers['hello-js']).toEqual({ type: 'stdio', command: bin, args: ['run', 'hello-js:0.1.0'], env: {} });
    const ls = await fabricks(['mcp', 'ls', '--json'], { cwd: home, env });
    expect(ls.status, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout).map((f: { client: string; scope: string; file: string; servers: Array<{ name: string }> }) => [f.client, f.scope, f.file, f.servers.map((s) => s.name)])).toEqual([
      ['claude-code', 'user', join(home, '.claude.json'), ['hello-js']],
      ['vscode', 'project', join(home, '.vscode', 'mcp.json'), ['hello']],
    ]);
    const text = await fabricks(['mcp', 'ls'], { cwd: home, env });
    expect(text.stdout).toBe(
      `claude-code (user)  ${join(home, '.claude.json')}\n  hello-js  hello-js:0.1.0  ${bin} run hello-js:0.1.0\n` +
        `vscode (project)  ${join(home, '.vscode', 'mcp.json')}\n  hello  hello-js:0.1.0  ${bin} run hello-js:0.1.0\n`,
    );
  });
});

describe('docs/mcp.md', () => {
  it('shows the entries fabricks mcp add --print prints', async () => {
    const doc = await readFile(join(repoRoot, 'docs', 'mcp.md'), 'utf8');
    const shown = [...doc.matchAll(/`fabricks (mcp add [^`]+ --print)`:\n\n```json\n([\s\S]*?)```/g)];
    expect(shown.length).toBe(4);
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-clients-docs-'));
    for (const [, command, json] of shown) {
      const printed = await fabricks([...command!.split(' '), '--command', '/usr/local/bin/fabricks', '--config', join(dir, 'none.json')]);
      expect(printed.status, printed.stderr).toBe(0);
      expect(printed.stdout, command).toBe(json);
    }
  });
});
