import { FabricksError } from '../util/errors.js';
import { parseRemote } from '../oci/reference.js';
import { pushManifest, type TransferReport } from '../oci/transfer.js';
import type { Context } from '../home/context.js';
import { loadStoredRuntime } from '../artifact/runtime.js';
import { BUILTIN_RUNTIMES, builtinReference, builtinShortName, findBuiltinByName, type BuiltinRuntime } from '../runtimes/catalogue.js';
import { ensureBuiltinRuntime } from '../runtimes/build-runtime.js';

export interface RuntimeBuildResult {
  reference: string;
  digest: string;
  size: number;
  manifest: string;
  built: boolean;
}

function builtinNamed(name: string, unknown: string, hint: string): BuiltinRuntime {
  const rt = findBuiltinByName(name);
  if (!rt) throw new FabricksError('RUNTIME_UNKNOWN', unknown, { hint });
  return rt;
}

const names = () => BUILTIN_RUNTIMES.map(builtinShortName).join(', ');

/** Builds a runtime fabricks provides into the local store (again with `force`). */
export async function runtimeBuild(name: string, force: boolean, ctx: Context): Promise<RuntimeBuildResult> {
  const rt = builtinNamed(name, `"${name}" is not a runtime fabricks builds`, `the runtimes there are: ${names()}`);
  const stored = await ensureBuiltinRuntime(rt, ctx.home.store, ctx.reporter, { force, signal: ctx.signal });
  return { reference: stored.reference, digest: stored.layer.digest, size: stored.layer.size, manifest: stored.manifest.digest, built: stored.built };
}

export interface RuntimeListEntry {
  reference: string;
  description: string;
  stored: { digest: string; size: number } | null;
}

/** The runtimes fabricks provides, and which are built on this machine. */
export async function runtimeList(ctx: Context): Promise<RuntimeListEntry[]> {
  const out: RuntimeListEntry[] = [];
  for (const rt of BUILTIN_RUNTIMES) {
    const reference = builtinReference(rt);
    const stored = await loadStoredRuntime(ctx.home.store, reference);
    out.push({ reference, description: rt.description, stored: stored ? { digest: stored.layer.digest, size: stored.layer.size } : null });
  }
  return out;
}

export interface RuntimePublishResult extends TransferReport {
  runtime: string;
  bytesSent: number;
}

/**
 * Publishes a runtime fabricks builds (built first if this machine lacks it) to a registry, so
 * that CI and other machines pull it instead of building it.
 */
export async function runtimePublish(destination: string, runtimeName: string | undefined, ctx: Context): Promise<RuntimePublishResult> {
  const dest = parseRemote(destination, 'destination');
  // without --runtime, the destination's last path part and tag name it (…/python:3.14)
  const name = runtimeName ?? `${dest.repository.split('/').pop()}${dest.tag ? `:${dest.tag}` : ''}`;
  const rt = builtinNamed(name, runtimeName ? `"${runtimeName}" is not a runtime fabricks builds` : `cannot tell which runtime to publish from "${destination}"`, `name it with --runtime (one of ${names()})`);
  if (dest.digest) throw new FabricksError('USAGE', `destination "${destination}" has a digest; publish to a tag`);
  const { store } = ctx.home;
  const stored = await ensureBuiltinRuntime(rt, store, ctx.reporter, { signal: ctx.signal });
  const root = await store.fetchReference(stored.reference);
  const report = await pushManifest(store, root, dest.tag ? dest : { ...dest, tag: rt.tag }, { registry: ctx.registry, reporter: ctx.reporter, home: ctx.home.root });
  return { ...report, runtime: stored.reference, bytesSent: report.bytes };
}
