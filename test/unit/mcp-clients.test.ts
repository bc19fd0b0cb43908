import { describe, expect, it } from 'vitest';
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mcpAdd, mcpList, mcpRemove, type McpAddOptions } from '../../src/app/mcp-clients.js';
import { MCP_CLIENTS } from '../../src/clients/catalogue.js';
import type { McpClient, Where } from '../../src/clients/client.js';
import { FabricksError } from '../../src/util/errors.js';

/**
 * `mcp add/ls/rm` on real files in temporary folders, for each client's format: created from
 * nothing, added beside other entries and comments with every other byte kept, idempotent,
 * updated, removed, a malformed file refused and left alone, and the backup holding the old bytes.
 */

const LAUNCHER = { command: '/opt/fabricks/bin/fabricks', prefix: [] };

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'fabricks-mcpcfg-'));
}

const where = (dir: string): Where => ({ home: join(dir, 'home'), platform: 'linux', env: {}, cwd: dir });

function addOptions(client: McpClient, config: string, over: Partial<McpAddOptions> = {}): McpAddOptions {
  return { ref: 'ghcr.io/you/mcp-weather-js:0.1.0', client: client.id, config, grants: { env: ['WEATHER_API_KEY'] }, passthrough: [], launcher: LAUNCHER, where: where(dirname(config)), ...over };
}

const read = (p: string) => readFile(p, 'utf8');
const exists = (p: string) => stat(p).then(() => true, () => false);

/** What a rejected promise threw. */
async function failure(p: Promise<unknown>): Promise<FabricksError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(FabricksError);
  return e as FabricksError;
}

/** A file in the client's format with entries of others, written by hand: comments where the client reads them, odd spacing, one-line entries. */
function handWritten(client: McpClient): string {
  const key = client.serversKey;
  if (client.comments) {
    return [
      '{',
      '    // servers for this workspace',
      '    "inputs": [{ "type": "promptString", "id": "key", "password": true }],',
      `    "${key}": {`,
      '        "notes": { "command": "npx", "args": ["-y", "notes-mcp"] }, // keep this one',
      '        /* the HTTP one */',
      '        "remote": {"type": "http", "url": "http://127.0.0.1:8000/mcp"},',
      '    },',
      '}',
      '',
    ].join('\n');
  }
  return [
    '{',
    '  "globalShortcut": "Ctrl+Space",',
    `  "${key}": {`,
    '    "notes": { "command": "npx", "args": ["-y", "notes-mcp"], "env": {"TOKEN": "t"} },',
    '    "remote":   {"type": "http",   "url": "http://127.0.0.1:8000/mcp"}',
    '  },',
    '  "numStartups": 12',
    '}',
    '',
  ].join('\n');
}

