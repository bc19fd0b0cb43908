import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LayoutStore } from '../oci/layout-store.js';
import { parseSize } from '../config/size.js';

export { parseSize };
import { fabricksHome } from '../util/paths.js';
import { Leases } from '../util/lease.js';

/** The compiled cache's size when FABRICKS_CACHE_LIMIT does not say: a few dozen runtimes' worth. */
export const DEFAULT_CACHE_LIMIT = 1024 ** 3;

/**
 * `$FABRICKS_HOME` opened: the local OCI store and the caches keyed by content. Everything that
 * reads or writes the home gets it from here, so its layout is written down once. (What pushes
 * and pulls remember in the home root, blob locations and upload sessions, is oci/transfer's,
 * given `root`.)
 */
export interface Home {
  root: string;
  store: LayoutStore;
  /** Build records by build key (builder/cache.ts). */
  buildCacheDir: string;
  /** Components compiled by the engine for this machine, by component digest (engine/compiled-cache.ts). */
  compiledCacheDir: string;
  /**
   * The compiled cache is shared with other homes (FABRICKS_COMPILED_CACHE): gc cannot see what
   * they reference, so it only trims by size there.
   */
  compiledCacheShared: boolean;
  /** Python wheels by file name, each checked against its pinned hash (src/runtimes/python/dependencies.ts). */
  wheelCacheDir: string;
  /**
   * Wheels of compiled Python dependencies built for the runtime, by (sdist, toolchain, CPython)
   * (src/runtimes/python/native.ts); FABRICKS_NATIVE_CACHE may share one between homes and machines.
   */
  nativeCacheDir: string;
  /** The native cache is FABRICKS_NATIVE_CACHE's, maybe shared with other homes: gc cannot see what they use, so it removes only what no build of this fabricks would use. */
  nativeCacheShared: boolean;
  /** Scratch folders for compositions; on the store's file system, so results rename into place. */
  scratchDir: string;
  /** What this process uses (blobs, compiled components): a gc elsewhere spares it. */
  leases: Leases;
  /** Bytes the compiled cache may hold before it trims itself, least recently used first. */
  cacheLimit: number;
}

/** FABRICKS_CACHE_LIMIT (e.g. 500MB, 2GiB), else the default. */
export function cacheLimit(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.FABRICKS_CACHE_LIMIT;
  return v === undefined || v === '' ? DEFAULT_CACHE_LIMIT : parseSize(v, 'FABRICKS_CACHE_LIMIT');
}

/** The wasmtime fabricks' engine is built on (crates/engine/Cargo.toml pins the same). */
export const WASMTIME_VERSION = '48.0.8';
/** The engine's compiled components: their format changes with each wasmtime version. */
export const COMPILED_LAYOUT = `compiled-wasmtime-${WASMTIME_VERSION}`;
/** Cache folders of older engines and layouts, which nothing reads any more (gc removes them). */
export const OLD_CACHE_LAYOUTS = ['transpiled', 'transpiled-v2', 'compiled-wasmtime-50.0.1'];

export async function openHome(root: string = fabricksHome()): Promise<Home> {
  const abs = resolve(root);
  const store = await LayoutStore.open(join(abs, 'store'));
  const cache = join(abs, 'cache');
  // compiled code is derived from content alone, so several homes on a machine (CI jobs, tests)
  // may share it; everything else stays in the home
  const shared = process.env.FABRICKS_COMPILED_CACHE || undefined;
  await mkdir(cache, { recursive: true });
  const leases = new Leases(store.leaseDir);
  store.leases = leases;
  return {
    root: abs,
    store,
    buildCacheDir: join(cache, 'builds'),
    compiledCacheDir: join(shared ? resolve(shared) : cache, COMPILED_LAYOUT),
    compiledCacheShared: Boolean(shared),
    wheelCacheDir: join(cache, 'wheels'),
    nativeCacheDir: process.env.FABRICKS_NATIVE_CACHE ? resolve(process.env.FABRICKS_NATIVE_CACHE) : join(cache, 'native'),
    nativeCacheShared: Boolean(process.env.FABRICKS_NATIVE_CACHE),
    scratchDir: abs,
    leases,
    cacheLimit: cacheLimit(),
  };
}
