import type { Context } from '../../home/context.js';
import type { WheelSharing } from '../../config/wheel-sharing.js';
import type { Descriptor } from '../../oci/content.js';
import { sha256, type Digest } from '../../oci/digest.js';
import { decodeManifest } from '../../oci/manifest.js';
import { MemoryStore } from '../../oci/memory-store.js';
import { formatReference, type Reference } from '../../oci/reference.js';
import { checkWheelFile, checkWheelManifest, storeWheelArtifact, wheelArtifactTag, type WheelIdentity } from '../../artifact/wheel.js';
import { FabricksError, isFabricksError } from '../../util/errors.js';
import { startStep } from '../../util/progress.js';

/**
 * Wheels built for the runtime, shared through the OCI repository the user names (so a team or
 * CI pays a Rust build once): pulled before a build, pushed after one when the user allows it.
 * Sharing never fails a build: a repository that cannot be reached, refuses, or holds a wheel
 * that is not the one wanted is a warning, and the wheel is built here. Only Ctrl-C stops it.
 * The transfer is the project's one (oci/transfer.ts): logins, retries, digests checked.
 */

export interface SharedWheel {
  bytes: Uint8Array;
  digest: Digest;
  /** registry/repository:tag it came from. */
  reference: string;
}

const target = (sharing: WheelSharing, id: WheelIdentity): Reference => ({ ...sharing.repository, tag: wheelArtifactTag(id) });
const subjectOf = (id: WheelIdentity) => `${id.package} ${id.version}`;

/** Says why sharing did not happen, as a warning; rethrows Ctrl-C. */
function warn(e: unknown, doing: string, reference: string, ctx: Context): void {
  if (isFabricksError(e, 'INTERRUPTED') || ctx.signal?.aborted) throw e;
  const err = e as Partial<FabricksError>;
  const message = e instanceof Error ? e.message : String(e);
  ctx.reporter({ event: 'note', code: 'wheel-share', subject: reference, detail: `${doing}: ${message}${err.hint ? ` (${err.hint})` : ''}` });
}

/**
 * The wheel for `id` from the repository, or undefined when it has none yet, or when it cannot be
 * had (a warning says why). What the tag names is checked before the wheel moves: a wheel
 * artifact for exactly these inputs and, when fabricks.lock records one, that wheel's digest;
 * the wheel's bytes are checked against its digest on arrival.
 */
export async function pullSharedWheel(sharing: WheelSharing, id: WheelIdentity, pinned: string | undefined, ctx: Context): Promise<SharedWheel | undefined> {
  const ref = target(sharing, id);
  const reference = formatReference(ref);
  let layer: Descriptor | undefined;
  let done: ReturnType<typeof startStep> | undefined;
  try {
    const { pullToStore } = await import('../../oci/transfer.js');
    const store = new MemoryStore();
    await pullToStore(ref, store, {
      registry: ctx.registry,
      reporter: ctx.reporter,
      home: ctx.home.root,
      accept: (manifest, where) => {
        layer = checkWheelManifest(manifest, id, where, pinned);
        done = startStep(ctx.reporter, 'native-pull', subjectOf(id), reference);
      },
    });
    const bytes = await store.fetch(layer!);
    await checkWheelFile(bytes, id, reference);
    done!({ digest: layer!.digest, size: layer!.size });
    return { bytes, digest: layer!.digest, reference };
  } catch (e) {
    if (isFabricksError(e, 'NOT_FOUND')) {
      ctx.reporter({ event: 'note', code: 'wheel-missing', subject: reference, detail: `not shared yet; building ${subjectOf(id)} here${sharing.push ? ', then pushing it' : ''}` });
      return undefined;
    }
    warn(e, `not taking the shared wheel of ${subjectOf(id)}; building it here`, reference, ctx);
    return undefined;
  }
}

/** What a push did: sent the wheel, found it there already, or failed (a warning said why). */
export type PushOutcome = 'sent' | 'present' | 'failed';

/**
 * Pushes the wheel for `id` unless its tag is there already: a tag that exists is never
 * replaced (machines that pulled it may have it pinned in their locks).
 */
export async function pushSharedWheel(sharing: WheelSharing, id: WheelIdentity, wheel: Uint8Array, ctx: Context): Promise<PushOutcome> {
  const ref = target(sharing, id);
  const reference = formatReference(ref);
  try {
    const { pushManifest, remoteRepository } = await import('../../oci/transfer.js');
    const present = await remoteRepository(ref, ctx.registry)
      .fetchReference(ref.tag!)
      .then(
        (m) => m,
        (e: unknown) => {
          if (isFabricksError(e, 'NOT_FOUND')) return undefined;
          throw e;
        },
      );
    if (present) {
      // there already (another machine was first): not replaced, only checked
      checkWheelManifest(decodeManifest(present.desc, present.bytes, reference), id, reference);
      return 'present';
    }
    const store = new MemoryStore();
    const root = await storeWheelArtifact(store, id, wheel);
    const done = startStep(ctx.reporter, 'native-push', subjectOf(id), reference);
    await pushManifest(store, root, ref, { registry: ctx.registry, reporter: ctx.reporter, home: ctx.home.root });
    done({ digest: sha256(wheel), size: wheel.length });
    return 'sent';
  } catch (e) {
    warn(e, `the wheel of ${subjectOf(id)} was not shared (the build goes on)`, reference, ctx);
    return 'failed';
  }
}
