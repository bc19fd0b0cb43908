import { FabricksError } from '../util/errors.js';
import type { Descriptor, ImageManifest, Pusher } from '../oci/content.js';
import { describe, pushImageManifest } from '../oci/manifest.js';
import { Annotation, MediaType } from '../oci/media-types.js';
import { createdTime, type StoredApp } from './app.js';

/**
 * The composed component in the CNCF Wasm OCI layout (config application/vnd.wasm.config.v0+json,
 * one application/wasm layer): single-layer by rule, for tools that take only that layout.
 */
export async function encodeWasmArtifact(dst: Pusher, app: StoredApp, component: Uint8Array): Promise<{ desc: Descriptor; bytes: Uint8Array }> {
  const layer = describe(MediaType.wasmLayer, component, { annotations: { [Annotation.title]: `${app.config.name}.wasm` } });
  await dst.push(layer, component);
  const created = createdTime();
  const config = {
    ...(created ? { created } : {}),
    architecture: 'wasm',
    os: 'wasip2',
    layerDigests: [layer.digest],
    component: { exports: app.config.wit.exports, imports: app.config.wit.imports, target: null },
  };
  return pushImageManifest(dst, {
    config: { mediaType: MediaType.wasmConfig, value: config },
    layers: [layer],
    annotations: { [Annotation.title]: app.config.name, 'org.opencontainers.image.version': app.config.version, ...(created ? { [Annotation.created]: created } : {}) },
  });
}

/** The one component layer of a CNCF Wasm artifact. */
export function wasmLayer(manifest: ImageManifest, reference: string): Descriptor {
  const layer = manifest.layers.find((l) => l.mediaType === MediaType.wasmLayer);
  if (!layer || manifest.layers.length !== 1) throw new FabricksError('ARTIFACT_INVALID', `${reference} has no single ${MediaType.wasmLayer} layer`);
  return layer;
}

/** The name a Wasm artifact's component goes by: its title, else the repository's last part. */
export function wasmName(layer: Descriptor, repository: string): string {
  return layer.annotations?.[Annotation.title]?.replace(/\.wasm$/, '') ?? repository.split('/').pop() ?? 'app';
}
