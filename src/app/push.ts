import { FabricksError } from '../util/errors.js';
import { isRemoteReference, mustParseReference, type Reference } from '../oci/reference.js';
import { MemoryStore } from '../oci/memory-store.js';
import { pushManifest, type TransferReport } from '../oci/transfer.js';
import type { Context } from '../home/context.js';
import type { StoredApp } from '../artifact/app.js';
import { recompose } from '../artifact/recompose.js';
import { encodeWasmArtifact } from '../artifact/wasm.js';
import { parseTarget, resolveTarget, type Target } from './target.js';

export type PushFormat = 'fabricks' | 'wasm';

export interface PushResult extends TransferReport {
  format: PushFormat;
  /** Bytes sent to the registry (blobs and manifest). */
  bytesSent: number;
}

/**
 * Pushes an app (a project, built first; a stored build; or another registry's artifact, copied
 * through the local store) to `destination`, as two layers or as one composed component.
 */
export async function push(targetArg: string | Target, destination: string, format: PushFormat, ctx: Context): Promise<PushResult> {
  const resolved = await resolveTarget(await parseTarget(targetArg), ctx, ['app']);
  if (resolved.kind !== 'app') throw new Error('resolveTarget returned a kind it was not asked for');
  const { app } = resolved;
  const dest = destinationOf(destination, app);
  const { store } = ctx.home;
  const options = { registry: ctx.registry, reporter: ctx.reporter, home: ctx.home.root };
  let report: TransferReport;
  if (format === 'fabricks') {
    const root = { desc: app.manifestDesc, bytes: await store.fetch(app.manifestDesc) };
    report = await pushManifest(store, root, dest, { ...options, mountHints: runtimeMountHints(app, dest) });
  } else {
    const memory = new MemoryStore();
    const component = await recompose(store, app, ctx.home.scratchDir, ctx.reporter, ctx.signal);
    const root = await encodeWasmArtifact(memory, app, component);
    report = await pushManifest(memory, root, dest, options);
  }
  return { ...report, format, bytesSent: report.bytes };
}

/** The registry the runtime came from is a mount source when it is the destination's registry. */
function runtimeMountHints(app: StoredApp, dest: Reference): string[] {
  const runtimeRef = app.config.runtime.reference;
  if (!isRemoteReference(runtimeRef)) return [];
  const ref = mustParseReference(runtimeRef, 'runtime reference');
  return ref.registry === dest.registry ? [ref.repository] : [];
}

function destinationOf(destination: string, app: StoredApp): Reference {
  if (!isRemoteReference(destination)) {
    throw new FabricksError('USAGE', `destination "${destination}" names no registry`, {
      hint: `write it as registry/repository:tag, e.g. localhost:5000/apps/${app.config.name}:${app.config.version}`,
    });
  }
  const ref = mustParseReference(destination, 'destination');
  if (ref.digest) throw new FabricksError('USAGE', `destination "${destination}" has a digest; push to a tag (the digest follows from the content)`);
  // no tag: the app's version, so pushes of new versions never overwrite old ones by accident
  return ref.tag ? ref : { ...ref, tag: app.config.version };
}