for (const client of MCP_CLIENTS) {
  describe(`${client.id} (${client.serversKey}${client.comments ? ', JSONC' : ', plain JSON'})`, () => {
    const expected = (args: string[]) => ({ ...client.entry(LAUNCHER.command, args), ...client.newEntryExtras });
    const args = ['run', 'ghcr.io/you/mcp-weather-js:0.1.0', '--env', 'WEATHER_API_KEY'];

    it('creates a missing file, and its folder, holding only the entry', async () => {
      const config = join(await tmp(), 'deep', 'er', 'config.json');
      const r = await mcpAdd(addOptions(client, config));
      expect(r).toMatchObject({ action: 'added', written: true, name: 'mcp-weather-js', file: config });
      expect(r.backup).toBeUndefined();
      expect(JSON.parse(await read(config))).toEqual({ [client.serversKey]: { 'mcp-weather-js': expected(args) } });
      expect(await exists(`${config}.bak`)).toBe(false);
      // what --print shows is what was written
      expect(`${r.snippet}\n`).toBe(await read(config));
    });

    it('fills an empty file, keeping its (empty) bytes as the backup', async () => {
      const config = join(await tmp(), 'config.json');
      await writeFile(config, '');
      const r = await mcpAdd(addOptions(client, config));
      expect(r.action).toBe('added');
      expect(JSON.parse(await read(config))[client.serversKey]['mcp-weather-js']).toEqual(expected(args));
      expect(await read(`${config}.bak`)).toBe('');
    });

    it('adds beside other entries and comments, changing no other byte; rm gives the file back byte for byte', async () => {
      const config = join(await tmp(), 'config.json');
      const before = handWritten(client);
      await writeFile(config, before);
      const r = await mcpAdd(addOptions(client, config, { name: 'weather' }));
      expect(r).toMatchObject({ action: 'added', written: true, backup: `${config}.bak` });
      expect(await read(`${config}.bak`)).toBe(before);
      const after = await read(config);
      // the only changes: the new entry, and a comma after the last entry if it had none
      const { parse } = await import('jsonc-parser');
      const value = parse(after, [], { allowTrailingComma: true });
      expect(value[client.serversKey].weather).toEqual(expected(args));
      expect(Object.keys(value[client.serversKey])).toEqual(['notes', 'remote', 'weather']);
      expect(value[client.serversKey].notes).toEqual(parse(before, [], { allowTrailingComma: true })[client.serversKey].notes);
      // take the new entry out again (and the comma the last one got): the rest is the old file
      const removed = after.replace(/\n[ \t]*"weather": \{[\s\S]*?\n[ \t]*\}(,?)/, '');
      expect(removed.replace('"http://127.0.0.1:8000/mcp"},', '"http://127.0.0.1:8000/mcp"}')).toBe(before.replace('"http://127.0.0.1:8000/mcp"},', '"http://127.0.0.1:8000/mcp"}'));

      const gone = await mcpRemove({ name: 'weather', client: client.id, config, where: where(dirname(config)) });
      expect(gone).toMatchObject({ written: true, backup: `${config}.bak` });
      expect(await read(`${config}.bak`)).toBe(after);
      expect(await read(config)).toBe(before);
    });

    it('changes nothing when the same entry is added again, and says so', async () => {
      const config = join(await tmp(), 'config.json');
      await writeFile(config, handWritten(client));
      await mcpAdd(addOptions(client, config));
      const once = await read(config);
      const backup = await read(`${config}.bak`);
      const mtime = (await stat(config)).mtimeMs;
      const again = await mcpAdd(addOptions(client, config));
      expect(again).toMatchObject({ action: 'unchanged', written: false });
      expect(await read(config)).toBe(once);
      expect((await stat(config)).mtimeMs).toBe(mtime);
      expect(await read(`${config}.bak`)).toBe(backup);
    });

    it('updates only that entry\'s command and args when the flags differ, keeping fields the user added', async () => {
      const config = join(await tmp(), 'config.json');
      await writeFile(config, handWritten(client));
      await mcpAdd(addOptions(client, config));
      // the user puts the key in the entry's env, by hand
      const written = await read(config);
      const withEnv = written.includes('"env": {}')
        ? written.replace('"env": {}', '"env": { "WEATHER_API_KEY": "secret" }')
        : written.replace(/("mcp-weather-js": \{)/, '$1\n      "env": { "WEATHER_API_KEY": "secret" },');
      await writeFile(config, withEnv);
      const r = await mcpAdd(addOptions(client, config, { grants: { env: ['WEATHER_API_KEY'], connect: ['api.weather.gov'], memory: '256MiB' } }));
      expect(r).toMatchObject({ action: 'updated', written: true });
      expect(await read(`${config}.bak`)).toBe(withEnv);
      const { parse } = await import('jsonc-parser');
      const servers = parse(await read(config), [], { allowTrailingComma: true })[client.serversKey];
      expect(servers['mcp-weather-js']).toEqual({
        ...expected([...args, '--connect', 'api.weather.gov', '--memory', '256MiB']),
        env: { WEATHER_API_KEY: 'secret' },
      });
      // nothing outside that entry's args changed
      const outside = (t: string) => t.replace(/"args": \[[^\]]*\]/g, 'ARGS');
      expect(outside(await read(config))).toBe(outside(withEnv));
    });

    it('refuses a malformed file, naming it and the position, and leaves it exactly as it was', async () => {
      const config = join(await tmp(), 'config.json');
      const broken = `{\n  "${client.serversKey}": {\n    "a": { "command" "x" }\n  }\n}\n`;
      await writeFile(config, broken);
      const e = await failure(mcpAdd(addOptions(client, config)));
      expect(e.code).toBe('CLIENT_CONFIG_INVALID');
      expect(e.message).toBe(`${config}: 3:22: colon expected`);
      expect(await read(config)).toBe(broken);
      expect(await exists(`${config}.bak`)).toBe(false);
      const r = await failure(mcpRemove({ name: 'a', client: client.id, config, where: where(dirname(config)) }));
      expect(r.code).toBe('CLIENT_CONFIG_INVALID');
      expect(await read(config)).toBe(broken);
    });

    it(client.comments ? 'accepts comments and trailing commas (the client reads JSONC)' : 'refuses comments and trailing commas (the client reads plain JSON)', async () => {
      const config = join(await tmp(), 'config.json');
      const text = `{\n  // mine\n  "${client.serversKey}": {},\n}\n`;
      await writeFile(config, text);
      if (client.comments) {
        await mcpAdd(addOptions(client, config));
        expect(await read(config)).toContain('// mine');
      } else {
        const e = await failure(mcpAdd(addOptions(client, config)));
        expect(e.message).toBe(`${config}: 2:3: a comment, which plain JSON does not allow (and 1 more problem)`);
        expect(e.hint).toMatch(/plain JSON/);
        expect(await read(config)).toBe(text);
      }
    });

    it('refuses a servers value that is not an object, and a top level that is not one', async () => {
      const dir = await tmp();
      const a = join(dir, 'a.json');
      await writeFile(a, `{"${client.serversKey}": []}`);
      expect((await failure(mcpAdd(addOptions(client, a)))).message).toBe(`${a}: 1:${client.serversKey.length + 6}: "${client.serversKey}" is an array, not an object of servers`);
      const b = join(dir, 'b.json');
      await writeFile(b, '[1]');
      expect((await failure(mcpAdd(addOptions(client, b)))).message).toBe(`${b}: the top level is an array, not an object`);
      expect(await read(a)).toBe(`{"${client.serversKey}": []}`);
    });

    it('keeps the file\'s mode (the backup gets it too) and writes through a symbolic link', async () => {
      const dir = await tmp();
      const real = join(dir, 'dotfiles', 'config.json');
      await mkdir(dirname(real));
      await writeFile(real, handWritten(client));
      await chmod(real, 0o600);
      const link = join(dir, 'config.json');
      await symlink(real, link);
      await mcpAdd(addOptions(client, link));
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(await readlink(link)).toBe(real);
      expect((await stat(real)).mode & 0o777).toBe(0o600);
      expect((await stat(`${real}.bak`)).mode & 0o777).toBe(0o600);
      expect(await read(real)).toContain('"mcp-weather-js"');
    });

    it('leaves an entry of the same name that does not run fabricks, unless --force', async () => {
      const config = join(await tmp(), 'config.json');
      await writeFile(config, handWritten(client));
      const e = await failure(mcpAdd(addOptions(client, config, { name: 'notes' })));
      expect(e.message).toBe(`${config} already has a server "notes" that does not run fabricks; it was left as it is`);
      expect(await read(config)).toBe(handWritten(client));
      const rm = await failure(mcpRemove({ name: 'notes', client: client.id, config, where: where(dirname(config)) }));
      expect(rm.message).toMatch(/does not run fabricks/);
      await mcpAdd(addOptions(client, config, { name: 'notes', force: true }));
      const { parse } = await import('jsonc-parser');
      expect(parse(await read(config), [], { allowTrailingComma: true })[client.serversKey].notes).toMatchObject(client.entry(LAUNCHER.command, args));
    });

    it('lists only the entries that run fabricks, and rm of an absent one names those there are', async () => {
      const config = join(await tmp(), 'config.json');
      await writeFile(config, handWritten(client));
      await mcpAdd(addOptions(client, config, { name: 'weather' }));
      await mcpAdd(addOptions(client, config, { ref: 'hello-js:0.1.0', grants: {} }));
      const listed = await mcpList({ client: client.id, config, where: where(dirname(config)) });
      expect(listed).toEqual([
        {
          client: client.id,
          title: client.title,
          scope: undefined,
          file: config,
          servers: [
            { name: 'weather', command: LAUNCHER.command, args, reference: 'ghcr.io/you/mcp-weather-js:0.1.0' },
            { name: 'hello-js', command: LAUNCHER.command, args: ['run', 'hello-js:0.1.0'], reference: 'hello-js:0.1.0' },
          ],
        },
      ]);
      const e = await failure(mcpRemove({ name: 'nope', client: client.id, config, where: where(dirname(config)) }));
      expect(e.code).toBe('NOT_FOUND');
      expect(e.hint).toBe('fabricks servers there: weather, hello-js');
    });

    it('--print (dryRun) writes nothing', async () => {
      const config = join(await tmp(), 'config.json');
      const r = await mcpAdd(addOptions(client, config, { dryRun: true }));
      expect(r).toMatchObject({ action: 'added', written: false });
      expect(JSON.parse(r.snippet)).toEqual({ [client.serversKey]: { 'mcp-weather-js': expected(args) } });
      expect(await exists(config)).toBe(false);
    });
  });
}

