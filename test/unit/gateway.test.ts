import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerName, defaultServerName, isServerName, prefixed, unprefixed } from '../../src/gateway/naming.js';
import { toolFilter } from '../../src/gateway/filters.js';
import { checkUniqueNames, readGatewayFile, serverFromArgument } from '../../src/gateway/servers.js';
import { AuditLog } from '../../src/gateway/audit.js';
import { parseListen } from '../../src/gateway/http.js';
import { fabricksLauncher, FABRICKS_BIN } from '../../src/gateway/launcher.js';
import { FabricksError } from '../../src/util/errors.js';
import { repoRoot } from '../helpers.js';

async function failure(p: Promise<unknown> | (() => unknown)): Promise<FabricksError> {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(FabricksError);
  return e as FabricksError;
}

describe('gateway names', () => {
  it('prefixes with <server>__ and takes the first __ as the seam, whatever the tool name holds', () => {
    expect(prefixed('weather', 'get_forecast')).toBe('weather__get_forecast');
    expect(unprefixed('weather__get_forecast')).toEqual({ server: 'weather', name: 'get_forecast' });
    expect(unprefixed('w_x__a__b')).toEqual({ server: 'w_x', name: 'a__b' });
    expect(unprefixed('get_forecast')).toBeUndefined();
    expect(unprefixed('__x')).toBeUndefined();
    expect(unprefixed(prefixed('mcp-weather.js', '__odd'))).toEqual({ server: 'mcp-weather.js', name: '__odd' });
  });

  it('takes server names that cannot hold the seam', () => {
    for (const ok of ['weather', 'mcp-weather-js', 'a.b', 'my_server', 'x1']) expect(isServerName(ok), ok).toBe(true);
    for (const bad of ['', 'a__b', 'a_', '-a', 'a b', 'a/b', 'x'.repeat(65), 'é']) expect(isServerName(bad), bad).toBe(false);
    expect(() => checkServerName('a__b', '--server a__b=x')).toThrow(/--server a__b=x: "a__b" is not a server name/);
  });

  it('names a server after its folder, its stored name or its repository', () => {
    expect(defaultServerName('examples/mcp-weather-js', true)).toBe('mcp-weather-js');
    expect(defaultServerName('examples/mcp-weather-python/', true)).toBe('mcp-weather-python');
    expect(defaultServerName('weather:1.0', false)).toBe('weather');
    expect(defaultServerName('ghcr.io/you/tools/weather:1.0', false)).toBe('weather');
    expect(defaultServerName('localhost:5000/you/weather@sha256:abcd', false)).toBe('weather');
    expect(defaultServerName('/tmp/my server__x_', true)).toBe('my-server_x');
    for (const n of ['examples/mcp-weather-js', '/tmp/my server__x_', '/tmp/___']) expect(isServerName(defaultServerName(n, true)), n).toBe(true);
  });
});

describe('tool filters', () => {
  it('allows every tool without patterns', () => {
    expect(toolFilter().allows('a__b')).toBe(true);
  });

  it('allows what an allow pattern matches, and denies what a deny pattern matches, deny winning', () => {
    const f = toolFilter(['weather__*', 'files__read_?ile'], ['*__delete_*', 'weather__get_alerts']);
    expect(f.allows('weather__get_forecast')).toBe(true);
    expect(f.allows('weather__get_alerts')).toBe(false);
    expect(f.allows('weather__delete_city')).toBe(false);
    expect(f.allows('files__read_file')).toBe(true);
    expect(f.allows('files__read_files')).toBe(false);
    expect(f.allows('files__write_file')).toBe(false);
    expect(f.allows('other__weather__x')).toBe(false);
    expect(f.describe()).toBe('--allow-tool weather__* --allow-tool files__read_?ile --deny-tool *__delete_* --deny-tool weather__get_alerts');
  });

  it('matches the whole name, with {a,b} alternatives', () => {
    const f = toolFilter(['{js,py}__get_forecast']);
    expect(f.allows('js__get_forecast')).toBe(true);
    expect(f.allows('py__get_forecast')).toBe(true);
    expect(f.allows('js__get_forecast2')).toBe(false);
    expect(f.allows('xjs__get_forecast')).toBe(false);
  });

  it('refuses what is not a tool pattern', async () => {
    expect((await failure(() => toolFilter(['']))).message).toMatch(/--allow-tool "" is not a tool pattern/);
    expect((await failure(() => toolFilter([], ['a/b']))).message).toMatch(/--deny-tool "a\/b"/);
  });
});

