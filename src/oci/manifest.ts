import { FabricksError } from '../util/errors.js';
import { sha256 } from './digest.js';
import type { Descriptor, Fetcher, ImageManifest, Pusher } from './content.js';
import { MediaType } from './media-types.js';

/**
 * Canonical JSON: keys in insertion order as built here, no whitespace. Manifests and configs are
 * always built by the same code in the same order, so the same inputs give the same digest.
 */
export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function describe(mediaType: string, bytes: Uint8Array, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length, ...extra };
}

export async function fetchJson<T>(store: Fetcher, desc: Descriptor): Promise<T> {
  const bytes = await store.fetch(desc);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (cause) {
    throw new FabricksError('STORE_CORRUPT', `blob ${desc.digest} is not valid JSON`, { cause });
  }
}

export async function fetchManifest(store: Fetcher, desc: Descriptor): Promise<ImageManifest> {
  const manifest = await fetchJson<ImageManifest>(store, desc);
  if (manifest.mediaType !== MediaType.imageManifest || !Array.isArray(manifest.layers) || !manifest.config) {
    throw new FabricksError('STORE_CORRUPT', `${desc.digest} is not an OCI image manifest`);
  }
  return manifest;
}

/**
 * Stores a config and the image manifest over it and the given (already stored) layers. Keys go
 * in one fixed order, so the same inputs give the same manifest digest.
 */
export async function pushImageManifest(
  store: Pusher,
  options: { config: { mediaType: string; value: unknown }; layers: Descriptor[]; artifactType?: string; annotations?: Record<string, string> },
): Promise<{ desc: Descriptor; bytes: Uint8Array }> {
  const { artifactType, annotations } = options;
  const configBytes = encodeJson(options.config.value);
  const config = describe(options.config.mediaType, configBytes);
  await store.push(config, configBytes);
  const bytes = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
    ...(artifactType ? { artifactType } : {}),
    config,
    layers: options.layers,
    ...(annotations ? { annotations } : {}),
  });
  const desc = describe(MediaType.imageManifest, bytes, artifactType ? { artifactType } : {});
  await store.push(desc, bytes);
  return { desc, bytes };
}
