import { sha256 } from '../oci/digest.js';
import { parseRemote } from '../oci/reference.js';
import type { TransferReport } from '../oci/transfer.js';
import { writeAtomic } from '../util/atomic.js';
import { displayPath } from '../util/paths.js';
import type { Context } from '../home/context.js';
import type { ArtifactKind } from '../artifact/kind.js';
import { recompose } from '../artifact/recompose.js';
import { wasmLayer } from '../artifact/wasm.js';
import { pullArtifact } from './pull-artifact.js';

export interface PullResult extends TransferReport {
  kind: ArtifactKind;
  /** The composed component: recomposed from the two layers and checked against the config. */
  component?: { digest: string; size: number; path?: string };
  /** Bytes received from the registry (blobs and manifest). */
  bytesReceived: number;
}

/**
 * Pulls an app, runtime or Wasm component into the local store (only the blobs it lacks); an app
 * is recomposed and its digest checked; `output` receives the component.
 */
export async function pull(reference: string, output: string | undefined, ctx: Context): Promise<PullResult> {
  const ref = parseRemote(reference, 'reference');
  const accept: ArtifactKind[] = output ? ['app', 'wasm'] : ['app', 'runtime', 'wasm'];
  const { pulled, kind, app, component } = await pullArtifact(ref, ctx, accept, output ? `-o writes app components only; pull ${reference} without -o to store it` : undefined);
  const { manifestValue, storeReference: _stored, ...report } = pulled;
  const base = { ...report, kind, bytesReceived: pulled.bytes };
  if (kind === 'runtime') return base;
  let bytes: Uint8Array;
  if (app) bytes = component ?? (await recompose(ctx.home.store, app, ctx.home.scratchDir, ctx.reporter, ctx.signal));
  else bytes = await ctx.home.store.fetch(wasmLayer(manifestValue, pulled.reference));
  if (output) await writeAtomic(output, bytes);
  return { ...base, component: { digest: sha256(bytes), size: bytes.length, ...(output ? { path: displayPath(output) } : {}) } };
}
