import { LayoutStore } from '../../oci/layout-store.js';
import { fabricksHome, storeDir } from '../../util/paths.js';
import { appReference, loadProject } from '../../config/project.js';
import { appFromManifest, loadStoredApp, type StoredApp } from '../../artifact/app-decode.js';
import { formatReference, manifestReference, withDefaultTag } from '../../oci/reference.js';
import { manifestBlobs } from '../../oci/copy.js';
import type { RegistryOptions } from '../../oci/registry/client.js';
import { remoteRepository } from '../../oci/transfer.js';
import type { Target } from '../target.js';

export interface InspectResult {
  reference: string;
  manifest: { mediaType: string; artifactType?: string; digest: string; size: number };
  config: { mediaType: string; digest: string; size: number };
  layers: Array<{ mediaType: string; digest: string; size: number; annotations: Record<string, string> }>;
  runtime: { reference: string; digest: string; size: number };
  entrypoint: string;
  component: { digest: string; size: number };
  capabilities: { network: { listen: number[] } };
  wit: { imports: string[]; exports: string[] };
}

/** A project's or stored build's artifact, or a pushed one (only its manifest and config are fetched). */
export async function inspectCommand(target: Target, registry: RegistryOptions = {}): Promise<InspectResult> {
  let app: StoredApp;
  let reference: string;
  if (target.kind === 'remote') {
    const repo = remoteRepository(target.reference, registry);
    reference = formatReference(withDefaultTag(target.reference));
    const root = await repo.fetchReference(manifestReference(target.reference));
    app = await appFromManifest(repo, reference, root.desc, manifestBlobs(root.desc, root.bytes, reference).manifest);
  } else {
    const store = await LayoutStore.open(storeDir(fabricksHome()));
    reference = target.kind === 'project' ? appReference(await loadProject(target.dir)) : target.reference;
    app = await loadStoredApp(store, reference);
  }
  return {
    reference,
    manifest: {
      mediaType: app.manifest.mediaType,
      ...(app.manifest.artifactType ? { artifactType: app.manifest.artifactType } : {}),
      digest: app.manifestDesc.digest,
      size: app.manifestDesc.size,
    },
    config: { mediaType: app.manifest.config.mediaType, digest: app.manifest.config.digest, size: app.manifest.config.size },
    layers: app.manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, annotations: l.annotations ?? {} })),
    runtime: app.config.runtime,
    entrypoint: app.config.entrypoint,
    component: app.config.component,
    capabilities: app.config.capabilities,
    wit: app.config.wit,
  };
}

export function formatInspect(r: InspectResult): string {
  const lines = [
    `${r.reference}`,
    `  manifest   ${r.manifest.digest}  (${r.manifest.size} bytes)`,
    `  runtime    ${r.runtime.reference}`,
    `  entrypoint ${r.entrypoint}`,
    `  component  ${r.component.digest}  (${r.component.size.toLocaleString('en')} bytes)`,
    `  layers`,
    ...r.layers.map((l) => `    ${l.mediaType}  ${l.size.toLocaleString('en')} bytes  ${l.digest}`),
    `  imports`,
    ...r.wit.imports.map((i) => `    ${i}`),
    `  exports`,
    ...r.wit.exports.map((e) => `    ${e}`),
  ];
  return lines.join('\n');
}
