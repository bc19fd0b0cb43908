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
import { appComponents, prepareComponents, type Components, type PrepareResult } from './prepare.js';
import { FabricksError } from '../util/errors.js';
import { MediaType } from '../oci/media-types.js';

export interface PullResult extends TransferReport {
  kind: ArtifactKind;
  /** The composed component: recomposed from the two layers and checked against the config. */
  component?: { digest: string; size: number; path?: string };
  /** Bytes received from the registry (blobs and manifest). */
  bytesReceived: number;
  /** Its components compiled for this machine (fabricks prepare), unless asked not to. */
  prepared?: PrepareResult;
}

export interface PullOptions {
  /** Compile what was pulled for this machine (default), so that its first spawn does not. */
  prepare?: boolean;
}

/**
 * Pulls an app, runtime or Wasm component into the local store (only the blobs it lacks); an app
 * is recomposed and its digest checked; `output` receives the component.
 */
export async function pull(reference: string, output: string | undefined, ctx: Context, options: PullOptions = {}): Promise<PullResult> {
  const ref = parseRemote(reference, 'reference');
  const accept: ArtifactKind[] = output ? ['app', 'wasm'] : ['app', 'runtime', 'wasm'];
  const { pulled, kind, app, component: recomposed } = await pullArtifact(ref, ctx, accept, output ? `-o writes app components only; pull ${reference} without -o to store it` : undefined);
  const { manifestValue, storeReference: _stored, ...report } = pulled;
  const base = { ...report, kind, bytesReceived: pulled.bytes };
  let component: PullResult['component'];
  let components: Components;
  if (kind === 'runtime') {
    const layer = manifestValue.layers.find((l) => l.mediaType === MediaType.runtimeLayer);
    components = layer ? [{ role: 'runtime', layer }] : [];
  } else {
    const layer = app ? undefined : wasmLayer(manifestValue, pulled.reference);
    const bytes = app ? (recomposed ?? (await recompose(ctx.home.store, app, ctx.home.scratchDir, ctx.reporter, ctx.signal))) : await ctx.home.store.fetch(layer!);
    if (output) await writeAtomic(output, bytes);
    component = { digest: sha256(bytes), size: bytes.length, ...(output ? { path: displayPath(output) } : {}) };
    components = app ? appComponents(app) : [{ role: 'component', layer: layer! }];
  }
  const prepared = options.prepare !== false && components.length > 0 ? await preparePulled(pulled.reference, components, ctx) : undefined;
  return { ...base, ...(component ? { component } : {}), ...(prepared ? { prepared } : {}) };
}

/** Compiles what was pulled; a machine without the engine still pulls (a registry mirror, CI that only moves artifacts). */
async function preparePulled(reference: string, components: Components, ctx: Context): Promise<PrepareResult | undefined> {
  try {
    return await prepareComponents(reference, components, ctx);
  } catch (e) {
    if (!(e instanceof FabricksError && e.code === 'TOOL_MISSING')) throw e;
    ctx.reporter({ event: 'note', code: 'engine', subject: reference, detail: `not compiled for this machine: ${e.message}; its first run compiles it` });
    return undefined;
  }
}
