import { FabricksError } from '../util/errors.js';
import type { Descriptor, Fetcher, ImageManifest } from '../oci/content.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { fetchJson, fetchManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import type { AppConfig } from './app.js';

export interface StoredApp {
  reference: string;
  manifestDesc: Descriptor;
  manifest: ImageManifest;
  config: AppConfig;
  runtimeLayer: Descriptor;
  moduleLayer: Descriptor;
}

/** A fabricks app artifact from the local store, by name:version or pulled reference. */
export async function loadStoredApp(store: LayoutStore, reference: string): Promise<StoredApp> {
  let manifestDesc: Descriptor;
  try {
    manifestDesc = await store.resolve(reference);
  } catch (e) {
    throw new FabricksError('NOT_FOUND', `${reference} is not in the local store (${store.root})`, {
      hint: 'build it first with fabricks build, or check the name and version in its fabricks.toml',
      cause: e,
    });
  }
  return appFromManifest(store, reference, manifestDesc, await fetchManifest(store, manifestDesc));
}

/** Reads a fabricks app's config through any fetcher (the local store or a registry). */
export async function appFromManifest(fetcher: Fetcher, reference: string, manifestDesc: Descriptor, manifest: ImageManifest): Promise<StoredApp> {
  if (manifest.config.mediaType !== MediaType.appConfig) {
    throw new FabricksError('NOT_FOUND', `${reference} is not a fabricks app (its config is ${manifest.config.mediaType})`, {
      hint: manifest.config.mediaType === MediaType.wasmConfig ? 'it is a single-component Wasm artifact: fabricks pull -o app.wasm fetches it' : undefined,
    });
  }
  const config = await fetchJson<AppConfig>(fetcher, manifest.config);
  const runtimeLayer = manifest.layers.find((l) => l.mediaType === MediaType.runtimeLayer);
  const moduleLayer = manifest.layers.find((l) => l.mediaType === MediaType.moduleLayer);
  if (!runtimeLayer || !moduleLayer) throw new FabricksError('STORE_CORRUPT', `${reference} lacks a runtime or module layer`);
  return { reference, manifestDesc, manifest, config, runtimeLayer, moduleLayer };
}
