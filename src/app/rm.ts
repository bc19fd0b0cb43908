import type { Context } from '../home/context.js';
import { FabricksError, isFabricksError } from '../util/errors.js';
import { closest } from '../config/suggest.js';

export interface RmResult {
  /** The references removed, with the manifest each named. */
  removed: Array<{ reference: string; digest: string }>;
}

/**
 * Removes references from the local store. Their blobs stay until `fabricks gc` (or `rm --gc`)
 * finds that no other reference keeps them: an app's runtime layer stays while other apps use it.
 * Every reference is checked before any is removed, so a typo removes nothing.
 */
export async function rm(references: string[], ctx: Context): Promise<RmResult> {
  const { store } = ctx.home;
  store.leases = undefined;
  const known = (await store.references()).map((r) => r.reference);
  for (const ref of references) {
    if (known.includes(ref)) continue;
    const near = closest(ref, known) ?? known.find((k) => k.endsWith(`/${ref}`) || k.split(':')[0]?.endsWith(`/${ref}`));
    throw new FabricksError('NOT_FOUND', `${ref} is not in the local store (${store.root})`, {
      hint: near ? `did you mean ${near}? (fabricks ls lists what the store holds)` : 'fabricks ls lists what the store holds',
    });
  }
  const removed: RmResult['removed'] = [];
  for (const ref of references) {
    try {
      const desc = await store.untag(ref);
      removed.push({ reference: ref, digest: desc.digest });
    } catch (e) {
      // named twice, or removed by another process meanwhile: gone either way
      if (!isFabricksError(e, 'NOT_FOUND')) throw e;
    }
  }
  return { removed };
}
