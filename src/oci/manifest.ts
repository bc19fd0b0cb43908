import { FabricksError } from '../util/errors.js';
import { isDigest, sha256 } from './digest.js';
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

/** A config (or other JSON blob) read through any fetcher; bytes that are not JSON are ARTIFACT_INVALID. */
export async function fetchJson<T>(store: Fetcher, desc: Descriptor): Promise<T> {
  const bytes = await store.fetch(desc);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (cause) {
    throw new FabricksError('ARTIFACT_INVALID', `blob ${desc.digest} (${desc.mediaType}) is not valid JSON`, { cause });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Digests from a manifest become file names in the local store: only sha256 hex passes.
const isDescriptor = (v: unknown): v is Descriptor =>
  isObject(v) && typeof v.mediaType === 'string' && typeof v.digest === 'string' && isDigest(v.digest) && Number.isSafeInteger(v.size) && (v.size as number) >= 0;

/**
 * The one reader of manifest bytes, on every backend. Bytes that are not an image manifest's
 * JSON are ARTIFACT_INVALID; a well-formed manifest of another kind (an index, a Docker
 * manifest) is WRONG_KIND: fabricks moves OCI image manifests only. `where` names it for messages.
 */
export function decodeManifest(desc: Descriptor, bytes: Uint8Array, where: string): ImageManifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new FabricksError('ARTIFACT_INVALID', `${where}: the manifest is not JSON`, { cause });
  }
  if (!isObject(value)) throw new FabricksError('ARTIFACT_INVALID', `${where}: the manifest is not a JSON object`);
  // the manifest's own mediaType wins; the descriptor's (or a registry's Content-Type) stands in when it has none
  const mediaType = typeof value.mediaType === 'string' ? value.mediaType : desc.mediaType;
  if (mediaType !== MediaType.imageManifest) {
    throw new FabricksError('WRONG_KIND', `${where} is a ${mediaType || 'manifest of unknown type'}, not an OCI image manifest`, {
      hint: 'fabricks moves OCI image manifests (what fabricks push and oras push write)',
    });
  }
  const { schemaVersion, config, layers } = value;
  if (schemaVersion !== 2 || !isDescriptor(config) || !Array.isArray(layers) || !layers.every(isDescriptor)) {
    throw new FabricksError('ARTIFACT_INVALID', `${where}: the manifest is not a valid OCI image manifest (schemaVersion 2, a config and layers, each with a sha256 digest and a size)`);
  }
  return { ...(value as unknown as ImageManifest), mediaType };
}

/** The blobs an image manifest points to, config first. */
export function manifestBlobs(root: Descriptor, bytes: Uint8Array, where: string): { manifest: ImageManifest; blobs: Descriptor[] } {
  const manifest = decodeManifest(root, bytes, where);
  return { manifest, blobs: [manifest.config, ...manifest.layers] };
}

/** An image manifest read through any fetcher and decoded (see decodeManifest). */
export async function fetchManifest(store: Fetcher, desc: Descriptor, where: string = `manifest ${desc.digest}`): Promise<ImageManifest> {
  return decodeManifest(desc, await store.fetch(desc), where);
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
