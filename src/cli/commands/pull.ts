import { FabricksError } from '../../util/errors.js';
import { composeLayers } from '../../compose/compose.js';
import type { Reference } from '../../oci/reference.js';
import type { Descriptor, ImageManifest } from '../../oci/content.js';
import { LayoutStore } from '../../oci/layout-store.js';
import { writeAtomic } from '../../util/atomic.js';
import { Annotation, MediaType } from '../../oci/media-types.js';
import type { RegistryOptions } from '../../oci/registry/client.js';
import { pullToStore, type TransferReport } from '../../oci/transfer.js';
import { fabricksHome, storeDir } from '../../util/paths.js';
import type { Reporter } from '../../util/progress.js';
import { loadStoredApp, type StoredApp } from '../../artifact/app-decode.js';
import { displayPath } from '../../builder/pipeline.js';
import { sha256, type Digest } from '../../oci/digest.js';

export interface PullResult extends TransferReport {
  kind: 'app' | 'runtime' | 'wasm';
  /** The composed component: recomposed from the two layers and checked against the config. */
  component?: { digest: string; size: number; path?: string };
  /** Bytes received from the registry (blobs and manifest). */
  bytesReceived: number;
}

const KINDS: Record<string, PullResult['kind']> = {
  [MediaType.appConfig]: 'app',
  [MediaType.runtimeConfig]: 'runtime',
  [MediaType.wasmConfig]: 'wasm',
};

function acceptArtifact(manifest: ImageManifest, where: string): void {
  if (!KINDS[manifest.config.mediaType]) {
    throw new FabricksError('NOT_FOUND', `${where} is not a fabricks artifact: its config is ${manifest.config.mediaType}`, {
      hint: `fabricks pulls apps (${MediaType.appConfig}), runtimes (${MediaType.runtimeConfig}) and Wasm components (${MediaType.wasmConfig})`,
    });
  }
}

/** Pulls into the local store of this machine; `accept` refuses what the caller cannot use. */
async function pullHere(ref: Reference, registry: RegistryOptions, reporter: Reporter, accept: (manifest: ImageManifest, where: string) => void) {
  const home = fabricksHome();
  const store = await LayoutStore.open(storeDir(home));
  return { home, store, pulled: await pullToStore(ref, store, { registry, reporter, home, accept }) };
}

/** What `fabricks run <ref>` runs: an app (recomposed, digest checked) or a single Wasm component. */
export async function pullRunnable(ref: Reference, registry: RegistryOptions, reporter: Reporter): Promise<{ name: string; digest: Digest; bytes: Uint8Array; listen: number[] }> {
  const { home, store, pulled } = await pullHere(ref, registry, reporter, acceptArtifact);
  const kind = KINDS[pulled.manifestValue.config.mediaType];
  if (kind === 'app') {
    const app = await loadStoredApp(store, pulled.storeReference);
    return { name: app.config.name, digest: app.config.component.digest, bytes: await recompose(store, app, home, reporter), listen: app.config.capabilities.network.listen };
  }
  if (kind === 'wasm') {
    const layer = wasmLayer(pulled.manifestValue, pulled.reference);
    const name = layer.annotations?.[Annotation.title]?.replace(/\.wasm$/, '') ?? ref.repository.split('/').pop() ?? 'app';
    return { name, digest: layer.digest, bytes: await store.fetch(layer), listen: [] };
  }
  throw new FabricksError('USAGE', `${pulled.reference} is a runtime, not an app`, { hint: 'run an app built on it, or name it in [from] image' });
}

/** Pulls an app into the local store (as the source of a push to another registry). */
export async function pullStoredApp(ref: Reference, registry: RegistryOptions, reporter: Reporter): Promise<StoredApp> {
  const { store, pulled } = await pullHere(ref, registry, reporter, (manifest, where) => {
    if (manifest.config.mediaType !== MediaType.appConfig) throw new FabricksError('USAGE', `${where} is not a fabricks app (its config is ${manifest.config.mediaType}); push copies apps`);
  });
  return loadStoredApp(store, pulled.storeReference);
}

function wasmLayer(manifest: ImageManifest, reference: string): Descriptor {
  const layer = manifest.layers.find((l) => l.mediaType === MediaType.wasmLayer);
  if (!layer || manifest.layers.length !== 1) throw new FabricksError('NOT_FOUND', `${reference} has no single ${MediaType.wasmLayer} layer`);
  return layer;
}

async function recompose(store: LayoutStore, app: StoredApp, home: string, reporter: Reporter): Promise<Uint8Array> {
  const started = Date.now();
  const { bytes } = await composeLayers(store, app.runtimeLayer, app.moduleLayer, home, app.config.component.digest);
  reporter({ kind: 'done', step: 'compose', message: `recomposed the component; its digest ${app.config.component.digest.slice(0, 19)} is the one recorded at build time`, ms: Date.now() - started });
  return bytes;
}

export async function pullCommand(ref: Reference, output: string | undefined, registry: RegistryOptions, reporter: Reporter): Promise<PullResult> {
  const { home, store, pulled } = await pullHere(ref, registry, reporter, acceptArtifact);
  const kind = KINDS[pulled.manifestValue.config.mediaType]!;
  const base = { ...strip(pulled), kind, bytesReceived: pulled.bytes };
  if (kind === 'runtime') {
    if (output) throw new FabricksError('USAGE', `${pulled.reference} is a runtime; -o writes app components only`);
    return base;
  }
  let bytes: Uint8Array;
  if (kind === 'app') {
    bytes = await recompose(store, await loadStoredApp(store, pulled.storeReference), home, reporter);
  } else {
    bytes = await store.fetch(wasmLayer(pulled.manifestValue, pulled.reference));
  }
  if (output) await writeAtomic(output, bytes);
  return { ...base, component: { digest: sha256(bytes), size: bytes.length, ...(output ? { path: displayPath(output) } : {}) } };
}

function strip(p: TransferReport & { manifestValue?: unknown; storeReference?: unknown }): TransferReport {
  const { manifestValue: _m, storeReference: _s, ...rest } = p;
  return rest;
}

export function formatPull(r: PullResult): string {
  const lines = [`pulled ${r.reference}  ${r.manifest.digest}`, `  received ${r.bytesReceived.toLocaleString('en')} bytes`];
  if (r.component) lines.push(`  component ${r.component.path ?? '(in the local store)'}  ${r.component.size.toLocaleString('en')} bytes  ${r.component.digest.slice(0, 19)}`);
  return lines.join('\n');
}
