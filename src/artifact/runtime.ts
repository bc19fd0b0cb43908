import type { Digest } from '../oci/digest.js';
import { isFabricksError } from '../util/errors.js';
import type { Descriptor } from '../oci/content.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { fetchJson, fetchManifest, pushImageManifest } from '../oci/manifest.js';
import { Annotation, MediaType } from '../oci/media-types.js';

/** The config blob of a runtime artifact. */
export interface RuntimeConfig {
  runtime: string;
  /** The language its apps are written in (a runtime kind's, src/runtimes/kind.ts). */
  language: string;
  builder: Record<string, string>;
  /** Digest of everything the runtime was built from: a changed input means a rebuild. */
  inputs: Digest;
  wit: { imports: string[]; exports: string[] };
}

/** A runtime artifact in the store: its manifest, its one layer, and what its config says. */
export interface StoredRuntime {
  manifest: Descriptor;
  layer: Descriptor;
  config: Partial<RuntimeConfig>;
  /** The name it was built as (e.g. node:0.1), kept across publish under any repository. */
  name?: string;
}

/** Stores a runtime's config and manifest over its (already stored) layer. */
export async function storeRuntimeArtifact(store: LayoutStore, layer: Descriptor, config: RuntimeConfig): Promise<Descriptor> {
  const { desc } = await pushImageManifest(store, { artifactType: MediaType.runtimeConfig, config: { mediaType: MediaType.runtimeConfig, value: config }, layers: [layer] });
  return desc;
}

/** The runtime a reference names in the local store, if it is one and its layer is there. */
export async function loadStoredRuntime(store: LayoutStore, reference: string): Promise<StoredRuntime | undefined> {
  let manifestDesc: Descriptor;
  let layer: Descriptor | undefined;
  let configDesc: Descriptor;
  try {
    manifestDesc = await store.resolve(reference);
    const manifest = await fetchManifest(store, manifestDesc);
    layer = manifest.layers.find((l) => l.mediaType === MediaType.runtimeLayer);
    configDesc = manifest.config;
  } catch (e) {
    // absent or not a runtime manifest: build or pull it; a damaged index is an error of its own
    if (isFabricksError(e, 'STORE_CORRUPT')) throw e;
    return undefined;
  }
  if (!layer || !(await store.exists(layer))) return undefined;
  const config = await fetchJson<Partial<RuntimeConfig>>(store, configDesc).catch(() => ({}) as Partial<RuntimeConfig>);
  const name = layer.annotations?.[Annotation.runtime] ?? (config.runtime ? config.runtime.split('/').pop() : undefined);
  return { manifest: manifestDesc, layer: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, config, ...(name ? { name } : {}) };
}
