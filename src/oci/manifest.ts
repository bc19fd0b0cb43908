import { FabricksError } from '../errors.js';
import { sha256 } from './digest.js';
import type { Descriptor, Fetcher, ImageManifest } from './content.js';
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
