import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Descriptor, Target } from '../../src/oci/content.js';
import { LayoutStore } from '../../src/oci/layout-store.js';
import { decodeManifest, describe as describeBlob, encodeJson, pushImageManifest } from '../../src/oci/manifest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { MemoryStore } from '../../src/oci/memory-store.js';
import { RegistryClient } from '../../src/oci/registry/client.js';
import { RemoteRepository } from '../../src/oci/registry/repository.js';
import { startRegistry, type RegistryServer } from '../registry-servers.js';

/**
 * One suite, every store: what a caller of the content interfaces may rely on holds for the
 * memory store, the layout on disk and a repository of a real distribution registry alike.
 */

let registry: RegistryServer;
let repositories = 0;

beforeAll(async () => {
  registry = await startRegistry('distribution');
});
afterAll(async () => {
  await registry?.stop();
});

/** Each case gets a store of its own: a fresh folder, a fresh repository. */
const stores: Array<[string, () => Promise<Target>]> = [
  ['memory', async () => new MemoryStore()],
  ['layout', async () => LayoutStore.open(await mkdtemp(join(tmpdir(), 'fabricks-conformance-')))],
  [
    'registry (distribution)',
    async () => {
      // no credentials from this machine's Docker config; short retries
      const client = new RegistryClient(registry.host, { plainHttp: true, credential: async () => undefined, retry: { attempts: 2, baseMs: 10, maxMs: 20 } });
      return new RemoteRepository(client, `conformance/case-${++repositories}`);
    },
  ],
];

const blob = (size = 1000) => {
  const bytes = new Uint8Array(randomBytes(size));
  return { bytes, desc: describeBlob('application/octet-stream', bytes) };
};

/** A small image manifest over a fresh config and layer, stored (not tagged) in `store`. */
async function storedManifest(store: Target) {
  const layer = blob(2000);
  await store.push(layer.desc, layer.bytes);
  return pushImageManifest(store, { config: { mediaType: MediaType.appConfig, value: { id: randomBytes(8).toString('hex') } }, layers: [layer.desc] });
}

const code = (code: string) => expect.objectContaining({ name: 'FabricksError', code });

