import { stat } from 'node:fs/promises';
import { FabricksError } from '../util/errors.js';
import type { Descriptor } from '../oci/content.js';
import { isRemoteReference, parseRemote, type Reference } from '../oci/reference.js';
import type { PulledManifest } from '../oci/transfer.js';
import type { Context } from '../home/context.js';
import { loadApp, loadStoredApp, type StoredApp } from '../artifact/app.js';
import type { ArtifactKind } from '../artifact/kind.js';
import { wasmLayer, wasmName } from '../artifact/wasm.js';
import type { BuildResult } from '../builder/build.js';
import { unchangedBuild } from '../builder/fingerprint.js';
import { startStep } from '../util/progress.js';
import { looksLikePackageRef } from '../runtimes/package-ref.js';
import type { PackageOptions } from './package.js';
import type { GrantFlags } from '../config/grant-flags.js';

/** What a command is pointed at: a project folder, a build in the local store, or a pushed artifact. */
export type Target =
  | { kind: 'project'; dir: string }
  | { kind: 'stored'; reference: string }
  /** A published package (npm:..., pypi:...), built by name with what `grants` name; `values`: --env may carry values. */
  | { kind: 'package'; text: string; options?: PackageOptions & { grants?: GrantFlags; values?: boolean } }
  | { kind: 'remote'; reference: Reference };

/**
 * `[dir | name:version | registry/repo:tag]`: an existing folder is a project; name:version
 * names a build in the local store; a reference with a registry host names a pushed artifact.
 */
export async function parseTarget(arg: string | Target = '.'): Promise<Target> {
  if (typeof arg !== 'string') return arg;
  if (looksLikePackageRef(arg)) return { kind: 'package', text: arg };
  const isDir = await stat(arg).then((s) => s.isDirectory(), () => false);
  if (isDir) return { kind: 'project', dir: arg };
  if (isRemoteReference(arg)) return { kind: 'remote', reference: parseRemote(arg, 'reference') };
  if (/^[a-z0-9][a-z0-9._/-]*:[\w][\w.-]*$/.test(arg)) return { kind: 'stored', reference: arg };
  throw new FabricksError('USAGE', `"${arg}" is neither a project folder, a name:version of a build in the local store, a registry reference, nor a package reference`, {
    hint: 'pass a folder holding fabricks.toml, a name:version that fabricks build printed, registry/repository:tag, or a published package such as npm:@scope/pkg@1.2.3 or pypi:pkg==1.2.3',
  });
}

export type ResolvedTarget =
  | { kind: 'app'; app: StoredApp; built?: BuildResult; pulled?: PulledManifest; component?: Uint8Array }
  | { kind: 'wasm'; reference: string; name: string; layer: Descriptor; pulled: PulledManifest };

/**
 * Turns any target into an artifact in the local store, once: a project is built (a no-op build
 * is cheap) and its build's own manifest is used, never the name:version tag another build may
 * have moved since; a registry reference is pulled (only what the store lacks), its kind checked
 * from the manifest before any layer is fetched.
 */
export async function resolveTarget(target: Target, ctx: Context, accept: ArtifactKind[] = ['app']): Promise<ResolvedTarget> {
  const { store } = ctx.home;
  if (target.kind === 'project') {
    // nothing it was built from changed: its last build, without loading the builder
    const unchanged = await unchangedBuild(ctx.home.buildCacheDir, target.dir);
    const app = unchanged && (await loadApp(store, unchanged.reference, unchanged.manifest).catch(() => undefined));
    if (unchanged && app) {
      startStep(ctx.reporter, 'build', `${unchanged.name}:${unchanged.version}`)({ digest: unchanged.manifest.digest, size: unchanged.manifest.size, cached: true });
      return { kind: 'app', app, built: unchanged };
    }
    const { build } = await import('../builder/build.js');
    const built = await build(target.dir, ctx);
    return { kind: 'app', app: await loadApp(store, built.reference, built.manifest), built };
  }
  if (target.kind === 'package') {
    const { buildPackage } = await import('./package.js');
    const built = await buildPackage(target.text, target.options ?? {}, ctx);
    return { kind: 'app', app: await loadApp(store, built.reference, built.manifest), built };
  }
  if (target.kind === 'stored') return { kind: 'app', app: await loadStoredApp(store, target.reference) };
  // the registry client loads only for a registry reference
  const { pullArtifact } = await import('./pull-artifact.js');
  const { pulled, kind, app, component } = await pullArtifact(target.reference, ctx, accept);
  if (kind === 'wasm') {
    const layer = wasmLayer(pulled.manifestValue, pulled.reference);
    return { kind: 'wasm', reference: pulled.reference, name: wasmName(layer, target.reference.repository), layer, pulled };
  }
  return { kind: 'app', app: app!, pulled, ...(component ? { component } : {}) };
}
