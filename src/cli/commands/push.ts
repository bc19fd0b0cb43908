import { FabricksError } from '../../util/errors.js';
import { composeLayers } from '../../compose/compose.js';
import { build } from '../../builder/pipeline.js';
import { isRemoteReference, mustParseReference, type Reference } from '../../oci/reference.js';
import { LayoutStore } from '../../oci/layout-store.js';
import { describe, pushImageManifest } from '../../oci/manifest.js';
import { Annotation, MediaType } from '../../oci/media-types.js';
import { MemoryStore } from '../../oci/memory-store.js';
import type { RegistryOptions } from '../../oci/registry/client.js';
import { pushManifest, type TransferReport } from '../../oci/transfer.js';
import { fabricksHome, storeDir } from '../../util/paths.js';
import type { Reporter } from '../../util/progress.js';
import { loadStoredApp, type StoredApp } from '../../artifact/app-decode.js';
import type { Target } from '../target.js';
import { pullStoredApp } from './pull.js';
import { createdTime } from '../../artifact/app.js';

export type PushFormat = 'fabricks' | 'wasm';

export interface PushResult extends TransferReport {
  format: PushFormat;
  /** Bytes sent to the registry (blobs and manifest). */
  bytesSent: number;
}

/** The artifact to push: a project (built first; a no-op build is cheap) or a stored build. */
async function sourceApp(target: Target, registry: RegistryOptions, reporter: Reporter): Promise<{ store: LayoutStore; app: StoredApp }> {
  const store = await LayoutStore.open(storeDir(fabricksHome()));
  // another registry's reference: pulled into the store (what it has is not fetched), then pushed
  if (target.kind === 'remote') return { store, app: await pullStoredApp(target.reference, registry, reporter) };
  const reference = target.kind === 'project' ? (await build(target.dir, { reporter, registry })).reference : target.reference;
  return { store, app: await loadStoredApp(store, reference) };
}

export async function pushCommand(target: Target, destination: string, format: PushFormat, registry: RegistryOptions, reporter: Reporter): Promise<PushResult> {
  const { store, app } = await sourceApp(target, registry, reporter);
  const dest = destinationOf(destination, app);
  const home = fabricksHome();
  // the registry the runtime came from is a mount source when it is the destination's registry
  const runtimeRef = app.config.runtime.reference;
  const mountHints = isRemoteReference(runtimeRef) ? [mustParseReference(runtimeRef, 'runtime reference')].filter((r) => r.registry === dest.registry).map((r) => r.repository) : [];
  let report: TransferReport;
  if (format === 'fabricks') {
    const root = { desc: app.manifestDesc, bytes: await store.fetch(app.manifestDesc) };
    report = await pushManifest(store, root, dest, { registry, reporter, home, mountHints });
  } else {
    const memory = new MemoryStore();
    const root = await wasmArtifact(store, app, home, memory);
    report = await pushManifest(memory, root, dest, { registry, reporter, home });
  }
  return { ...report, format, bytesSent: report.bytes };
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

/**
 * The composed component in the CNCF Wasm OCI layout (config application/vnd.wasm.config.v0+json,
 * one application/wasm layer): single-layer by rule, for tools that take only that layout.
 */
async function wasmArtifact(store: LayoutStore, app: StoredApp, home: string, memory: MemoryStore) {
  const { bytes } = await composeLayers(store, app.runtimeLayer, app.moduleLayer, home, app.config.component.digest);
  const layer = describe(MediaType.wasmLayer, bytes, { annotations: { [Annotation.title]: `${app.config.name}.wasm` } });
  await memory.push(layer, bytes);
  const created = createdTime();
  const config = {
    ...(created ? { created } : {}),
    architecture: 'wasm',
    os: 'wasip2',
    layerDigests: [layer.digest],
    component: { exports: app.config.wit.exports, imports: app.config.wit.imports, target: null },
  };
  return pushImageManifest(memory, {
    config: { mediaType: MediaType.wasmConfig, value: config },
    layers: [layer],
    annotations: { 'org.opencontainers.image.title': app.config.name, 'org.opencontainers.image.version': app.config.version, ...(created ? { [Annotation.created]: created } : {}) },
  });
}

export function formatPush(r: PushResult): string {
  return [`pushed ${r.reference}  ${r.manifest.digest}`, `  sent ${r.bytesSent.toLocaleString('en')} bytes`].join('\n');
}
