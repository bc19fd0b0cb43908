import type { Digest } from '../oci/digest.js';
import type { Descriptor, ImageManifest } from '../oci/content.js';
import { describe, encodeJson } from '../oci/manifest.js';
import { Annotation, MediaType } from '../oci/media-types.js';

/** The config blob of a fabricks app artifact (DESIGN.md, "The OCI artifact"). */
export interface AppConfig {
  name: string;
  version: string;
  runtime: { reference: string; digest: Digest; size: number };
  entrypoint: string;
  capabilities: { network: { listen: number[] } };
  component: { digest: Digest; size: number };
  wit: { imports: string[]; exports: string[] };
  created?: string;
}

/** SOURCE_DATE_EPOCH as an RFC 3339 time, or nothing: no timestamps unless asked for. */
export function createdTime(): string | undefined {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (!epoch || !/^\d+$/.test(epoch)) return undefined;
  return new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export function appManifest(config: AppConfig, runtimeLayer: Descriptor, runtimeName: string, moduleLayer: Descriptor): { configBytes: Uint8Array; configDesc: Descriptor; manifestBytes: Uint8Array; manifest: Descriptor } {
  const configBytes = encodeJson(config);
  const configDesc = describe(MediaType.appConfig, configBytes);
  const manifestValue: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
    artifactType: MediaType.appConfig,
    config: configDesc,
    layers: [
      { mediaType: MediaType.runtimeLayer, digest: runtimeLayer.digest, size: runtimeLayer.size, annotations: { [Annotation.runtime]: runtimeName, [Annotation.title]: 'runtime.wasm' } },
      { mediaType: MediaType.moduleLayer, digest: moduleLayer.digest, size: moduleLayer.size, annotations: { [Annotation.entrypoint]: config.entrypoint, [Annotation.title]: 'module.wasm' } },
    ],
    ...(config.created ? { annotations: { [Annotation.created]: config.created } } : {}),
  };
  const manifestBytes = encodeJson(manifestValue);
  return { configBytes, configDesc, manifestBytes, manifest: describe(MediaType.imageManifest, manifestBytes, { artifactType: MediaType.appConfig }) };
}
