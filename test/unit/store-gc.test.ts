import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayoutStore } from '../../src/oci/layout-store.js';
import { describe as describeBlob, encodeJson } from '../../src/oci/manifest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { sweepStore } from '../../src/oci/store-gc.js';
import { Leases, liveLeases } from '../../src/util/lease.js';
import { overLimit, type CacheEntry } from '../../src/engine/compiled-cache.js';
import { parseSize } from '../../src/config/size.js';

/** A store as one process sees it, with its own leases (two of them act as two processes). */
async function processOn(root: string): Promise<LayoutStore> {
  const store = await LayoutStore.open(root);
  store.leases = new Leases(store.leaseDir);
  return store;
}

/** An artifact's blobs and manifest written into the store, not tagged yet (what a build does before its tag). */
async function writeArtifact(store: LayoutStore, text: string) {
  const layer = new TextEncoder().encode(`layer ${text}`);
  const config = encodeJson({ text });
  const layerDesc = describeBlob(MediaType.moduleLayer, layer);
  const configDesc = describeBlob(MediaType.appConfig, config);
  const manifest = encodeJson({ schemaVersion: 2, mediaType: MediaType.imageManifest, config: configDesc, layers: [layerDesc] });
  const manifestDesc = describeBlob(MediaType.imageManifest, manifest);
  await store.push(layerDesc, layer);
  await store.push(configDesc, config);
  await store.push(manifestDesc, manifest);
  return { manifestDesc, digests: [manifestDesc.digest, configDesc.digest, layerDesc.digest] };
}

describe('gc of a layout store', () => {
  it('keeps what a reference keeps, removes the rest, and spares what a live process leases until it lets go', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fabricks-sweep-'));
    const gcView = await LayoutStore.open(root);
    const builder = await processOn(root);
    const kept = await writeArtifact(builder, 'kept');
    await builder.tag(kept.manifestDesc, 'kept:1');
    const loose = await writeArtifact(builder, 'loose');
    // the builder wrote these and has not tagged them yet: gc must not take them
    const first = await sweepStore(gcView);
    expect(first.blobs).toEqual([]);
    expect(first.leased).toBe(3);
    // the build tags what it wrote, after the gc: every blob is there
    await builder.tag(loose.manifestDesc, 'loose:1');
    expect((await readdir(join(root, 'blobs', 'sha256'))).sort()).toEqual([...kept.digests, ...loose.digests].map((d) => d.slice(7)).sort());

    // untagged and no longer used: the next gc removes exactly its three blobs
    await builder.untag('loose:1');
    builder.leases!.release();
    const second = await sweepStore(gcView);
    expect(second.blobs.map((b) => b.digest).sort()).toEqual([...loose.digests].sort());
    expect((await readdir(join(root, 'blobs', 'sha256'))).sort()).toEqual(kept.digests.map((d) => d.slice(7)).sort());
    expect(await sweepStore(gcView, { dryRun: true })).toMatchObject({ blobs: [], leased: 0 });
  });

  it('a dry run removes nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fabricks-sweep-'));
    const writer = await LayoutStore.open(root);
    const loose = await writeArtifact(writer, 'loose');
    const dry = await sweepStore(writer, { dryRun: true });
    expect(dry.blobs.map((b) => b.digest).sort()).toEqual([...loose.digests].sort());
    expect((await readdir(join(root, 'blobs', 'sha256'))).length).toBe(3);
  });
});

describe('leases', () => {
  it('counts a live process and drops the record of one that is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-leases-'));
    const mine = new Leases(dir);
    await mine.hold(['blob:aa']);
    const dead = spawnSync('true').pid!;
    await writeFile(join(dir, `${dead}-00000000.json`), JSON.stringify({ owner: { pid: dead, host: hostname(), since: 0 }, keys: ['blob:bb'] }));
    expect([...(await liveLeases(dir))]).toEqual(['blob:aa']);
    expect(await readdir(dir)).toHaveLength(1);
    mine.release();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('trimming by size', () => {
  const entry = (name: string, bytes: number, lastUsed: number): CacheEntry => ({ name, lease: `compiled:${name}`, dir: name, bytes, lastUsed });
  it('removes the least recently used first until the rest fit, never a kept entry', () => {
    const entries = [entry('new', 10, 3), entry('old', 10, 1), entry('mid', 10, 2), entry('leased', 10, 0)];
    expect(overLimit(entries, 40, () => false)).toEqual([]);
    expect(overLimit(entries, 25, (e) => e.name === 'leased').map((e) => e.name)).toEqual(['old', 'mid']);
    expect(overLimit(entries, 0, (e) => e.name === 'leased').map((e) => e.name)).toEqual(['old', 'mid', 'new']);
  });

  it('reads sizes as users write them', () => {
    expect(parseSize('1GiB', 'x')).toBe(1024 ** 3);
    expect(parseSize('500MB', 'x')).toBe(500_000_000);
    expect(parseSize('0', 'x')).toBe(0);
    expect(parseSize('1.5 kib', 'x')).toBe(1536);
    expect(() => parseSize('lots', 'FABRICKS_CACHE_LIMIT')).toThrow(/FABRICKS_CACHE_LIMIT is "lots", not a size/);
  });
});
