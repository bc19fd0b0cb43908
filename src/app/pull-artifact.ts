import type { Descriptor } from '../oci/content.js';
import { isFabricksError } from '../util/errors.js';
import { formatReference, withDefaultTag, type Reference } from '../oci/reference.js';
import { pullToStore, type PulledManifest } from '../oci/transfer.js';
import type { Context } from '../home/context.js';
import { loadApp, type StoredApp } from '../artifact/app.js';
import { requireKind, type ArtifactKind } from '../artifact/kind.js';
import { recompose } from '../artifact/recompose.js';
import { validateLayer } from '../artifact/validate.js';

export interface PulledArtifact {
  pulled: PulledManifest;
  kind: ArtifactKind;
  /** The manifest as stored. */
  manifest: Descriptor;
  app?: StoredApp;
  /** An app's component, when this pull recomposed it to check it. */
  component?: Uint8Array;
}

/**
 * Pulls an artifact into the local store and checks it before naming it: its kind from the
 * manifest before any blob moves, each Wasm layer parsed as a component before it enters the
 * store, and an app recomposed to the digest its config records before its reference is tagged.
 * A pull that fails any of these leaves the local index as it was.
 */
export async function pullArtifact(ref: Reference, ctx: Context, accept: ArtifactKind[], hint?: string): Promise<PulledArtifact> {
  const { store } = ctx.home;
  // the name pullToStore gives it in the local store
  const reference = formatReference(withDefaultTag(ref));
  let kind = 'app' as ArtifactKind;
  let app: StoredApp | undefined;
  let component: Uint8Array | undefined;
  const pulled = await pullToStore(ref, store, {
    registry: ctx.registry,
    reporter: ctx.reporter,
    home: ctx.home.root,
    accept: (manifest, where) => {
      kind = requireKind(manifest, where, accept, hint);
    },
    validate: (desc, blob) => validateLayer(desc, blob, ref.repository),
    check: async (_manifest, desc) => {
      if (kind !== 'app') return;
      app = await loadApp(store, reference, desc);
      // tagged at this digest already: it passed this check when it was tagged
      const tagged = await store.resolve(reference).then(
        (d) => d.digest,
        (e: unknown) => {
          if (isFabricksError(e, 'NOT_FOUND')) return undefined;
          throw e;
        },
      );
      if (tagged !== desc.digest) component = await recompose(store, app, ctx.home.scratchDir, ctx.reporter, ctx.signal);
    },
  });
  const manifest: Descriptor = { mediaType: pulled.manifest.mediaType, digest: pulled.manifest.digest as Descriptor['digest'], size: pulled.manifest.size };
  // the check loaded it, unless there was nothing to check
  if (kind === 'app') app ??= await loadApp(store, pulled.storeReference, manifest);
  return { pulled, kind, manifest, ...(app ? { app } : {}), ...(component ? { component } : {}) };
}
