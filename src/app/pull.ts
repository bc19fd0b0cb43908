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
import { prepareComponents, type PrepareResult } from './prepare.js';
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
  const { pulled, kind, app, component } = await pullArtifact(ref, ctx, accept, output ? `-o writes app components only; pull ${reference} without -o to store it` : undefined);
  const { manifestValue, storeReference: _stored, ...report } = pulled;
  const base = { ...report, kind, bytesReceived: pulled.bytes };
  const prepareIt = async (components: Parameters<typeof prepareComponents>[1]) => (options.prepare === false ? {} : { prepared: await preparePulled(pulled.reference, components, ctx) });
  if (kind === 'runtime') {
    const layer = manifestValue.layers.find((l) => l.mediaType === MediaType.runtimeLayer);
    return { ...base, ...(layer ? await prepareIt([{ role: 'runtime', layer }]) : {}) };
  }
  let bytes: Uint8Array;
  const layer = app ? undefined : wasmLayer(manifestValue, pulled.reference);
  if (app) bytes = component ?? (await recompose(ctx.home.store, app, ctx.home.scratchDir, ctx.reporter, ctx.signal));
  else bytes = await ctx.home.store.fetch(layer!);
  if (output) await writeAtomic(output, bytes);
  const prepared = await prepareIt(app ? [{ role: 'runtime', layer: app.runtimeLayer }, { role: 'module', layer: app.moduleLayer }] : [{ role: 'component', layer: layer! }]);
  return { ...base, component: { digest: sha256(bytes), size: bytes.length, ...(output ? { path: displayPath(output) } : {}) }, ...prepared };
}

/** Compiles what was pulled; a machine without the engine still pulls (a registry mirror, CI that only moves artifacts). */
async function preparePulled(reference: string, components: Parameters<typeof prepareComponents>[1], ctx: Context): Promise<PrepareResult | undefined> {
  try {
    return await prepareComponents(reference, components, ctx);
  } catch (e) {
    if (!(e instanceof FabricksError && e.code === 'TOOL_MISSING')) throw e;
    ctx.reporter({ event: 'note', code: 'engine', subject: reference, detail: `not compiled for this machine: ${e.message}; its first run compiles it` });
    return undefined;
  }
}
