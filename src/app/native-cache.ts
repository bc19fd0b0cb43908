import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Home } from '../home/home.js';
import { C_LIBRARIES } from '../tools/openssl-wasm.js';
import { BUILD_LOCK, cargoTargetDir, isCurrent, nativeEntries, nativeScratch, treeBytes, type NativeEntry } from '../home/native-cache.js';
import { removeEntry, strayFolders } from '../engine/compiled-cache.js';
import { nativeToolchainsId } from '../tools/native-toolchains.js';
import { liveLeases } from '../util/lease.js';
import { withFileLock } from '../util/file-lock.js';
import { isFabricksError } from '../util/errors.js';

/**
 * The native wheel cache as `fabricks ls` shows it and `fabricks gc` trims it: what each entry
 * was built from, and which a build still needs. A build of this fabricks looks up only entries of
 * its own toolchains, and a stored app keeps the wheels it was built with (its build record names
 * them); entries of another toolchain, broken ones, and ones no stored app was built with go,
 * unless a live process leases them (the same leases and removal as the compiled cache's).
 */

export interface NativeCacheItem {
  /** The build's action key (the entry's folder). */
  key: string;
  package: string | null;
  version: string | null;
  /** The sdist's file name, when recorded, and its sha256. */
  sdist: string | null;
  sdistSha256: string | null;
  /** The toolchains that built it: recorded, or this fabricks's when the key says so; null when neither tells. */
  toolchain: string | null;
  /** The runtime it is for, as layers name runtimes. */
  runtime: string | null;
  wheel: string | null;
  digest: string | null;
  bytes: number;
  /** ISO 8601. */
  lastUsed: string;
  /** A build of this fabricks would use it (same toolchains). */
  current: boolean;
}

export interface NativeCacheList {
  dir: string;
  /** FABRICKS_NATIVE_CACHE, which other homes may use too. */
  shared: boolean;
  entries: NativeCacheItem[];
  /** Bytes of the entries. */
  bytes: number;
  /** Bytes of cargo's compiled crates (kept: deleting them costs the next Rust build about a minute). */
  cargoTarget: number;
  /** Bytes of the C libraries built for WebAssembly (OpenSSL; kept, as cargo's folder is: a rebuild takes about a minute). */
  cLibraries: number;
}

export type NativeRemoval = 'unreferenced' | 'stale' | 'incomplete';

export interface NativeGc {
  removed: Array<{ key: string; package: string | null; version: string | null; bytes: number; reason: NativeRemoval }>;
  /** Entries a live build leases: kept. */
  leased: number;
  /** Bytes the entries take after the gc. */
  bytes: number;
  /** Scratch folders of builds that ended without cleaning up. */
  scratch: number;
  shared: boolean;
  cargoTarget: number;
  cLibraries: number;
}

function item(e: NativeEntry, toolchain: string): NativeCacheItem {
  const current = isCurrent(e, toolchain);
  return {
    key: e.name,
    package: e.record?.package ?? null,
    version: e.record?.version ?? null,
    sdist: e.record?.sdistFile ?? null,
    sdistSha256: e.record?.sdist ?? null,
    toolchain: e.record?.toolchain ?? (current ? toolchain : null),
    runtime: e.runtime ?? null,
    wheel: e.file ?? null,
    digest: e.digest ?? null,
    bytes: e.bytes,
    lastUsed: new Date(e.lastUsed).toISOString(),
    current,
  };
}

export async function listNativeCache(home: Home): Promise<NativeCacheList> {
  const toolchain = nativeToolchainsId();
  const entries = (await nativeEntries(home.nativeCacheDir)).map((e) => item(e, toolchain));
  return {
    dir: home.nativeCacheDir,
    shared: home.nativeCacheShared,
    entries,
    bytes: entries.reduce((n, e) => n + e.bytes, 0),
    cargoTarget: await treeBytes(cargoTargetDir(home.nativeCacheDir)),
    cLibraries: await treeBytes(join(home.nativeCacheDir, C_LIBRARIES)),
  };
}

/** Why an entry goes, or undefined when it stays. `referenced`: digests of wheels a stored app was built with. */
function removal(e: NativeEntry, toolchain: string, referenced: Set<string>, shared: boolean): NativeRemoval | undefined {
  if (!e.file || !e.record || !e.digest) return 'incomplete';
  if (!isCurrent(e, toolchain)) return 'stale';
  // a shared cache serves other homes, whose apps this gc cannot see
  if (!shared && !referenced.has(e.digest)) return 'unreferenced';
  return undefined;
}

export async function sweepNativeCache(home: Home, referenced: Set<string>, dryRun: boolean): Promise<NativeGc> {
  const dir = home.nativeCacheDir;
  const toolchain = nativeToolchainsId();
  const entries = await nativeEntries(dir);
  const leased = await liveLeases(home.store.leaseDir);
  const removed: NativeGc['removed'] = [];
  const gone = new Set<string>();
  for (const e of entries) {
    if (leased.has(e.lease)) continue;
    const reason = removal(e, toolchain, referenced, home.nativeCacheShared);
    if (!reason) continue;
    if (dryRun || (await removeEntry(e, home.store.leaseDir))) {
      removed.push({ key: e.name, package: e.record?.package ?? null, version: e.record?.version ?? null, bytes: e.bytes, reason });
      gone.add(e.name);
    }
  }
  const left = await nativeScratch(dir);
  let scratch = 0;
  if (left.length) {
    // a build's scratch folder lives while it holds the build lock: taken at once, none is running
    await withFileLock(
      join(dir, BUILD_LOCK),
      async () => {
        scratch = left.length;
        if (!dryRun) for (const p of left) await rm(p, { recursive: true, force: true });
      },
      { timeoutMs: 0 },
    ).catch((e: unknown) => {
      if (!isFabricksError(e, 'LOCKED')) throw e;
    });
  }
  // entries a gc that died had moved aside
  if (!dryRun) for (const p of await strayFolders(dir)) await rm(p, { recursive: true, force: true });
  return {
    removed,
    leased: entries.filter((e) => leased.has(e.lease)).length,
    bytes: entries.filter((e) => !gone.has(e.name)).reduce((n, e) => n + e.bytes, 0),
    scratch,
    shared: home.nativeCacheShared,
    cargoTarget: await treeBytes(cargoTargetDir(dir)),
    cLibraries: await treeBytes(join(dir, C_LIBRARIES)),
  };
}
