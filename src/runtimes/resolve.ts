import { extname } from 'node:path';
import { FabricksError, isFabricksError } from '../util/errors.js';
import type { ProjectConfig } from '../config/project.js';
import type { LockFile } from '../config/lock.js';
import { formatReference, withDefaultTag, type Reference } from '../oci/reference.js';
import type { Descriptor } from '../oci/content.js';
import { MediaType } from '../oci/media-types.js';
import type { Context } from '../home/context.js';
import { loadStoredRuntime } from '../artifact/runtime.js';
import { requireKind } from '../artifact/kind.js';
import { BUILTIN_RUNTIMES, builtinReference, builtinShortName, findBuiltin, isBuiltinRegistry, kindOf, type BuiltinRuntime } from './catalogue.js';
import type { RuntimeKind } from './kind.js';

export interface ResolvedRuntime {
  /** The reference as written in [from] image. */
  image: string;
  /** The runtime it resolved to, with its tag (e.g. fabricks.dev/runtimes/node:0.1). */
  reference: string;
  /** Short name recorded in the layer's fabricks.runtime annotation (e.g. node:0.1). */
  name: string;
  layer: Descriptor;
  /** What the build does with the sources: how they are packed, checked, and what they depend on. */
  kind: RuntimeKind;
  via: 'lock' | 'store' | 'built' | 'pulled';
}

function knownRuntimes(): string {
  return BUILTIN_RUNTIMES.map(builtinReference).join(', ');
}

/**
 * DESIGN.md "Resolving a runtime": the lock's digest, the local store, the registry the reference
 * names (pulled once into the store), and for fabricks' own runtimes a local build.
 */
export async function resolveRuntime(config: ProjectConfig, lock: LockFile | undefined, ctx: Context): Promise<ResolvedRuntime> {
  const { store } = ctx.home;
  // the builder and its tools load only when a runtime is built
  const built = async (rt: BuiltinRuntime) => (await import('./build-runtime.js')).ensureBuiltinRuntime(rt, store, ctx.reporter, { signal: ctx.signal });
  const ref = config.from.reference;
  const builtin = findBuiltin(ref);
  if (isBuiltinRegistry(ref) && !builtin) {
    throw new FabricksError('RUNTIME_UNKNOWN', `${config.from.image} ([from] image in ${config.file}) is not a runtime fabricks provides`, {
      hint: `the runtimes there are: ${knownRuntimes()} (no tag means the newest)`,
    });
  }
  if (builtin) checkEntrypoint(config, builtin.name, builtin.kind);
  const image = config.from.image;

  if (builtin) {
    if (lock && lock.runtime.image === image) {
      const layer: Descriptor = { mediaType: MediaType.runtimeLayer, digest: lock.runtime.digest, size: lock.runtime.size };
      const common = { image, reference: builtinReference(builtin), name: builtinShortName(builtin), kind: builtin.kind };
      if (await store.exists(layer)) return { ...common, layer, via: 'lock' };
      const fresh = await built(builtin);
      if (fresh.layer.digest !== lock.runtime.digest) {
        throw new FabricksError('LOCK_MISMATCH', `fabricks.lock pins runtime ${lock.runtime.digest}, but this fabricks builds ${image} as ${fresh.layer.digest}`, {
          hint: 'delete fabricks.lock to move to the runtime this fabricks builds (the next build writes the lock again)',
        });
      }
      return { ...common, layer: fresh.layer, via: 'built' };
    }
    const stored = await built(builtin);
    return { image, reference: stored.reference, name: builtinShortName(builtin), layer: stored.layer, kind: builtin.kind, via: stored.built ? 'built' : 'store' };
  }

  // A runtime on any other registry: the store, else pulled from there once.
  const reference = formatReference(withDefaultTag(ref));
  const locked = lock && lock.runtime.image === image ? lock.runtime : undefined;
  let found = await storedRuntime(ctx, reference);
  let via: ResolvedRuntime['via'] = locked && found?.layer.digest === locked.digest ? 'lock' : 'store';
  if (!found || (locked && found.layer.digest !== locked.digest)) {
    await pullRuntime(ref, reference, config, ctx);
    found = await storedRuntime(ctx, reference);
    via = 'pulled';
    if (!found) throw new FabricksError('RUNTIME_UNSUPPORTED', `${reference} ([from] image in ${config.file}) holds no ${MediaType.runtimeLayer} layer`);
  }
  if (locked && found.layer.digest !== locked.digest) {
    throw new FabricksError('LOCK_MISMATCH', `fabricks.lock pins runtime ${locked.digest}, but ${reference} is now ${found.layer.digest}`, {
      hint: 'the tag moved in the registry: delete fabricks.lock to move to the new runtime, or pin the old one with [from] image = "...@sha256:..."',
    });
  }
  const name = found.name ?? shortName(reference);
  checkEntrypoint(config, name, found.kind);
  return { image, reference, name, layer: found.layer, kind: found.kind, via };
}

async function pullRuntime(ref: Reference, reference: string, config: ProjectConfig, ctx: Context): Promise<void> {
  try {
    const { pullToStore } = await import('../oci/transfer.js');
    await pullToStore(ref, ctx.home.store, {
      registry: ctx.registry,
      reporter: ctx.reporter,
      home: ctx.home.root,
      accept: (manifest, where) => {
        requireKind(manifest, `${where} ([from] image in ${config.file})`, ['runtime'], `point [from] image at a runtime published with fabricks runtime publish, or at one of ${knownRuntimes()}`);
      },
    });
  } catch (e) {
    if (isFabricksError(e, 'NOT_FOUND')) {
      throw new FabricksError('RUNTIME_UNSUPPORTED', `runtime ${reference} ([from] image in ${config.file}) is not in registry ${ref.registry}`, {
        hint: `check the reference, or publish it there first: fabricks runtime publish ${reference}`,
        cause: e,
      });
    }
    throw e;
  }
}

/** A runtime manifest in the store: its layer and, from its config, the kind of runtime it is. */
async function storedRuntime(ctx: Context, reference: string): Promise<{ layer: Descriptor; kind: RuntimeKind; name?: string } | undefined> {
  const stored = await loadStoredRuntime(ctx.home.store, reference);
  if (!stored) return undefined;
  return { layer: stored.layer, kind: kindOf(stored.config.language, shortName(reference)), ...(stored.name ? { name: stored.name } : {}) };
}

function shortName(reference: string): string {
  return reference.split('/').pop() ?? reference;
}

function checkEntrypoint(config: ProjectConfig, runtime: string, kind: RuntimeKind): void {
  const ext = extname(config.source.entrypoint);
  const { extensions, language } = kind;
  if (!extensions.includes(ext)) {
    throw new FabricksError('CONFIG_INVALID', `${config.file}: [source] entrypoint: "${config.source.entrypoint}" is not a file the ${runtime} runtime runs (${extensions.join(', ')})`, {
      hint: `point entrypoint at a ${language} file, or change [from] image`,
    });
  }
}
