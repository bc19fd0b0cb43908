import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isFabricksError } from '../util/errors.js';
import { startStep } from '../util/progress.js';
import type { Descriptor } from '../oci/content.js';
import { fetchManifest } from '../oci/manifest.js';
import type { Context } from '../home/context.js';
import { artifactKind } from '../artifact/kind.js';

export interface VerifyResult {
  /** Blobs checked (every one hashed, whatever earlier checks said) and their bytes. */
  blobs: number;
  bytes: number;
  /** Blobs that did not match their digest: moved to `quarantine`. */
  damaged: string[];
  quarantine: string;
  /** index.json: readable, or damaged (moved aside with repair). */
  index: 'ok' | 'damaged' | 'moved-aside';
  /** References whose manifest or blobs are missing now, with what restores them. */
  broken: Array<{ reference: string; missing: string[]; restore: string }>;
  ok: boolean;
}

/** How a reference's artifact comes back: built again from its project, or pulled again. */
function restoreHint(reference: string, kind: string | undefined): string {
  if (reference.startsWith('fabricks.dev/runtimes/')) return `fabricks runtime build ${reference.split('/').pop()}`;
  if (reference.includes('/')) return `fabricks pull ${reference}`;
  return kind === 'app' || kind === undefined ? `fabricks build (in the project of ${reference})` : `fabricks pull ${reference}`;
}

/**
 * Checks the whole store: hashes every blob (damaged ones are moved aside, so builds and pulls
 * restore them), reads index.json, and lists references whose artifacts lack a blob. With
 * `repair`, a damaged index.json is moved aside (builds and pulls tag their results again).
 */
export async function verify(ctx: Context, options: { repair?: boolean } = {}): Promise<VerifyResult> {
  const { store } = ctx.home;
  // checking every blob is not a use of it: last-used records (fabricks ls, gc) stay as they were
  store.leases = undefined;
  const done = startStep(ctx.reporter, 'verify', store.root);
  const damaged: string[] = [];
  let bytes = 0;
  const blobs = await store.blobs();
  for (const blob of blobs) {
    try {
      await store.verify(blob, { force: true });
      bytes += blob.size;
    } catch (e) {
      if (!isFabricksError(e, 'STORE_CORRUPT')) throw e;
      damaged.push(blob.digest);
    }
  }
  let index: VerifyResult['index'] = 'ok';
  const broken: VerifyResult['broken'] = [];
  let references: Array<{ reference: string; descriptor: Descriptor }> = [];
  try {
    references = await store.references();
  } catch (e) {
    if (!isFabricksError(e, 'STORE_CORRUPT')) throw e;
    index = 'damaged';
    if (options.repair) {
      await rename(join(store.root, 'index.json'), join(store.root, `index.json.damaged-${Date.now()}`));
      index = 'moved-aside';
    }
  }
  for (const { reference, descriptor } of references) {
    const missing: string[] = [];
    let kind: string | undefined;
    if (!(await store.exists(descriptor))) missing.push(descriptor.digest);
    else {
      const manifest = await fetchManifest(store, descriptor, reference).catch(() => undefined);
      kind = manifest ? artifactKind(manifest) : undefined;
      for (const blob of manifest ? [manifest.config, ...manifest.layers] : []) {
        if (!(await store.exists(blob))) missing.push(blob.digest);
      }
    }
    if (missing.length > 0) broken.push({ reference, missing, restore: restoreHint(reference, kind) });
  }
  done({ size: bytes });
  return { blobs: blobs.length, bytes, damaged, quarantine: store.quarantineDir, index, broken, ok: damaged.length === 0 && index === 'ok' && broken.length === 0 };
}
