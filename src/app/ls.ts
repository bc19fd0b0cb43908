import type { Context } from '../home/context.js';
import { artifactKind, type ArtifactKind } from '../artifact/kind.js';
import { taggedArtifacts } from '../oci/store-gc.js';
import { cacheEntries } from '../engine/compiled-cache.js';
import { listNativeCache, type NativeCacheList } from './native-cache.js';

export interface StoredArtifact {
  reference: string;
  kind: ArtifactKind | 'unknown';
  /** The manifest's digest. */
  digest: string;
  /** Bytes of every blob it keeps (manifest, config, layers), shared ones included. */
  size: number;
  /** Of those, bytes of blobs another reference keeps too (an app's runtime layer). */
  shared: number;
  /** When a build, pull or run last used it (ISO 8601), if recorded. */
  lastUsed: string | null;
  /** A blob it names is missing (fabricks verify says how to restore it). */
  incomplete: boolean;
}

export interface ListResult {
  artifacts: StoredArtifact[];
  /** Bytes of the blobs the references keep, each blob counted once. */
  total: number;
  /** Blobs no reference keeps (fabricks gc removes them). */
  unreferenced: { blobs: number; bytes: number };
  /** The engine's compiled components, and the size the cache trims itself to. */
  compiledCache: { entries: number; bytes: number; limit: number };
  /** Wheels built for the runtime from source, each with what it was built from. */
  nativeCache: NativeCacheList;
}

/** What the local store holds, by reference, and what the caches take. Looking is not a use. */
export async function ls(ctx: Context): Promise<ListResult> {
  const { store } = ctx.home;
  store.leases = undefined;
  const tagged = await taggedArtifacts(store);
  const stored = new Map((await store.blobs()).map((b) => [b.digest as string, b.size]));
  const keptBy = new Map<string, number>();
  for (const t of tagged) for (const d of new Set(t.blobs.map((b) => b.digest))) keptBy.set(d, (keptBy.get(d) ?? 0) + 1);
  const artifacts: StoredArtifact[] = [];
  for (const t of tagged) {
    const kind = (t.manifest && artifactKind(t.manifest)) ?? 'unknown';
    const unique = [...new Map(t.blobs.map((b) => [b.digest as string, b.size])).entries()];
    // an app's runtime layer is used by every app on it: only a runtime's own use dates a runtime
    const own = unique.filter(([d]) => kind === 'runtime' || (keptBy.get(d) ?? 0) === 1 || d === t.descriptor.digest);
    let last: number | undefined;
    for (const [d] of own) {
      const at = await store.lastUsed(d as `sha256:${string}`);
      if (at !== undefined && (last === undefined || at > last)) last = at;
    }
    artifacts.push({
      reference: t.reference,
      kind,
      digest: t.descriptor.digest,
      size: unique.reduce((n, [, s]) => n + s, 0),
      shared: unique.filter(([d]) => (keptBy.get(d) ?? 0) > 1).reduce((n, [, s]) => n + s, 0),
      lastUsed: last === undefined ? null : new Date(last).toISOString(),
      incomplete: !t.manifest || unique.some(([d]) => !stored.has(d)),
    });
  }
  let total = 0;
  for (const d of keptBy.keys()) total += stored.get(d) ?? 0;
  const loose = [...stored.entries()].filter(([d]) => !keptBy.has(d));
  const compiled = await cacheEntries(ctx.home.compiledCacheDir);
  return {
    artifacts,
    total,
    unreferenced: { blobs: loose.length, bytes: loose.reduce((n, [, s]) => n + s, 0) },
    compiledCache: { entries: compiled.length, bytes: compiled.reduce((n, e) => n + e.bytes, 0), limit: ctx.home.cacheLimit },
    nativeCache: await listNativeCache(ctx.home),
  };
}
