import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fabricks, repoRoot } from '../helpers.js';

const fixture = join(repoRoot, 'test', 'fixtures', 'node-builtins');

/** The fixture run by Node on the host: the reference the runtime's output must match. */
async function underNode(dir: string, args: string[] = [], input?: string): Promise<string> {
  const native = join(dir, 'native');
  await mkdir(native, { recursive: true });
  await cp(join(dir, 'main.js'), join(native, 'main.mjs'));
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [join(native, 'main.mjs'), ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end(input ?? '');
  });
}

const lines = (s: string) => s.trim().split('\n');

describe('Node built-ins served from libraries or mapped to the host', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fabricks-node-builtins-'));
    await cp(fixture, dir, { recursive: true });
  });

  it('zlib, async_hooks, stream/web, stream/consumers, timers/promises, perf_hooks, util/types, assert, querystring, punycode, string_decoder, tty, worker_threads, diagnostics_channel, constants, v8, events, dns, net and process answer as Node does', async () => {
    const [r, expected] = await Promise.all([fabricks(['run', '-q', dir]), underNode(dir)]);
    expect(r.stderr).not.toMatch(/Error|error:/);
    expect(r.status).toBe(0);
    const got = lines(r.stdout);
    const compared = got.filter((l) => !l.startsWith('sandbox.'));
    // byte for byte: zlib's compressed bytes included
    expect(compared).toEqual(lines(expected));
    expect(compared.length).toBeGreaterThanOrEqual(30);
    // the warning reached its listener and was printed, as Node prints it
    expect(r.stderr).toMatch(/\[FAB001\] ExperimentalWarning: careful/);

    // what the sandbox refuses, each an error the program caught, saying what to do instead
    const sandbox = Object.fromEntries(got.filter((l) => l.startsWith('sandbox.')).map((l) => [l.slice(8, l.indexOf('=')), JSON.parse(l.slice(l.indexOf('=') + 1))]));
    expect(Object.keys(sandbox).sort()).toEqual(['dns.lookup', 'dns.promises.resolve4', 'net.connect', 'tls.connect', 'util.types.isAsyncFunction', 'v8.serialize', 'worker_threads.Worker', 'zlib.brotliCompress']);
    expect(sandbox['util.types.isAsyncFunction']).toBe(false);
    // Brotli encoding is absent (a library that looks for it chooses gzip), and importing it by name builds
    expect(sandbox['zlib.brotliCompress']).toEqual([false, 'undefined']);
    expect(sandbox['dns.lookup']).toMatchObject({ code: 'ERR_FABRICKS_UNAVAILABLE' });
    expect(sandbox['dns.lookup'].message).toMatch(/^dns lookup "example\.com" is not available inside a fabricks sandbox: .*\[capabilities\.network\] connect in fabricks\.toml/);
    expect(sandbox['dns.promises.resolve4'].message).toMatch(/^dns resolve4 "example\.com" is not available inside a fabricks sandbox/);
    expect(sandbox['net.connect'].message).toMatch(/^node:net connect\(\) to db\.internal:5432 is not available inside a fabricks sandbox: the runtime has no TCP sockets; .*\[capabilities\.network\] connect in fabricks\.toml/);
    expect(sandbox['tls.connect'].message).toMatch(/^node:tls connect\(\) to example\.com:443 is not available inside a fabricks sandbox: .*https:\/\/ requests .*\[capabilities\.network\] connect/);
    expect(sandbox['worker_threads.Worker'].message).toMatch(/^node:worker_threads Worker is not available inside a fabricks sandbox: the runtime runs one thread/);
    expect(sandbox['v8.serialize'].message).toMatch(/^node:v8 serialize\(\) is not available inside a fabricks sandbox/);
  });

  it('zlib streams stdin through gzip to the same bytes as Node', async () => {
    const input = randomBytes(300 * 1024).toString('base64');
    const [r, expected] = await Promise.all([fabricks(['run', '-q', dir, '--', 'gzip'], { input }), underNode(dir, ['gzip'], input)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected);
    expect(JSON.parse(expected.slice(expected.indexOf('=') + 1)).length).toBeGreaterThan(300 * 1024);
  });
});
