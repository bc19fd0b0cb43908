import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Descriptor, ManifestContent, Mounter, OnBytes, Target } from '../../src/oci/content.js';
import { copyManifest, type BlobOutcome } from '../../src/oci/copy.js';
import { LayoutStore } from '../../src/oci/layout-store.js';
import { decodeManifest, describe as describeBlob, encodeJson, pushImageManifest } from '../../src/oci/manifest.js';
import { Annotation, MediaType } from '../../src/oci/media-types.js';
import { MemoryStore } from '../../src/oci/memory-store.js';
import { formatReference, parseRemote } from '../../src/oci/reference.js';
import type { RegistryOptions } from '../../src/oci/registry/client.js';
import { CHUNK_SIZE } from '../../src/oci/registry/repository.js';
import { pullToStore, pushManifest, remoteRepository } from '../../src/oci/transfer.js';
import type { ProgressEvent } from '../../src/util/progress.js';
import { startProxy, startRegistry, type CountingProxy, type RegistryServer } from '../registry-servers.js';

const code = (code: string) => expect.objectContaining({ name: 'FabricksError', code });
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const tempStore = async () => LayoutStore.open(await mkdtemp(join(tmpdir(), 'fabricks-copy-')));

function blob(size: number, mediaType = 'application/octet-stream', title?: string) {
  const bytes = new Uint8Array(randomBytes(size));
  return { bytes, desc: describeBlob(mediaType, bytes, title ? { annotations: { [Annotation.title]: title } } : {}) };
}

/** An app-shaped artifact (config, runtime layer, module layer) stored in `store`. */
async function artifact(store: Target, sizes: { runtime: number; module: number }) {
  const runtime = blob(sizes.runtime, MediaType.runtimeLayer, 'runtime.wasm');
  const module = blob(sizes.module, MediaType.moduleLayer, 'module.wasm');
  for (const b of [runtime, module]) await store.push(b.desc, b.bytes);
  const root = await pushImageManifest(store, { config: { mediaType: MediaType.appConfig, value: { name: 'copy-test', id: randomBytes(8).toString('hex') } }, layers: [runtime.desc, module.desc] });
  const config = decodeManifest(root.desc, root.bytes, 'test').config;
  const configBytes = await store.fetch(config);
  return { root, blobs: [{ desc: config, bytes: configBytes }, runtime, module], size: config.size + runtime.desc.size + module.desc.size };
}

/**
 * A store that records what is asked of it, so a test sees what a copy did (not what it says it
 * did): a blob pushed twice, a fetch that should have been a skip, the manifest before a blob.
 */
class Recorder implements Target {
  readonly calls: string[] = [];
  /** Makes a fetch fail (a dropped registry, a lost disk), or serve other bytes. */
  breakFetch: ((desc: Descriptor) => 'fail' | 'corrupt' | undefined) | undefined;

  constructor(readonly inner: Target) {}

  count(op: string, digest?: string): number {
    return this.calls.filter((c) => c === (digest ? `${op} ${digest}` : op) || (!digest && c.startsWith(`${op} `))).length;
  }

  async exists(desc: Descriptor) {
    this.calls.push(`exists ${desc.digest}`);
    return this.inner.exists(desc);
  }
  async fetch(desc: Descriptor, onBytes?: OnBytes) {
    this.calls.push(`fetch ${desc.digest}`);
    const broken = this.breakFetch?.(desc);
    if (broken === 'fail') throw new Error('the source went away');
    const bytes = await this.inner.fetch(desc, onBytes);
    return broken === 'corrupt' ? Uint8Array.from(bytes, (b, i) => (i === 0 ? b ^ 0xff : b)) : bytes;
  }
  async push(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes) {
    this.calls.push(`push ${desc.digest}`);
    return this.inner.push(desc, content, onBytes);
  }
  async pushReference(desc: Descriptor, content: Uint8Array, reference: string) {
    this.calls.push(`pushReference ${reference}`);
    return this.inner.pushReference(desc, content, reference);
  }
  resolve(reference: string) {
    return this.inner.resolve(reference);
  }
  tag(desc: Descriptor, reference: string) {
    return this.inner.tag(desc, reference);
  }
  fetchReference(reference: string): Promise<ManifestContent> {
    return this.inner.fetchReference(reference);
  }
}

