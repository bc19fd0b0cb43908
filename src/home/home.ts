import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LayoutStore } from '../oci/layout-store.js';
import { fabricksHome } from '../util/paths.js';

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
  /** jco's transpiled output by component digest (engine/transpile.ts). */
  transpileCacheDir: string;
  /** Python wheels by file name, each checked against its pinned hash (builder/python-deps.ts). */
  wheelCacheDir: string;
  /** Scratch folders for compositions; on the store's file system, so results rename into place. */
  scratchDir: string;
}

export async function openHome(root: string = fabricksHome()): Promise<Home> {
  const abs = resolve(root);
  const store = await LayoutStore.open(join(abs, 'store'));
  const cache = join(abs, 'cache');
  await mkdir(cache, { recursive: true });
  return {
    root: abs,
    store,
    buildCacheDir: join(cache, 'builds'),
    transpileCacheDir: join(cache, 'transpiled'),
    wheelCacheDir: join(cache, 'wheels'),
    scratchDir: abs,
  };
}
