import { FabricksError, isFabricksError } from '../util/errors.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor, Fetcher, ImageManifest } from '../oci/content.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { describe, encodeJson, fetchJson, fetchManifest } from '../oci/manifest.js';
import { Annotation, MediaType } from '../oci/media-types.js';
import { requireKind } from './kind.js';

/** What a service may do, as recorded in its artifact and enforced wherever it runs. */
export interface Capabilities {
  network: { listen: number[] };
}

/** The config blob of a fabricks app artifact (DESIGN.md, "The OCI artifact"). */
export interface AppConfig {
  name: string;
  version: string;
  runtime: { reference: string; digest: Digest; size: number };
  entrypoint: string;
  capabilities: Capabilities;
  component: { digest: Digest; size: number };
  wit: { imports: string[]; exports: string[] };
  created?: string;
}

/** An app artifact read back: its manifest, config and the two layers. */
export interface StoredApp {
  reference: string;
  manifestDesc: Descriptor;
  manifest: ImageManifest;
  config: AppConfig;
  runtimeLayer: Descriptor;
  moduleLayer: Descriptor;
}

/** SOURCE_DATE_EPOCH as an RFC 3339 time, or nothing: no timestamps unless asked for. */
export function createdTime(): string | undefined {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (!epoch || !/^\d+$/.test(epoch)) return undefined;
  return new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export interface EncodedApp {
  configBytes: Uint8Array;
  configDesc: Descriptor;
  manifestBytes: Uint8Array;
  manifest: Descriptor;
}

/** The config and manifest of an app artifact; keys in one fixed order, so the same inputs give the same digests. */
export function encodeApp(config: AppConfig, runtimeLayer: Descriptor, runtimeName: string, moduleLayer: Descriptor): EncodedApp {
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

/** Reads an app artifact's config through any fetcher (the local store or a registry). */
export async function decodeApp(fetcher: Fetcher, reference: string, manifestDesc: Descriptor, manifest: ImageManifest): Promise<StoredApp> {
  requireKind(manifest, reference, ['app']);
  const config = await fetchJson<AppConfig>(fetcher, manifest.config);
  const runtimeLayer = manifest.layers.find((l) => l.mediaType === MediaType.runtimeLayer);
  const moduleLayer = manifest.layers.find((l) => l.mediaType === MediaType.moduleLayer);
  if (!runtimeLayer || !moduleLayer) throw new FabricksError('ARTIFACT_INVALID', `${reference} lacks a runtime or module layer`);
  return { reference, manifestDesc, manifest, config, runtimeLayer, moduleLayer };
}

/** An app in the local store by its manifest descriptor (what a build or pull hands on). */
export async function loadApp(store: LayoutStore, reference: string, manifestDesc: Descriptor): Promise<StoredApp> {
  return decodeApp(store, reference, manifestDesc, await fetchManifest(store, manifestDesc));
}

/** An app in the local store by name:version or pulled reference. */
export async function loadStoredApp(store: LayoutStore, reference: string): Promise<StoredApp> {
  let manifestDesc: Descriptor;
  try {
    manifestDesc = await store.resolve(reference);
  } catch (e) {
    if (!isFabricksError(e, 'NOT_FOUND')) throw e; // a damaged index says so itself
    throw new FabricksError('NOT_FOUND', `${reference} is not in the local store (${store.root})`, {
      hint: 'build it first with fabricks build, or check the name and version in its fabricks.toml',
      cause: e,
    });
  }
  return loadApp(store, reference, manifestDesc);
}