describe('layouts other than two spaces', () => {
  const vscodeClient = MCP_CLIENTS.find((c) => c.id === 'vscode')!;
  it('keeps tabs and CRLF line ends, and an empty servers object of one line', async () => {
    const config = join(await tmp(), 'mcp.json');
    const before = '{\r\n\t"servers": {},\r\n\t"inputs": []\r\n}\r\n';
    await writeFile(config, before);
    await mcpAdd(addOptions(vscodeClient, config, { name: 'w', grants: {} }));
    const after = await read(config);
    expect(after).toBe(
      '{\r\n\t"servers": {\r\n\t\t"w": {\r\n\t\t\t"type": "stdio",\r\n\t\t\t"command": "/opt/fabricks/bin/fabricks",\r\n\t\t\t"args": [\r\n\t\t\t\t"run",\r\n\t\t\t\t"ghcr.io/you/mcp-weather-js:0.1.0"\r\n\t\t\t]\r\n\t\t}\r\n\t},\r\n\t"inputs": []\r\n}\r\n',
    );
    await mcpRemove({ name: 'w', client: 'vscode', config, where: where(dirname(config)) });
    expect(await read(config)).toBe(before);
  });

  it('joins an entry written on one line to the others on it', async () => {
    const config = join(await tmp(), 'mcp.json');
    await writeFile(config, '{"servers":{"a":{"command":"x"}}}');
    await mcpAdd(addOptions(vscodeClient, config, { name: 'w', grants: {} }));
    expect(await read(config)).toBe('{"servers":{"a":{"command":"x"}, "w": { "type": "stdio", "command": "/opt/fabricks/bin/fabricks", "args": ["run", "ghcr.io/you/mcp-weather-js:0.1.0"] }}}');
    await mcpRemove({ name: 'w', client: 'vscode', config, where: where(dirname(config)) });
    expect(await read(config)).toBe('{"servers":{"a":{"command":"x"}}}');
  });

  it('adds the servers object to a file that has none, after its other settings', async () => {
    const config = join(await tmp(), 'claude.json');
    await writeFile(config, '{\n  "numStartups": 3,\n  "projects": {\n    "/x": { "allowedTools": [] }\n  }\n}\n');
    await mcpAdd(addOptions(MCP_CLIENTS.find((c) => c.id === 'claude-code')!, config, { name: 'w', grants: {} }));
    expect(await read(config)).toBe(
      '{\n  "numStartups": 3,\n  "projects": {\n    "/x": { "allowedTools": [] }\n  },\n  "mcpServers": {\n    "w": {\n      "type": "stdio",\n      "command": "/opt/fabricks/bin/fabricks",\n      "args": [\n        "run",\n        "ghcr.io/you/mcp-weather-js:0.1.0"\n      ],\n      "env": {}\n    }\n  }\n}\n',
    );
  });
});

