import { formatReference, manifestReference, withDefaultTag } from '../oci/reference.js';
import { manifestBlobs } from '../oci/copy.js';
import { remoteRepository } from '../oci/transfer.js';
import { appReference, loadProject } from '../config/project.js';
import type { Context } from '../home/context.js';
import { capabilitiesOf, decodeApp, loadStoredApp, type Capabilities, type StoredApp } from '../artifact/app.js';
import { parseTarget, type Target } from './target.js';
import type { PackageOptions } from './package.js';

export interface InspectResult {
  reference: string;
  manifest: { mediaType: string; artifactType?: string; digest: string; size: number };
  config: { mediaType: string; digest: string; size: number };
  layers: Array<{ mediaType: string; digest: string; size: number; annotations: Record<string, string> }>;
  runtime: { reference: string; digest: string; size: number };
  entrypoint: string;
  component: { digest: string; size: number };
  capabilities: Capabilities;
  wit: { imports: string[]; exports: string[] };
  /** The published package it was built from by name, and its registry's checksum. */
  published?: { package: string; integrity: string };
}

/** A project's last build (by name:version), a stored build, or a pushed one (only its manifest and config are fetched). */
export async function inspect(targetArg: string | Target, ctx: Context, packageOptions: PackageOptions = {}): Promise<InspectResult> {
  const target = await parseTarget(targetArg);
  let app: StoredApp;
  if (target.kind === 'remote') {
    const repo = remoteRepository(target.reference, ctx.registry);
    const reference = formatReference(withDefaultTag(target.reference));
    const root = await repo.fetchReference(manifestReference(target.reference));
    app = await decodeApp(repo, reference, root.desc, manifestBlobs(root.desc, root.bytes, reference).manifest);
  } else if (target.kind === 'package') {
    const { storedPackageReference } = await import('./package.js');
    app = await loadStoredApp(ctx.home.store, await storedPackageReference(target.text, { ...packageOptions, ...target.options }, ctx));
  } else {
    const reference = target.kind === 'project' ? appReference(await loadProject(target.dir)) : target.reference;
    app = await loadStoredApp(ctx.home.store, reference);
  }
  return {
    reference: app.reference,
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
    capabilities: capabilitiesOf(app.config),
    wit: app.config.wit,
    ...(app.config.published ? { published: app.config.published } : {}),
  };
}