describe('servers from the command line and gateway.toml', () => {
  it('names a folder after itself and --server NAME=REF as given', async () => {
    const dir = join(repoRoot, 'examples', 'mcp-weather-js');
    expect(await serverFromArgument(dir, 'argument')).toEqual({ name: 'mcp-weather-js', ref: dir, runArgs: [], args: [], from: `argument ${dir}` });
    expect(await serverFromArgument('w=weather:1.0', '--server')).toMatchObject({ name: 'w', ref: 'weather:1.0' });
    expect(await serverFromArgument('ghcr.io/a/b:1', 'argument')).toMatchObject({ name: 'b', ref: 'ghcr.io/a/b:1' });
    expect((await failure(serverFromArgument('weather', '--server'))).message).toMatch(/--server weather: expected NAME=REF/);
    expect((await failure(serverFromArgument('--env', 'argument'))).message).toMatch(/is not a folder/);
  });

  it('refuses two servers of one name, and none at all', async () => {
    const a = await serverFromArgument('x=a:1', '--server');
    const b = await serverFromArgument('ghcr.io/o/x:2', 'argument');
    const e = await failure(() => checkUniqueNames([a, b]));
    expect(e.problems).toEqual(['"x": from --server x=a:1 and from argument ghcr.io/o/x:2']);
    await failure(() => checkUniqueNames([]));
  });

  it('reads [servers.NAME] with the fabricks run flags as fields, folders relative to the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-gateway-'));
    await mkdir(join(dir, 'servers', 'w'), { recursive: true });
    const file = join(dir, 'gateway.toml');
    await writeFile(
      file,
      [
        'allow-tool = ["w__*"]',
        'deny-tool = ["*__delete_*"]',
        '[servers.w]',
        'ref = "servers/w"',
        'env = ["WEATHER_API_KEY", "WEATHER_API_URL=http://127.0.0.1:1"]',
        'allow-connect = ["127.0.0.1:1"]',
        'mount = ["/data:/data:ro"]',
        'memory = "256MiB"',
        'args = ["--verbose"]',
        '[servers.stored]',
        'ref = "weather:1.0"',
        'allow-wide-mount = false',
      ].join('\n'),
    );
    const read = await readGatewayFile(file);
    expect(read.allowTool).toEqual(['w__*']);
    expect(read.denyTool).toEqual(['*__delete_*']);
    expect(read.servers).toEqual([
      {
        name: 'w',
        ref: join(dir, 'servers', 'w'),
        runArgs: ['--env', 'WEATHER_API_KEY', '--env', 'WEATHER_API_URL=http://127.0.0.1:1', '--mount', '/data:/data:ro', '--allow-connect', '127.0.0.1:1', '--memory', '256MiB'],
        args: ['--verbose'],
        from: `${file} [servers.w]`,
      },
      { name: 'stored', ref: 'weather:1.0', runArgs: [], args: [], from: `${file} [servers.stored]` },
    ]);
  });

  it('reports every problem of a gateway.toml at once, each naming its field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-gateway-'));
    const file = join(dir, 'gateway.toml');
    await writeFile(file, ['listen = 8000', '[servers.a__b]', 'ref = "x:1"', '[servers.c]', 'connect = ["h"]', '[servers.d]', 'ref = "y:1"', 'env = "A"', 'allow-wide-mount = "yes"'].join('\n'));
    const e = await failure(readGatewayFile(file));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.problems).toEqual([
      'listen: not a gateway setting (servers, allow-tool, deny-tool)',
      expect.stringMatching(/^servers\.a__b: use letters/),
      expect.stringMatching(/^servers\.c\.connect: not a server setting \(ref, args, allow-wide-mount, env, mount, allow-connect/),
      'servers.c.ref: required, the folder, name:version or registry reference to run',
      'servers.d.env: must be a list of strings, as --env takes them',
      'servers.d.allow-wide-mount: must be true or false',
    ]);
    expect((await failure(readGatewayFile(join(dir, 'none.toml')))).message).toMatch(/--config .*none\.toml: cannot read it \(ENOENT\)/);
    await writeFile(file, '[servers');
    expect((await failure(readGatewayFile(file))).message).toMatch(/is not valid TOML/);
  });
});

describe('the audit log', () => {
  it('appends one JSON line per call, arguments only when asked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-audit-'));
    const file = join(dir, 'calls.jsonl');
    const plain = await AuditLog.open(file, false);
    plain.record({ server: 'w', tool: 'get_forecast', outcome: 'ok', at: Date.UTC(2026, 0, 2, 3, 4, 5), ms: 12.345, arguments: { secret: 1 } });
    plain.record({ server: 'w', tool: 'delete', outcome: 'refused', at: Date.UTC(2026, 0, 2), ms: 0.01, error: 'denied' });
    await plain.close();
    const withArgs = await AuditLog.open(file, true);
    withArgs.record({ server: 'w', tool: 'get_forecast', outcome: 'error', at: Date.UTC(2026, 0, 2), ms: 3, error: 'boom', arguments: { latitude: 1 } });
    await withArgs.close();
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { time: '2026-01-02T03:04:05.000Z', server: 'w', tool: 'get_forecast', outcome: 'ok', duration_ms: 12.3 },
      { time: '2026-01-02T00:00:00.000Z', server: 'w', tool: 'delete', outcome: 'refused', duration_ms: 0, error: 'denied' },
      { time: '2026-01-02T00:00:00.000Z', server: 'w', tool: 'get_forecast', outcome: 'error', duration_ms: 3, error: 'boom', arguments: { latitude: 1 } },
    ]);
    expect((await failure(AuditLog.open(join(dir, 'no', 'such', 'calls.jsonl'), false))).message).toMatch(/--audit .*: cannot open it for appending \(ENOENT\)/);
  });
});

describe('the gateway launcher and --listen', () => {
  it('starts this install\'s fabricks run with the server\'s flags, then its arguments', () => {
    expect(FABRICKS_BIN).toBe(join(repoRoot, 'bin', 'fabricks.js'));
    const spec = { name: 'w', ref: '/x/w', runArgs: ['--env', 'A'], args: ['--flag'], from: '' };
    expect(fabricksLauncher({ quiet: true }).run(spec)).toMatchObject({ command: process.execPath, args: [FABRICKS_BIN, 'run', '-q', '/x/w', '--env', 'A', '--', '--flag'] });
    expect(fabricksLauncher({ quiet: false }).run({ ...spec, args: [] }).args).toEqual([FABRICKS_BIN, 'run', '/x/w', '--env', 'A']);
  });

  it('listens on loopback unless a host is named', async () => {
    expect(parseListen('8000')).toEqual({ host: '127.0.0.1', port: 8000 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect((await failure(() => parseListen('x'))).message).toMatch(/--listen x: expected \[HOST:\]PORT/);
    await failure(() => parseListen('70000'));
  });
});
