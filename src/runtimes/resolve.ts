import { extname } from 'node:path';
import { FabricksError } from '../errors.js';
import type { ProjectConfig } from '../config/project.js';
import type { LockFile } from '../config/lock.js';
import { formatReference } from '../config/reference.js';
import type { Descriptor } from '../oci/content.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { fetchManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import type { Reporter } from '../progress.js';
import { BUILTIN_RUNTIMES, builtinReference, builtinShortName, findBuiltin, isBuiltinRegistry, type BuiltinRuntime } from './catalogue.js';
import { ensureBuiltinRuntime } from './build-runtime.js';

export interface ResolvedRuntime {
  /** The reference as written in [from] image. */
  image: string;
  /** The runtime it resolved to, with its tag (e.g. fabricks.dev/runtimes/node:0.1). */
  reference: string;
  /** Short name recorded in the layer's fabricks.runtime annotation (e.g. node:0.1). */
  name: string;
  layer: Descriptor;
  /** What the build does with the sources: bundle them (javascript) or pack them as they are. */
  language: 'javascript' | 'python';
  via: 'lock' | 'store' | 'built';
}

/** A runtime fabricks did not build is taken to be Python when its short name says so. */
function languageOf(builtin: BuiltinRuntime | undefined, name: string): ResolvedRuntime['language'] {
  return builtin ? builtin.language : name.startsWith('python') ? 'python' : 'javascript';
}

function knownRuntimes(): string {
  return BUILTIN_RUNTIMES.map(builtinReference).join(', ');
}

/** DESIGN.md "Resolving a runtime": the lock's digest, the local store, then a local build. */
export async function resolveRuntime(config: ProjectConfig, lock: LockFile | undefined, store: LayoutStore, reporter: Reporter): Promise<ResolvedRuntime> {
  const ref = config.from.reference;
  const builtin = findBuiltin(ref);
  if (isBuiltinRegistry(ref) && !builtin) {
    throw new FabricksError('RUNTIME_UNKNOWN', `${config.from.image} ([from] image in ${config.file}) is not a runtime fabricks provides`, {
      hint: `the runtimes there are: ${knownRuntimes()} (no tag means the newest)`,
    });
  }
  if (builtin) checkEntrypoint(config, builtin);

  if (lock && lock.runtime.image === config.from.image) {
    const layer: Descriptor = { mediaType: MediaType.runtimeLayer, digest: lock.runtime.digest, size: lock.runtime.size };
    const reference = builtin ? builtinReference(builtin) : formatReference(ref);
    const name = builtin ? builtinShortName(builtin) : shortName(reference);
    if (await store.exists(layer)) return { image: config.from.image, reference, name, layer, language: languageOf(builtin, name), via: 'lock' };
    if (builtin) {
      const built = await ensureBuiltinRuntime(builtin, store, reporter);
      if (built.layer.digest !== lock.runtime.digest) {
        throw new FabricksError('LOCK_MISMATCH', `fabricks.lock pins runtime ${lock.runtime.digest}, but this fabricks builds ${config.from.image} as ${built.layer.digest}`, {
          hint: 'delete fabricks.lock to move to the runtime this fabricks builds (the next build writes the lock again)',
        });
      }
      return { image: config.from.image, reference, name, layer: built.layer, language: languageOf(builtin, name), via: 'built' };
    }
    throw notAvailable(config);
  }

  if (builtin) {
    const stored = await ensureBuiltinRuntime(builtin, store, reporter);
    return { image: config.from.image, reference: stored.reference, name: builtinShortName(builtin), layer: stored.layer, language: builtin.language, via: stored.built ? 'built' : 'store' };
  }
  // Any other registry: a runtime already in the local store (e.g. from `fabricks runtime build`).
  const reference = formatReference(ref);
  try {
    const manifest = await fetchManifest(store, await store.resolve(reference));
    const layer = manifest.layers.find((l) => l.mediaType === MediaType.runtimeLayer);
    if (layer) return { image: config.from.image, reference, name: shortName(reference), layer, language: languageOf(undefined, shortName(reference)), via: 'store' };
  } catch {
    /* not in the store */
  }
  throw notAvailable(config);
}

function notAvailable(config: ProjectConfig): FabricksError {
  return new FabricksError('RUNTIME_UNSUPPORTED', `runtime ${config.from.image} ([from] image in ${config.file}) is not in the local store`, {
    hint: `fabricks cannot pull runtimes from registries yet; use one it builds itself: ${knownRuntimes()}`,
  });
}

function shortName(reference: string): string {
  return reference.split('/').pop() ?? reference;
}

function checkEntrypoint(config: ProjectConfig, rt: BuiltinRuntime): void {
  const ext = extname(config.source.entrypoint);
  if (!rt.extensions.includes(ext)) {
    throw new FabricksError('CONFIG_INVALID', `${config.file}: [source] entrypoint: "${config.source.entrypoint}" is not a file the ${rt.name} runtime runs (${rt.extensions.join(', ')})`, {
      hint: `point entrypoint at a ${rt.language} file, or change [from] image`,
    });
  }
}
