import { LayoutStore } from '../../oci/layout-store.js';
import { fabricksHome, storeDir } from '../../paths.js';
import { appReference, loadProject } from '../../config/project.js';
import { loadStoredApp } from '../artifact.js';
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

export async function inspectCommand(target: Target): Promise<InspectResult> {
  const store = await LayoutStore.open(storeDir(fabricksHome()));
  let reference: string;
  if (target.kind === 'project') {
    reference = appReference(await loadProject(target.dir));
  } else reference = target.reference;
  const app = await loadStoredApp(store, reference);
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
