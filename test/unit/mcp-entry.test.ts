import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultServerName, entryReference, fabricksArgs, launcher, runArgs, runReference } from '../../src/app/mcp-entry.js';

/** A `fabricks run` as a client's server entry: the launcher, the arguments, the name, and telling fabricks entries apart. */

describe('the launcher', () => {
  it('is the running fabricks by absolute path, node with the script on Windows, or what --command says', () => {
    expect(launcher({ script: '/usr/local/bin/fabricks', node: '/usr/bin/node', platform: 'linux' })).toEqual({ command: '/usr/local/bin/fabricks', prefix: [] });
    expect(launcher({ script: 'C:\\npm\\node_modules\\fabricks\\bin\\fabricks.js', node: 'C:\\node\\node.exe', platform: 'win32' })).toEqual({
      command: 'C:\\node\\node.exe',
      prefix: ['C:\\npm\\node_modules\\fabricks\\bin\\fabricks.js'],
    });
    expect(launcher({ script: '/x/bin/fabricks.js', node: '/usr/bin/node', platform: 'linux', command: 'fabricks' })).toEqual({ command: 'fabricks', prefix: [] });
    expect(() => launcher({ script: '/x', node: '/n', platform: 'linux', command: ' ' })).toThrow(/--command is empty/);
  });
});

describe('fabricks entries', () => {
  it('are those whose command starts fabricks, by any launcher', () => {
    expect(fabricksArgs({ command: 'fabricks', args: ['run', 'x:1'] })).toEqual(['run', 'x:1']);
    expect(fabricksArgs({ command: '/work/bin/fabricks.js', args: ['run', 'x:1'] })).toEqual(['run', 'x:1']);
    expect(fabricksArgs({ command: 'C:\\npm\\fabricks.cmd', args: ['mcp', 'serve'] })).toEqual(['mcp', 'serve']);
    expect(fabricksArgs({ command: 'C:\\node\\node.exe', args: ['C:\\m\\bin\\fabricks.js', 'run', 'x:1'] })).toEqual(['run', 'x:1']);
    expect(fabricksArgs({ command: 'npx', args: ['-y', 'fabricks'] })).toBeUndefined();
    expect(fabricksArgs({ command: 'node', args: ['server.js'] })).toBeUndefined();
    expect(fabricksArgs({ type: 'http', url: 'http://x' })).toBeUndefined();
    expect(fabricksArgs('fabricks')).toBeUndefined();
  });

  it('run a reference: the first argument of run that is no option nor an option\'s value', () => {
    expect(runReference(['run', 'x:1', '--env', 'A'])).toBe('x:1');
    expect(runReference(['run', '-q', 'ghcr.io/you/w:0.1.0', '--env', 'K'])).toBe('ghcr.io/you/w:0.1.0');
    expect(runReference(['run', '--env', 'K', '--allow-wide-mount', '/p'])).toBe('/p');
    expect(runReference(['run', '--env=K', 'x:1'])).toBe('x:1');
    expect(runReference(['mcp', 'serve'])).toBeUndefined();
  });
});

describe('the reference in an entry', () => {
  it('makes a project folder absolute and passes other references as they are', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-mcpentry-'));
    await mkdir(join(dir, 'weather'));
    expect(await entryReference('weather', dir, '/home/ada')).toBe(join(dir, 'weather'));
    expect(await entryReference('./weather/', dir, '/home/ada')).toBe(join(dir, 'weather'));
    expect(await entryReference('.', join(dir, 'weather'), '/home/ada')).toBe(join(dir, 'weather'));
    expect(await entryReference('~/weather', '/', dir)).toBe(join(dir, 'weather'));
    for (const ref of ['hello-js:0.1.0', 'ghcr.io/you/w:1.0', 'npm:@scope/pkg@1.2.3', 'pypi:mcp-server-time==2025.9.25']) expect(await entryReference(ref, dir, '/home/ada')).toBe(ref);
    await expect(entryReference('./nowhere', dir, '/home/ada')).rejects.toThrow('./nowhere: no such folder');
    await expect(entryReference('', dir, '/home/ada')).rejects.toThrow(/empty/);
  });

  it('names the server after the package or repository', () => {
    expect(defaultServerName('/home/ada/examples/mcp-weather-js')).toBe('mcp-weather-js');
    expect(defaultServerName('hello-js:0.1.0')).toBe('hello-js');
    expect(defaultServerName('ghcr.io/you/mcp-weather-python:0.1.0')).toBe('mcp-weather-python');
    expect(defaultServerName('localhost:5000/apps/notes@sha256:' + 'a'.repeat(64))).toBe('notes');
    expect(defaultServerName('localhost:5000/apps/notes')).toBe('notes');
    expect(defaultServerName('npm:@modelcontextprotocol/server-everything@2025.9.25')).toBe('server-everything');
    expect(defaultServerName('npm:mcp-server-x')).toBe('mcp-server-x');
    expect(defaultServerName('pypi:mcp-server-time==2025.9.25')).toBe('mcp-server-time');
    expect(defaultServerName('pypi:mcp[cli]>=1.0')).toBe('mcp');
    expect(defaultServerName('C:\\Users\\ada\\weather')).toBe('weather');
  });
});

describe('the arguments of the run', () => {
  it('pass the grant flags through in one order, with relative folders made absolute', () => {
    const args = runArgs(
      'x:1',
      {
        env: ['A', 'B=2'],
        mount: ['./data:/data:ro', '/abs:/abs'],
        connect: ['api.example.com'],
        profile: 'grants.toml',
        allowConnect: ['127.0.0.1:9000'],
        allowEnv: ['C'],
        allowMount: ['tmp:/tmp:rw'],
        allowWideMount: true,
        memory: '256MiB',
        timeout: '5m',
        requestTimeout: '30s',
        concurrency: '2',
      },
      ['--verbose', 'x'],
      '/work',
    );
    expect(args).toEqual([
      'run', 'x:1',
      '--env', 'A', '--env', 'B=2',
      '--mount', '/work/data:/data:ro', '--mount', '/abs:/abs',
      '--connect', 'api.example.com',
      '--profile', '/work/grants.toml',
      '--allow-connect', '127.0.0.1:9000',
      '--allow-env', 'C',
      '--allow-mount', '/work/tmp:/tmp:rw',
      '--allow-wide-mount',
      '--memory', '256MiB', '--timeout', '5m', '--request-timeout', '30s', '--concurrency', '2',
      '--', '--verbose', 'x',
    ]);
    expect(runArgs('x:1', {}, [], '/work')).toEqual(['run', 'x:1']);
  });
});