/** A destination that, like a registry, can link a blob a sibling repository holds. */
class MountingRecorder extends Recorder implements Mounter {
  constructor(
    inner: Target,
    private readonly siblings: Map<string, MemoryStore>,
  ) {
    super(inner);
  }
  async mount(desc: Descriptor, from: string): Promise<boolean> {
    this.calls.push(`mount ${desc.digest} ${from}`);
    const sibling = this.siblings.get(from);
    if (!sibling || !(await sibling.exists(desc))) return false;
    await this.inner.push(desc, await sibling.fetch(desc));
    return true;
  }
}

const actions = (outcomes: BlobOutcome[]) => outcomes.map((o) => o.action);

describe('copyManifest between stores in this process', () => {
  it('sends every blob once, the manifest last; the destination names it', async () => {
    const src = new MemoryStore();
    const a = await artifact(src, { runtime: 50_000, module: 3_000 });
    const dst = new Recorder(await tempStore());
    const result = await copyManifest(src, dst, a.root, 'app:1', 'app:1');
    expect(actions(result.blobs)).toEqual(['sent', 'sent', 'sent']);
    expect(result.blobs.map((o) => o.desc.digest)).toEqual(a.blobs.map((b) => b.desc.digest));
    expect(result.bytes).toBe(a.size + a.root.bytes.length);
    for (const b of a.blobs) {
      expect(dst.count('push', b.desc.digest)).toBe(1);
      expect(same(await dst.inner.fetch(b.desc), b.bytes)).toBe(true);
    }
    expect(dst.calls.at(-1)).toBe('pushReference app:1');
    const named = await dst.inner.fetchReference('app:1');
    expect(named.desc.digest).toBe(a.root.desc.digest);
    expect(same(named.bytes, a.root.bytes)).toBe(true);
  });

  it('a second copy skips every blob: nothing fetched, nothing pushed but the manifest', async () => {
    const src = new Recorder(new MemoryStore());
    const a = await artifact(src.inner, { runtime: 20_000, module: 2_000 });
    const dst = new Recorder(await tempStore());
    await copyManifest(src, dst, a.root, 'app:1', 'app:1');
    src.calls.length = 0;
    dst.calls.length = 0;
    const again = await copyManifest(src, dst, a.root, 'app:1', 'app:1');
    expect(actions(again.blobs)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(again.bytes).toBe(a.root.bytes.length);
    expect(src.count('fetch')).toBe(0);
    expect(dst.count('push')).toBe(0);
    expect(dst.calls.at(-1)).toBe('pushReference app:1');
  });

  it('a blob a manifest names twice moves once', async () => {
    const src = new MemoryStore();
    const layer = blob(10_000);
    const config = blob(100, MediaType.appConfig);
    for (const b of [layer, config]) await src.push(b.desc, b.bytes);
    const bytes = encodeJson({ schemaVersion: 2, mediaType: MediaType.imageManifest, config: config.desc, layers: [layer.desc, layer.desc] });
    const root = { desc: describeBlob(MediaType.imageManifest, bytes), bytes };
    const dst = new Recorder(new MemoryStore());
    const result = await copyManifest(src, dst, root, 'twice', 'twice');
    expect(result.blobs).toHaveLength(2);
    expect(dst.count('push', layer.desc.digest)).toBe(1);
    expect(result.bytes).toBe(layer.desc.size + config.desc.size + bytes.length);
  });

  it('mounts what a sibling repository holds and sends the rest; a destination that cannot mount is sent everything', async () => {
    const src = new Recorder(new MemoryStore());
    const a = await artifact(src.inner, { runtime: 40_000, module: 1_000 });
    const runtime = a.blobs[1]!;
    const sibling = new MemoryStore();
    await sibling.push(runtime.desc, runtime.bytes);
    const dst = new MountingRecorder(new MemoryStore(), new Map([['apps/other', sibling]]));
    const tried: string[] = [];
    const result = await copyManifest(src, dst, a.root, '1', 'apps/new:1', {
      mountFrom: (d) => {
        tried.push(d.digest);
        return ['apps/empty', 'apps/other'];
      },
    });
    const mounted = result.blobs.find((o) => o.desc.digest === runtime.desc.digest)!;
    expect(mounted).toMatchObject({ action: 'mounted', from: 'apps/other', bytes: 0 });
    expect(actions(result.blobs).filter((x) => x === 'sent')).toHaveLength(2);
    expect(src.count('fetch', runtime.desc.digest)).toBe(0);
    expect(dst.count('push', runtime.desc.digest)).toBe(0);
    expect(result.bytes).toBe(a.size - runtime.desc.size + a.root.bytes.length);
    expect(same(await dst.inner.fetch(runtime.desc), runtime.bytes)).toBe(true);
    // every missing blob was offered for a mount, in order
    expect(tried).toEqual(a.blobs.map((b) => b.desc.digest));

    const plain = new Recorder(new MemoryStore());
    const sent = await copyManifest(src, plain, a.root, '1', 'apps/new:1', { mountFrom: () => ['apps/other'] });
    expect(actions(sent.blobs)).toEqual(['sent', 'sent', 'sent']);
  });

  it('a copy cut off names nothing; run again it skips what arrived and completes', async () => {
    const src = new Recorder(new MemoryStore());
    const a = await artifact(src.inner, { runtime: 30_000, module: 2_000 });
    const [config, runtime, module] = a.blobs as [(typeof a.blobs)[0], (typeof a.blobs)[0], (typeof a.blobs)[0]];
    src.breakFetch = (d) => (d.digest === module.desc.digest ? 'fail' : undefined);
    const dst = new Recorder(await tempStore());
    await expect(copyManifest(src, dst, a.root, 'app:1', 'app:1')).rejects.toThrow('the source went away');
    expect(dst.count('pushReference')).toBe(0);
    await expect(dst.inner.resolve('app:1')).rejects.toEqual(code('NOT_FOUND'));
    expect(await dst.inner.exists(runtime.desc)).toBe(true);

    src.breakFetch = undefined;
    const again = await copyManifest(src, dst, a.root, 'app:1', 'app:1');
    expect(again.blobs.map((o) => [o.desc.digest, o.action])).toEqual([
      [config.desc.digest, 'skipped'],
      [runtime.desc.digest, 'skipped'],
      [module.desc.digest, 'sent'],
    ]);
    expect((await dst.inner.resolve('app:1')).digest).toBe(a.root.desc.digest);
  });

  it('stageFirst: a copy that fails leaves the destination as it was', async () => {
    for (const broken of ['fail', 'corrupt'] as const) {
      const src = new Recorder(new MemoryStore());
      const a = await artifact(src.inner, { runtime: 30_000, module: 2_000 });
      const last = a.blobs[2]!;
      src.breakFetch = (d) => (d.digest === last.desc.digest ? broken : undefined);
      const layout = await tempStore();
      const dst = new Recorder(layout);
      const failed = copyManifest(src, dst, a.root, 'app:1', 'app:1', { stageFirst: true });
      if (broken === 'fail') await expect(failed).rejects.toThrow('the source went away');
      else await expect(failed).rejects.toEqual(code('DIGEST_MISMATCH'));
      // the first blobs were fetched, yet nothing was written
      expect(src.count('fetch', a.blobs[0]!.desc.digest)).toBe(1);
      expect(dst.count('push')).toBe(0);
      expect(dst.count('pushReference')).toBe(0);
      expect(await readdir(join(layout.root, 'blobs', 'sha256'))).toEqual([]);
      expect(await layout.references()).toEqual([]);
    }
  });

  it('without stageFirst, a source that serves wrong bytes is stopped by the destination: DIGEST_MISMATCH, that blob not stored', async () => {
    const src = new Recorder(new MemoryStore());
    const a = await artifact(src.inner, { runtime: 30_000, module: 2_000 });
    const runtime = a.blobs[1]!;
    src.breakFetch = (d) => (d.digest === runtime.desc.digest ? 'corrupt' : undefined);
    const dst = new Recorder(new MemoryStore());
    await expect(copyManifest(src, dst, a.root, 'app:1', 'app:1')).rejects.toEqual(code('DIGEST_MISMATCH'));
    expect(await dst.inner.exists(runtime.desc)).toBe(false);
    expect(dst.count('pushReference')).toBe(0);
  });

  it('refuses a root that is not an image manifest before touching either store', async () => {
    const src = new Recorder(new MemoryStore());
    const dst = new Recorder(new MemoryStore());
    const index = encodeJson({ schemaVersion: 2, mediaType: MediaType.imageIndex, manifests: [] });
    await expect(copyManifest(src, dst, { desc: describeBlob(MediaType.imageIndex, index), bytes: index }, 'x', 'an index')).rejects.toEqual(code('WRONG_KIND'));
    const garbage = new TextEncoder().encode('{"schemaVersion":2,');
    await expect(copyManifest(src, dst, { desc: describeBlob(MediaType.imageManifest, garbage), bytes: garbage }, 'x', 'garbage')).rejects.toEqual(code('ARTIFACT_INVALID'));
    expect([...src.calls, ...dst.calls]).toEqual([]);
  });
});

describe('pushManifest and pullToStore through a real registry', () => {
  let registry: RegistryServer;
  let proxy: CountingProxy;
  let home: string;
  let source: LayoutStore;
  let app: Awaited<ReturnType<typeof artifact>>;
  const events: ProgressEvent[] = [];
  const reporter = (e: ProgressEvent) => void events.push(e);
  const options: RegistryOptions = { plainHttp: true, credential: async () => undefined, retry: { attempts: 2, baseMs: 10, maxMs: 20 } };
  const ref = (path: string) => parseRemote(`${proxy.host}/${path}`, 'the test reference');
  const pushOptions = () => ({ registry: options, reporter, home });

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    proxy = await startProxy(registry.host);
    home = await mkdtemp(join(tmpdir(), 'fabricks-copy-home-'));
    source = await tempStore();
    // a runtime larger than one upload chunk, so the chunked upload is part of the round trip
    app = await artifact(source, { runtime: CHUNK_SIZE + 300_000, module: 80_000 });
    await source.tag(app.root.desc, 'copy-test:1');
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('push sends every blob; the registry holds them and the manifest under the tag', async () => {
    proxy.reset();
    events.length = 0;
    const report = await pushManifest(source, await source.fetchReference('copy-test:1'), ref('apps/one:1'), pushOptions());
    expect(report.layers.map((l) => [l.digest, l.action, l.bytes])).toEqual(app.blobs.map((b) => [b.desc.digest, 'sent', b.desc.size]));
    expect(report.layers.map((l) => l.title)).toEqual(['config', 'runtime.wasm', 'module.wasm']);
    expect(report.bytes).toBe(app.size + app.root.bytes.length);
    expect(report.manifest.digest).toBe(app.root.desc.digest);
    // counted on the wire, not taken from the report
    expect(proxy.counts().sent).toBeGreaterThan(app.size);
    const repo = remoteRepository(ref('apps/one:1'), options);
    for (const b of app.blobs) expect(await repo.exists(b.desc)).toBe(true);
    expect((await repo.resolve('1')).digest).toBe(app.root.desc.digest);
    // progress: one blob-done per blob, saying what the report says (blobs move in parallel: in any order)
    const done = events.filter((e) => e.event === 'blob-done');
    const pairs = (xs: string[][]) => xs.map((x) => x.join(' ')).sort();
    expect(pairs(done.map((e) => (e.event === 'blob-done' ? [e.digest, e.action] : [])))).toEqual(pairs(app.blobs.map((b) => [b.desc.digest, 'sent'])));
  });

  it('push again skips every blob: only the manifest crosses', async () => {
    proxy.reset();
    const report = await pushManifest(source, await source.fetchReference('copy-test:1'), ref('apps/one:1'), pushOptions());
    expect(report.layers.map((l) => l.action)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(report.bytes).toBe(app.root.bytes.length);
    expect(proxy.counts().sent).toBeLessThan(50_000);
    expect(proxy.requests.filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/')))).toEqual([]);
  });

  it('push to another repository of the registry mounts the blobs instead of sending them', async () => {
    proxy.reset();
    const report = await pushManifest(source, await source.fetchReference('copy-test:1'), ref('apps/two:1'), pushOptions());
    expect(report.layers.map((l) => [l.action, l.from])).toEqual(app.blobs.map(() => ['mounted', 'apps/one']));
    expect(report.bytes).toBe(app.root.bytes.length);
    expect(proxy.counts().sent).toBeLessThan(50_000);
    const repo = remoteRepository(ref('apps/two:1'), options);
    for (const b of app.blobs) expect(await repo.exists(b.desc)).toBe(true);
  });

  it('pull into a fresh layout store receives every blob and names the manifest by its full reference', async () => {
    const store = await tempStore();
    proxy.reset();
    const pulled = await pullToStore(ref('apps/two:1'), store, pushOptions());
    expect(pulled.layers.map((l) => [l.digest, l.action])).toEqual(app.blobs.map((b) => [b.desc.digest, 'sent']));
    expect(pulled.storeReference).toBe(formatReference(ref('apps/two:1')));
    expect(pulled.manifestValue.layers.map((l) => l.digest)).toEqual(app.blobs.slice(1).map((b) => b.desc.digest));
    expect(proxy.counts().received).toBeGreaterThan(app.size);
    const named = await store.fetchReference(pulled.storeReference);
    expect(same(named.bytes, app.root.bytes)).toBe(true);
    for (const b of app.blobs) expect(same(await store.fetch(b.desc), b.bytes)).toBe(true);

    proxy.reset();
    const again = await pullToStore(ref('apps/two:1'), store, pushOptions());
    expect(again.layers.map((l) => l.action)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(proxy.counts().received).toBeLessThan(50_000);
  });

  it('a pull that fails leaves the store unchanged: bytes corrupted on the way, a missing tag, an index, a refused kind', async () => {
    const store = await tempStore();
    const unchanged = async () => {
      expect(await readdir(join(store.root, 'blobs', 'sha256'))).toEqual([]);
      expect(await store.references()).toEqual([]);
    };
    // the last blob arrives damaged, after the others were fetched and checked
    const module = app.blobs[2]!.desc.digest;
    proxy.fault = (req) => (req.method === 'GET' && req.url?.endsWith(`/blobs/${module}`) ? { kind: 'corrupt' } : undefined);
    try {
      await expect(pullToStore(ref('apps/two:1'), store, pushOptions())).rejects.toEqual(code('DIGEST_MISMATCH'));
    } finally {
      proxy.fault = undefined;
    }
    expect(proxy.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${app.blobs[1]!.desc.digest}`))).toBe(true);
    await unchanged();

    await expect(pullToStore(ref('apps/two:no-such-tag'), store, pushOptions())).rejects.toEqual(code('NOT_FOUND'));
    await unchanged();

    // an index over the app's manifest, in the repository that holds it
    const index = encodeJson({ schemaVersion: 2, mediaType: MediaType.imageIndex, manifests: [app.root.desc] });
    await remoteRepository(ref('apps/two:index'), options).pushReference(describeBlob(MediaType.imageIndex, index), index, 'index');
    await expect(pullToStore(ref('apps/two:index'), store, pushOptions())).rejects.toEqual(code('WRONG_KIND'));
    await unchanged();

    const refuse = () => {
      throw new Error('not what this command takes');
    };
    await expect(pullToStore(ref('apps/two:1'), store, { ...pushOptions(), accept: refuse })).rejects.toThrow('not what this command takes');
    await unchanged();
  });
});
