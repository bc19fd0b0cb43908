import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Context } from '../home/context.js';
import { OLD_CACHE_LAYOUTS } from '../home/home.js';
import { artifactKind } from '../artifact/kind.js';
import type { AppConfig } from '../artifact/app.js';
import { fetchJson } from '../oci/manifest.js';
import { digestHex, type Digest } from '../oci/digest.js';
import { sweepStore, type TaggedArtifact } from '../oci/store-gc.js';
import { BlobLocations } from '../oci/locations.js';
import { UploadSessionFile } from '../oci/registry/upload-sessions.js';
import { uploadSessionsFile } from '../oci/transfer.js';
import { cacheEntries, overLimit, removeEntry, strayFolders, type CacheEntry } from '../engine/compiled-cache.js';
import { liveLeases } from '../util/lease.js';
import { withFileLock } from '../util/file-lock.js';
import { sweepNativeCache, type NativeGc } from './native-cache.js';
import { sweepPackages } from './package-cache.js';

export interface GcOptions {
  dryRun?: boolean;
  /** The compiled cache's size limit for this gc (default: the home's, FABRICKS_CACHE_LIMIT). */
  cacheLimit?: number;
}

export interface GcResult {
  dryRun: boolean;
  store: {
    /** Unreferenced blobs removed. */
    blobs: Array<{ digest: string; size: number }>;
    /** Unreferenced blobs a live build, pull or run uses: kept. */
    leased: number;
    partial: Array<{ path: string; bytes: number }>;
    quarantine: Array<{ path: string; bytes: number }>;
    temporary: Array<{ path: string; bytes: number }>;
  };
  /** The engine's compiled components. */
  compiled: {
    removed: Array<{ digest: string; bytes: number; reason: 'unreferenced' | 'over-limit' }>;
    /** Entries in use by a live run or build: kept whatever the limit. */
    leased: number;
    /** What the cache holds after the gc, and its limit. */
    bytes: number;
    limit: number;
  };
  /** Wheels built for the runtime from source (home/native-cache.ts). */
  native: NativeGc;
  /** Build records whose artifact is no longer stored. */
  buildRecords: number;
  /** Installs of packages built by name whose app is no longer stored, or that were interrupted (app/package-cache.ts). */
  packages: string[];
  /** blob-locations.json and uploads.json entries of blobs no longer stored. */
  locations: number;
  uploads: number;
  /** Bytes removed (or, dry, that would be). */
  freed: number;
}

/**
 * Removes what nothing references, then trims the compiled cache to its limit, least recently
 * used first, and the native wheel cache to what a build still needs (app/native-cache.ts); anything a live fabricks process uses is spared (see oci/store-gc.ts). One gc at a
 * time per home. With dryRun, says what it would remove and removes nothing.
 */
export async function gc(ctx: Context, options: GcOptions = {}): Promise<GcResult> {
  const { home } = ctx;
  const dryRun = Boolean(options.dryRun);
  const limit = options.cacheLimit ?? home.cacheLimit;
  // looking at blobs to decide is not a use of them
  home.store.leases = undefined;
  // a home nothing was stored in yet has no state folder for the lock
  await mkdir(home.store.stateDir, { recursive: true });
  return withFileLock(join(home.store.stateDir, 'gc.lock'), async () => {
    const sweep = await sweepStore(home.store, { dryRun });
    const present = (d: string) => sweep.present.has(d);

    const { removed: buildRecords, wheels } = await sweepBuildRecords(home.buildCacheDir, present, dryRun);
    const native = await sweepNativeCache(home, wheels, dryRun);
    const packages = await sweepPackages(ctx, dryRun);

    const components = await referencedComponents(ctx, sweep.tagged);
    const entries = await cacheEntries(home.compiledCacheDir);
    const leased = await liveLeases(home.store.leaseDir);
    const isLeased = (e: CacheEntry) => leased.has(e.lease);
    const removed: GcResult['compiled']['removed'] = [];
    const drop = async (e: CacheEntry, reason: 'unreferenced' | 'over-limit') => {
      if (dryRun || (await removeEntry(e, home.store.leaseDir))) removed.push({ digest: `sha256:${e.name}`, bytes: e.bytes, reason });
    };
    const kept: CacheEntry[] = [];
    for (const e of entries) {
      if (!home.compiledCacheShared && !components.has(e.name) && !isLeased(e)) await drop(e, 'unreferenced');
      else kept.push(e);
    }
    for (const e of overLimit(kept, limit, isLeased)) await drop(e, 'over-limit');
    for (const path of await strayFolders(home.compiledCacheDir)) if (!dryRun) await rm(path, { recursive: true, force: true });
    // whole caches of older engines and layouts: nothing loads them any more
    for (const old of OLD_CACHE_LAYOUTS) if (!dryRun) await rm(join(dirname(home.compiledCacheDir), old), { recursive: true, force: true });
    const gone = new Set(removed.map((r) => r.digest));

    const locations = await BlobLocations.at(home.root).prune(present, dryRun);
    const uploads = await new UploadSessionFile(uploadSessionsFile(home.root)).prune(present, dryRun);

    const sum = (xs: Array<{ bytes: number } | { size: number }>) => xs.reduce((n, x) => n + ('bytes' in x ? x.bytes : x.size), 0);
    const store = { blobs: sweep.blobs, leased: sweep.leased, partial: sweep.partial, quarantine: sweep.quarantine, temporary: sweep.temporary };
    return {
      dryRun,
      store,
      compiled: { removed, leased: entries.filter(isLeased).length, bytes: sum(entries.filter((e) => !gone.has(`sha256:${e.name}`))), limit },
      native,
      buildRecords,
      packages,
      locations,
      uploads,
      freed: sum(store.blobs) + sum(store.partial) + sum(store.quarantine) + sum(store.temporary) + sum(removed) + sum(native.removed),
    };
  });
}

/** Digests (hex) whose compiled form is worth keeping: every stored blob a reference keeps, and apps' components. */
async function referencedComponents(ctx: Context, tagged: TaggedArtifact[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const t of tagged) {
    for (const b of t.blobs) out.add(digestHex(b.digest));
    if (t.manifest && artifactKind(t.manifest) === 'app') {
      const config = await fetchJson<AppConfig>(ctx.home.store, t.manifest.config).catch(() => undefined);
      if (config?.component?.digest) out.add(digestHex(config.component.digest as Digest));
    }
  }
  return out;
}

/**
 * Build records, and projects' fingerprints (builder/fingerprint.ts), whose manifest the store
 * no longer holds: a build would redo them anyway. The others keep the native wheels their
 * builds used: their digests.
 */
async function sweepBuildRecords(dir: string, present: (d: string) => boolean, dryRun: boolean): Promise<{ removed: number; wheels: Set<string> }> {
  let n = 0;
  const wheels = new Set<string>();
  const files = async (d: string) => (await readdir(d).catch(() => [] as string[])).filter((name) => name.endsWith('.json')).map((name) => join(d, name));
  for (const path of [...(await files(dir)), ...(await files(join(dir, 'projects')))]) {
    const record = await readFile(path, 'utf8').then((t) => JSON.parse(t) as { manifest?: { digest?: string }; result?: { manifest?: { digest?: string } }; wheels?: unknown }, () => undefined);
    const digest = record?.manifest?.digest ?? record?.result?.manifest?.digest;
    if (digest && present(digest)) {
      if (Array.isArray(record?.wheels)) for (const w of record.wheels) if (typeof w === 'string') wheels.add(w);
      continue;
    }
    n++;
    if (!dryRun) await rm(path, { force: true });
  }
  return { removed: n, wheels };
}
