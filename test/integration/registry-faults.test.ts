import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CHUNK_SIZE as CHUNK } from '../../src/oci/registry/repository.js';
import { copyExample, fabricks, machine, storeSnapshot } from '../helpers.js';
import { startProxy, startRegistry, type CountingProxy, type RegistryServer } from '../registry-servers.js';

// Faults a real registry does not produce on demand are injected by the proxy in front of it:
// a killed registry, wrong bytes, 503s and dropped connections.
describe('registry faults', () => {
  let registry: RegistryServer;
  let proxy: CountingProxy;
  let app: string;
  let other: string;
  let builder: Awaited<ReturnType<typeof machine>>;

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    proxy = await startProxy(registry.host);
    builder = await machine({ shareStore: true });
    app = await copyExample('hello-js', 'fault-a');
    other = await copyExample('hello-js', 'fault-b');
    await writeFile(join(other, 'greet.js'), (await readFile(join(other, 'greet.js'), 'utf8')).replace('Hello', 'Hi'));
    for (const dir of [app, other]) expect((await fabricks(['build', '-q', dir])).status).toBe(0);
  });
  afterAll(async () => {
    proxy.fault = undefined;
    proxy.onUploadBytes = undefined;
    await proxy?.stop();
    await registry?.stop();
  });

  it('a push cut off by the registry dying completes when run again', async () => {
    let killed = false;
    proxy.onUploadBytes = (total) => {
      // halfway through the runtime's chunks
      if (!killed && total > 6 * 1024 * 1024) {
        killed = true;
        void registry.kill();
      }
    };
    const cut = await builder.run(['push', app, `${proxy.host}/apps/fault:1`, '--plain-http', '--json']);
    proxy.onUploadBytes = undefined;
    expect(killed).toBe(true);
    expect(cut.status).toBe(1);
    expect(cut.stderr).toContain(`registry ${proxy.host}`);
    expect(cut.stderr).toMatch(/hint: .*run the command again/);
    expect(cut.stdout).toBe('');

    await registry.start();
    const rerun = await builder.run(['push', app, `${proxy.host}/apps/fault:1`, '--plain-http', '--json']);
    expect(rerun.status, rerun.stderr).toBe(0);
    const layers = (JSON.parse(rerun.stdout) as { layers: Array<{ title: string; action: string }> }).layers;
    // the config made it before the cut and is not sent again
    expect(layers.find((l) => l.title === 'config')!.action).toBe('skipped');
    expect(layers.find((l) => l.title === 'runtime.wasm')!.action).toBe('sent');

    const fresh = await machine();
    const run = await fresh.run(['run', '-q', `${proxy.host}/apps/fault:1`, '--plain-http', '--', 'again']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Hello, again, from a WebAssembly component!');
  });

  it('an upload chunk whose answer is lost resumes from where the registry says it stands', async () => {
    const edited = await copyExample('hello-js', 'fault-chunk');
    await writeFile(join(edited, 'greet.js'), (await readFile(join(edited, 'greet.js'), 'utf8')).replace('Hello', 'Howdy'));
    // a packed data file makes the module layer a new 9 MB blob: three chunks (the runtime is mounted)
    await writeFile(join(edited, 'data.bin'), randomBytes(9 * 1024 * 1024));
    const built = await fabricks(['build', '-q', '--json', edited]);
    expect(built.status, built.stderr).toBe(0);
    expect((JSON.parse(built.stdout) as { module: { size: number } }).module.size).toBeGreaterThan(9 * 1024 * 1024);
    let patches = 0;
    // the registry stores the second chunk, but its answer never arrives
    proxy.fault = (req) => (req.method === 'PATCH' && ++patches === 2 ? { kind: 'drop-response' } : undefined);
    proxy.reset();
    const r = await builder.run(['push', edited, `${proxy.host}/apps/chunked:1`, '--plain-http', '-q', '--json']);
    proxy.fault = undefined;
    expect(r.status, r.stderr).toBe(0);
    const methods = proxy.requests.map((q) => q.method);
    // asked where the upload stands (GET on the upload URL), then went on without resending chunk 2
    expect(proxy.requests.some((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/'))).toBe(true);
    // one PATCH per 4 MiB chunk of each blob sent: none was sent twice
    const sent = (JSON.parse(r.stdout) as { layers: Array<{ action: string; size: number }> }).layers.filter((l) => l.action === 'sent' && l.size > CHUNK);
    expect(sent.length).toBeGreaterThan(0);
    expect(methods.filter((m) => m === 'PATCH')).toHaveLength(sent.reduce((n, l) => n + Math.ceil(l.size / CHUNK), 0));
    const fresh = await machine();
    const run = await fresh.run(['run', '-q', `${proxy.host}/apps/chunked:1`, '--plain-http', '--', 'chunks']);
    expect(run.stdout).toContain('Howdy, chunks');
  });

  it('a blob served with wrong bytes fails the pull with a digest error and leaves the store as it was', async () => {
    expect((await builder.run(['push', other, `${proxy.host}/apps/fault-b:1`, '--plain-http'])).status).toBe(0);
    const inspect = JSON.parse((await fabricks(['inspect', '--json', other])).stdout) as { layers: Array<{ mediaType: string; digest: string }> };
    const moduleDigest = inspect.layers.find((l) => l.mediaType.includes('module'))!.digest;

    const fresh = await machine();
    expect((await fresh.run(['pull', `${proxy.host}/apps/fault:1`, '--plain-http', '-q'])).status).toBe(0);
    const before = await storeSnapshot(fresh.home);
    proxy.fault = (req) => (req.method === 'GET' && req.url?.endsWith(`/blobs/${moduleDigest}`) ? { kind: 'corrupt' } : undefined);
    const out = join(fresh.root, 'b.wasm');
    const r = await fresh.run(['pull', `${proxy.host}/apps/fault-b:1`, '--plain-http', '-o', out]);
    proxy.fault = undefined;
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: blob ${moduleDigest} from ${proxy.host}/apps/fault-b does not match its digest`);
    expect(r.stderr).toContain('nothing was stored');
    expect(await storeSnapshot(fresh.home)).toBe(before);
    await expect(readFile(out)).rejects.toThrow();
  });

  it('retries 503s, 429s with Retry-After, and dropped connections; copies a reference by mounting', async () => {
    const fresh = await machine();
    const failed = new Set<string>();
    // each kind of request fails once, in a different way
    proxy.fault = (req) => {
      const key = `${req.method} ${req.url?.includes('/manifests/') ? 'manifest' : req.url?.includes('/blobs/uploads') ? 'upload' : 'blob'}`;
      if (failed.has(key)) return undefined;
      failed.add(key);
      if (key === 'GET manifest') return { kind: 'status', status: 503 };
      if (key === 'GET blob') return { kind: 'drop' };
      if (key === 'POST upload') return { kind: 'status', status: 429, retryAfter: '1' };
      return undefined;
    };
    proxy.reset();
    const pulled = await fresh.run(['pull', `${proxy.host}/apps/fault-b:1`, '--plain-http', '-q']);
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(failed.has('GET manifest') && failed.has('GET blob')).toBe(true);
    expect(proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/manifests/')).length).toBe(2);

    // a registry reference as the push source: copied through the local store; being on the same
    // registry, every blob is mounted from the repository it was pulled from
    const copied = await fresh.run(['push', `${proxy.host}/apps/fault-b:1`, `${proxy.host}/apps/fault-copy:1`, '--plain-http', '-q', '--json']);
    expect(copied.status, copied.stderr).toBe(0);
    expect((JSON.parse(copied.stdout) as { layers: Array<{ action: string; from?: string }> }).layers).toEqual([
      expect.objectContaining({ action: 'mounted', from: 'apps/fault-b' }),
      expect.objectContaining({ action: 'mounted', from: 'apps/fault-b' }),
      expect.objectContaining({ action: 'mounted', from: 'apps/fault-b' }),
    ]);
    const edited = await copyExample('hello-js', 'fault-c');
    await writeFile(join(edited, 'greet.js'), (await readFile(join(edited, 'greet.js'), 'utf8')).replace('Hello', 'Hey'));
    expect((await fabricks(['build', '-q', edited])).status).toBe(0);
    const r = await builder.run(['push', edited, `${proxy.host}/apps/fault-c:1`, '--plain-http', '-q']);
    proxy.fault = undefined;
    expect(r.status, r.stderr).toBe(0);
    expect(failed.has('POST upload')).toBe(true);
  });
});
