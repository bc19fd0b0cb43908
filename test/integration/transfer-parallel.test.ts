import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { copyExample, events, fabricks, machine, storeSnapshot } from '../helpers.js';
import { startProxy, startRegistry, type CountingProxy, type RegistryServer } from '../registry-servers.js';

interface Report {
  manifest: { digest: string };
  layers: Array<{ title: string; digest: string; size: number; action: string }>;
}

const blobRequest = (method: string) => (req: { method?: string; url?: string }) => req.method === method && /\/blobs\/sha256:/.test(req.url ?? '');

describe('blobs of an artifact move in parallel, and a pull stages them on disk', () => {
  let registry: RegistryServer;
  let proxy: CountingProxy;
  let pushed: Report;
  const reference = () => `${proxy.host}/apps/parallel:1.0`;
  const runtime = () => pushed.layers.find((l) => l.title === 'runtime.wasm')!;

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    proxy = await startProxy(registry.host);
    const dir = await copyExample('hello-js', 'parallel-app');
    const built = await fabricks(['build', '-q', dir]);
    expect(built.status, built.stderr).toBe(0);
    const builder = await machine({ shareStore: true });
    // a push asks about its three blobs at once: a push that asked one at a time never has two in flight
    proxy.gate = { match: blobRequest('HEAD'), count: 3 };
    proxy.peak = 0;
    const r = await builder.run(['push', dir, reference(), '--plain-http', '--json', '--progress', 'json']);
    proxy.gate = undefined;
    expect(r.status, r.stderr).toBe(0);
    pushed = JSON.parse(r.stdout) as Report;
    expect(proxy.peak).toBe(3);
    expect(pushed.layers.map((l) => l.action)).toEqual(['sent', 'sent', 'sent']);
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('pulls the config and both layers at once, with coherent progress, into the partial-download folder first', async () => {
    const other = await machine();
    proxy.gate = { match: blobRequest('GET'), count: 3 };
    proxy.peak = 0;
    const r = await other.run(['pull', reference(), '--plain-http', '--json', '--progress', 'json']);
    proxy.gate = undefined;
    expect(r.status, r.stderr).toBe(0);
    expect(proxy.peak).toBe(3);
    const pulled = JSON.parse(r.stdout) as Report;
    expect(pulled.manifest.digest).toBe(pushed.manifest.digest);
    // the report keeps the manifest's order whatever order the blobs finished in
    expect(pulled.layers.map((l) => l.digest)).toEqual(pushed.layers.map((l) => l.digest));
    const seen = events(r.stderr);
    for (const layer of pushed.layers) {
      const mine = seen.filter((e) => (e.event === 'blob-done' || e.event === 'blob-bytes') && e.digest === layer.digest);
      // one blob-done each, last; byte counts only grow and stay within the blob
      expect(mine.filter((e) => e.event === 'blob-done')).toHaveLength(1);
      expect(mine[mine.length - 1]).toMatchObject({ event: 'blob-done', action: 'received', size: layer.size });
      const counts = mine.flatMap((e) => (e.event === 'blob-bytes' ? [e.bytes] : []));
      expect(counts).toEqual([...counts].sort((x, y) => x - y));
      for (const n of counts) expect(n).toBeLessThanOrEqual(layer.size);
    }
    // the 12 MB runtime layer reported progress on its way
    expect(seen.some((e) => e.event === 'blob-bytes' && e.digest === runtime().digest)).toBe(true);
    // staged as files in the store's partial folder, moved into place: nothing left there
    expect(await readdir(join(other.home, 'store', '.fabricks', 'partial'))).toEqual([]);
    const ls = JSON.parse((await other.run(['ls', '--json'])).stdout) as { artifacts: Array<{ reference: string; kind: string; digest: string }> };
    expect(ls.artifacts).toEqual([expect.objectContaining({ reference: reference(), kind: 'app', digest: pushed.manifest.digest })]);
  });

  it('a pull that fails leaves the store untouched: no tag, no blob, only a staged partial file that gc removes', async () => {
    const other = await machine();
    const before = await storeSnapshot(other.home);
    let runtimeGets = 0;
    // the runtime layer is cut after 1 MiB, then refused: the other two blobs arrive whole
    proxy.fault = (req) => {
      if (req.method !== 'GET' || !req.url?.includes(runtime().digest)) return undefined;
      return runtimeGets++ === 0 ? { kind: 'cut-after', after: 1024 * 1024 } : { kind: 'status', status: 403 };
    };
    const r = await other.run(['pull', reference(), '--plain-http', '--json']);
    proxy.fault = undefined;
    expect(r.status).toBe(1);
    expect(await storeSnapshot(other.home)).toBe(before);
    const staged = join(other.home, 'store', '.fabricks', 'partial', runtime().digest.slice(7));
    const size = (await stat(staged)).size;
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThan(runtime().size);
    expect((JSON.parse((await other.run(['ls', '--json'])).stdout) as { artifacts: unknown[] }).artifacts).toEqual([]);
    const gc = JSON.parse((await other.run(['gc', '--json'])).stdout) as { store: { partial: Array<{ path: string }> } };
    expect(gc.store.partial.map((p) => p.path)).toContain(staged);
    expect(await stat(staged).catch(() => undefined)).toBeUndefined();
  });
});