describe.each(stores)('content conformance: %s', (_name, open) => {
  let store: Target;
  beforeEach(async () => {
    store = await open();
  });

  it('a blob it lacks: exists is false and fetch is NOT_FOUND', async () => {
    const { desc } = blob();
    expect(await store.exists(desc)).toBe(false);
    await expect(store.fetch(desc)).rejects.toEqual(code('NOT_FOUND'));
  });

  it('refuses content with another digest (DIGEST_MISMATCH) and stores nothing', async () => {
    const { desc } = blob();
    const other = blob();
    await expect(store.push(desc, other.bytes)).rejects.toEqual(code('DIGEST_MISMATCH'));
    expect(await store.exists(desc)).toBe(false);
    expect(await store.exists(other.desc)).toBe(false);
    await expect(store.fetch(desc)).rejects.toEqual(code('NOT_FOUND'));
  });

  it('refuses content of another size (DIGEST_MISMATCH) and stores nothing', async () => {
    const { desc, bytes } = blob();
    await expect(store.push({ ...desc, size: desc.size + 1 }, bytes)).rejects.toEqual(code('DIGEST_MISMATCH'));
    await expect(store.push(desc, bytes.subarray(0, bytes.length - 1))).rejects.toEqual(code('DIGEST_MISMATCH'));
    expect(await store.exists(desc)).toBe(false);
  });

  it('push, then exists and fetch give back the same bytes; progress ends at the size', async () => {
    const { desc, bytes } = blob(300_000);
    const pushed: number[] = [];
    await store.push(desc, bytes, (n) => pushed.push(n));
    expect(pushed.at(-1)).toBe(desc.size);
    expect(await store.exists(desc)).toBe(true);
    const fetched: number[] = [];
    expect(Buffer.from(await store.fetch(desc, (n) => fetched.push(n))).equals(Buffer.from(bytes))).toBe(true);
    expect(fetched.at(-1)).toBe(desc.size);
  });

  it('a descriptor with the right digest but another size: exists is false, fetch is DIGEST_MISMATCH', async () => {
    const { desc, bytes } = blob();
    await store.push(desc, bytes);
    expect(await store.exists({ ...desc, size: desc.size - 1 })).toBe(false);
    await expect(store.fetch({ ...desc, size: desc.size - 1 })).rejects.toEqual(code('DIGEST_MISMATCH'));
    await expect(store.fetch({ ...desc, size: desc.size + 1 })).rejects.toEqual(code('DIGEST_MISMATCH'));
  });

  it('pushing the same blob again is harmless', async () => {
    const { desc, bytes } = blob();
    await store.push(desc, bytes);
    await store.push(desc, bytes);
    expect(await store.exists(desc)).toBe(true);
    expect(Buffer.from(await store.fetch(desc)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('pushReference, then resolve and fetchReference give back the manifest', async () => {
    const { desc, bytes } = await storedManifest(store);
    await store.pushReference(desc, bytes, 'v1');
    const resolved = await store.resolve('v1');
    expect({ mediaType: resolved.mediaType, digest: resolved.digest, size: resolved.size }).toEqual({ mediaType: MediaType.imageManifest, digest: desc.digest, size: desc.size });
    const fetched = await store.fetchReference('v1');
    expect(fetched.desc.digest).toBe(desc.digest);
    expect(fetched.desc.mediaType).toBe(MediaType.imageManifest);
    expect(Buffer.from(fetched.bytes).equals(Buffer.from(bytes))).toBe(true);
    // pushed again under the same name: still the same, no error
    await store.pushReference(desc, bytes, 'v1');
    expect((await store.resolve('v1')).digest).toBe(desc.digest);
  });

  it('tag names a stored manifest and moves when tagged again', async () => {
    const first = await storedManifest(store);
    const second = await storedManifest(store);
    await store.tag(first.desc, 'moving');
    expect((await store.resolve('moving')).digest).toBe(first.desc.digest);
    await store.tag(second.desc, 'moving');
    expect((await store.resolve('moving')).digest).toBe(second.desc.digest);
    expect(Buffer.from((await store.fetchReference('moving')).bytes).equals(Buffer.from(second.bytes))).toBe(true);
  });

  it('tag of a manifest it lacks is NOT_FOUND and names nothing', async () => {
    const bytes = encodeJson({ schemaVersion: 2, mediaType: MediaType.imageManifest, config: blob().desc, layers: [] });
    const desc = describeBlob(MediaType.imageManifest, bytes);
    await expect(store.tag(desc, 'dangling')).rejects.toEqual(code('NOT_FOUND'));
    await expect(store.resolve('dangling')).rejects.toEqual(code('NOT_FOUND'));
  });

  it('an unknown reference is NOT_FOUND from resolve and fetchReference', async () => {
    await expect(store.resolve('no-such-tag')).rejects.toEqual(code('NOT_FOUND'));
    await expect(store.fetchReference('no-such-tag')).rejects.toEqual(code('NOT_FOUND'));
  });

  it('a reference to an index resolves, but fetchReference refuses it (WRONG_KIND)', async () => {
    const manifest = await storedManifest(store);
    const bytes = encodeJson({ schemaVersion: 2, mediaType: MediaType.imageIndex, manifests: [manifest.desc] });
    const desc = describeBlob(MediaType.imageIndex, bytes);
    await store.push(desc, bytes);
    await store.tag(desc, 'an-index');
    const resolved = await store.resolve('an-index');
    expect([resolved.mediaType, resolved.digest]).toEqual([MediaType.imageIndex, desc.digest]);
    await expect(store.fetchReference('an-index')).rejects.toEqual(code('WRONG_KIND'));
  });
});

describe('decodeManifest: the one reader of manifest bytes', () => {
  const bytesOf = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
  const decode = (value: unknown, mediaType: string = MediaType.imageManifest) => {
    const bytes = bytesOf(value);
    return decodeManifest(describeBlob(mediaType, bytes), bytes, 'the test manifest');
  };
  const config: Descriptor = blob().desc;
  const good = { schemaVersion: 2, mediaType: MediaType.imageManifest, config, layers: [blob().desc] };

  it('reads an image manifest, with or without its own mediaType', () => {
    expect(decode(good).layers).toHaveLength(1);
    const { mediaType: _, ...bare } = good;
    expect(decode(bare).mediaType).toBe(MediaType.imageManifest);
  });

  it('bytes that are not an image manifest are ARTIFACT_INVALID', () => {
    for (const bad of ['not json {', '[1,2]', 'null', { ...good, layers: 'x' }, { ...good, config: undefined }, { ...good, schemaVersion: 1 }, { ...good, layers: [{ ...config, digest: 'sha256:../../etc/passwd' }] }, { ...good, layers: [{ ...config, size: -1 }] }]) {
      expect(() => decode(bad), JSON.stringify(bad)).toThrow(code('ARTIFACT_INVALID'));
    }
  });

  it('a manifest of another kind is WRONG_KIND', () => {
    expect(() => decode({ schemaVersion: 2, mediaType: MediaType.imageIndex, manifests: [] })).toThrow(code('WRONG_KIND'));
    expect(() => decode({ ...good, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' })).toThrow(code('WRONG_KIND'));
    const { mediaType: _, ...bare } = good;
    expect(() => decode(bare, MediaType.imageIndex)).toThrow(code('WRONG_KIND'));
  });
});

describe('the layout store writes nothing it refused', () => {
  it('leaves no blob and no temporary file after a DIGEST_MISMATCH', async () => {
    const store = await LayoutStore.open(await mkdtemp(join(tmpdir(), 'fabricks-conformance-')));
    const { desc } = blob();
    await expect(store.push(desc, blob().bytes)).rejects.toEqual(code('DIGEST_MISMATCH'));
    expect(await readdir(join(store.root, 'blobs', 'sha256'))).toEqual([]);
  });
});
