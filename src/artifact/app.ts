import { FabricksError, isFabricksError } from '../util/errors.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor, Fetcher, ImageManifest } from '../oci/content.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { describe, encodeJson, fetchJson, fetchManifest } from '../oci/manifest.js';
import { Annotation, MediaType } from '../oci/media-types.js';
import { requireKind } from './kind.js';
import type { ProjectCapabilities } from '../config/capabilities.js';
import type { Limits } from '../config/limits.js';

/**
 * What a service may do, as recorded in its artifact and enforced wherever it runs. Mounts
 * record where the service sees a folder and how, never a host path: which host folder it gets
 * is for whoever runs it to say (fabricks.toml for a local project, --mount for a reference).
 */
export interface Capabilities {
  network: { listen: number[]; connect: string[] };
  env: { allow: string[]; set: Record<string, string> };
  filesystem: { mounts: Array<{ guest: string; mode: 'ro' | 'rw' }> };
}

/** The record of a project's capabilities: as declared, less its host paths. */
export function recordCapabilities(c: ProjectCapabilities): Capabilities {
  return {
    network: { listen: c.network.listen, connect: c.network.connect },
    env: { allow: c.env.allow, set: c.env.set },
    filesystem: { mounts: c.filesystem.mounts.map((m) => ({ guest: m.guest, mode: m.mode })) },
  };
}

/**
 * An artifact's capabilities, whatever fabricks recorded them: what an older one does not say is
 * denied, and a config with none (a single-component artifact) is granted nothing.
 */
export function capabilitiesOf(config: Partial<Pick<AppConfig, 'capabilities'>>): Capabilities {
  const c = (config.capabilities ?? {}) as Partial<Record<keyof Capabilities, Record<string, unknown>>>;
  const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
  return {
    network: { listen: list<number>(c.network?.listen), connect: list<string>(c.network?.connect) },
    env: { allow: list<string>(c.env?.allow), set: c.env?.set && typeof c.env.set === 'object' ? (c.env.set as Record<string, string>) : {} },
    filesystem: { mounts: list<{ guest: string; mode: 'ro' | 'rw' }>(c.filesystem?.mounts) },
  };
}

/** An artifact's declared limits, what fabricks recorded of them (numbers only). */
export function limitsOf(config: Partial<Pick<AppConfig, 'limits'>>): Limits {
  const l = (config.limits ?? {}) as Record<string, unknown>;
  const out: Limits = {};
  for (const key of ['memory', 'timeoutMs', 'requestTimeoutMs', 'concurrency'] as const) {
    const v = l[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = v;
  }
  return out;
}

/** The config blob of a fabricks app artifact (DESIGN.md, "The OCI artifact"). */
export interface AppConfig {
  name: string;
  version: string;
  runtime: { reference: string; digest: Digest; size: number };
  entrypoint: string;
  capabilities: Capabilities;
  /** `[limits]` as declared; absent when none are. */
  limits?: Limits;
  component: { digest: Digest; size: number };
  wit: { imports: string[]; exports: string[] };
  created?: string;
  /** The published package the app was built from by name, pinned, and the checksum its registry vouches for it with. */
  published?: { package: string; integrity: string };
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
