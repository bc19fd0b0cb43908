import { build, displayPath, type BuildResult } from '../../builder/pipeline.js';
import type { Reporter } from '../../util/progress.js';
import type { RegistryOptions } from '../../oci/registry/client.js';

export async function buildCommand(dir: string, reporter: Reporter, registry: RegistryOptions = {}): Promise<BuildResult> {
  return build(dir, { reporter, registry });
}

export function formatBuild(r: BuildResult): string {
  return [
    `${r.cached ? 'up to date' : 'built'} ${r.reference}  ${r.manifest.digest}`,
    `  runtime   ${r.runtime.ref}  ${r.runtime.size.toLocaleString('en')} bytes  ${r.runtime.digest.slice(0, 19)}`,
    `  module    ${r.module.size.toLocaleString('en')} bytes  ${r.module.digest.slice(0, 19)}`,
    `  component ${displayPath(r.component.path)}  ${r.component.size.toLocaleString('en')} bytes  ${r.component.digest.slice(0, 19)}`,
  ].join('\n');
}

/** The shape `fabricks build --json` prints. */
export function buildJson(r: BuildResult) {
  return {
    reference: r.reference,
    manifest: r.manifest.digest,
    runtime: r.runtime,
    module: r.module,
    component: r.component,
    cached: r.cached,
  };
}