describe('where each client keeps its file', () => {
  const files = (platform: NodeJS.Platform, env: Record<string, string> = {}) => {
    const w: Where = { home: platform === 'win32' ? 'C:\\Users\\ada' : platform === 'darwin' ? '/Users/ada' : '/home/ada', platform, env, cwd: platform === 'win32' ? 'C:\\work\\app' : '/work/app' };
    return Object.fromEntries(MCP_CLIENTS.map((c) => [c.id, { user: c.file('user', w), project: c.file('project', w), default: c.defaultScope }]));
  };

  it('on Linux (XDG_CONFIG_HOME when set)', () => {
    expect(files('linux')).toEqual({
      'claude-desktop': { user: '/home/ada/.config/Claude/claude_desktop_config.json', project: undefined, default: 'user' },
      'claude-code': { user: '/home/ada/.claude.json', project: '/work/app/.mcp.json', default: 'user' },
      vscode: { user: '/home/ada/.config/Code/User/mcp.json', project: '/work/app/.vscode/mcp.json', default: 'project' },
      cursor: { user: '/home/ada/.cursor/mcp.json', project: '/work/app/.cursor/mcp.json', default: 'user' },
    });
    expect(files('linux', { XDG_CONFIG_HOME: '/cfg' })['claude-desktop']!.user).toBe('/cfg/Claude/claude_desktop_config.json');
  });

  it('on macOS', () => {
    const f = files('darwin');
    expect(f['claude-desktop']!.user).toBe('/Users/ada/Library/Application Support/Claude/claude_desktop_config.json');
    expect(f.vscode!.user).toBe('/Users/ada/Library/Application Support/Code/User/mcp.json');
  });

  it('on Windows', () => {
    const f = files('win32', { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' });
    expect(f['claude-desktop']!.user).toBe('C:\\Users\\ada\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
    expect(f.vscode!.user).toBe('C:\\Users\\ada\\AppData\\Roaming\\Code\\User\\mcp.json');
    expect(f.cursor!.user).toBe('C:\\Users\\ada\\.cursor\\mcp.json');
    expect(f['claude-code']!.project).toBe('C:\\work\\app\\.mcp.json');
  });

  it('uses the default scope\'s file without --config, and refuses a scope a client lacks', async () => {
    const dir = await tmp();
    const r = await mcpAdd({ ref: 'hello-js:0.1.0', client: 'vscode', grants: {}, passthrough: [], launcher: LAUNCHER, where: where(dir) });
    expect(r.file).toBe(join(dir, '.vscode', 'mcp.json'));
    expect(r.scope).toBe('project');
    const e = await failure(mcpAdd({ ref: 'hello-js:0.1.0', client: 'claude-desktop', scope: 'project', grants: {}, passthrough: [], launcher: LAUNCHER, where: where(dir) }));
    expect(e.message).toBe('Claude Desktop has no project-scope configuration file');
    const listed = await mcpList({ where: where(dir) });
    expect(listed.map((f) => [f.client, f.scope, f.servers.map((s) => s.name)])).toEqual([['vscode', 'project', ['hello-js']]]);
  });
});

describe('a file the client saves meanwhile', () => {
  it('is not overwritten: the write is refused and nothing (no backup either) is written', async () => {
    const { readClientFile, writeClientFile } = await import('../../src/clients/config-file.js');
    const { withServer } = await import('../../src/clients/servers.js');
    const client = MCP_CLIENTS.find((c) => c.id === 'claude-desktop')!;
    const config = join(await tmp(), 'config.json');
    await writeFile(config, '{"mcpServers": {}}\n');
    const file = await readClientFile(config, client);
    const { text } = withServer(file, client, 'w', client.entry('/f', ['run', 'x:1']));
    // the client writes its own change between fabricks' read and write
    await writeFile(config, '{"mcpServers": {}, "theme": "dark"}\n');
    const e = await failure(writeClientFile(file, text));
    expect(e.code).toBe('CLIENT_CONFIG_CHANGED');
    expect(e.message).toBe(`${config} changed while fabricks was editing it; nothing was written`);
    expect(await read(config)).toBe('{"mcpServers": {}, "theme": "dark"}\n');
    expect(await exists(`${config}.bak`)).toBe(false);
    // a file made meanwhile where there was none counts too
    const fresh = join(await tmp(), 'new.json');
    const none = await readClientFile(fresh, client);
    await writeFile(fresh, '{}');
    expect((await failure(writeClientFile(none, '{"mcpServers": {}}'))).code).toBe('CLIENT_CONFIG_CHANGED');
    expect(await read(fresh)).toBe('{}');
  });
});
