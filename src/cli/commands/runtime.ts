import { FabricksError } from '../../util/errors.js';
import { LayoutStore } from '../../oci/layout-store.js';
import { fabricksHome, storeDir } from '../../util/paths.js';
import type { Reporter } from '../../util/progress.js';
import { BUILTIN_RUNTIMES, builtinReference, builtinShortName, findBuiltinByName } from '../../runtimes/catalogue.js';
import { ensureBuiltinRuntime } from '../../runtimes/build-runtime.js';
import { fetchManifest } from '../../oci/manifest.js';
import type { RegistryOptions } from '../../oci/registry/client.js';
import { pushManifest, type TransferReport } from '../../oci/transfer.js';
import { parseRemote } from '../../oci/reference.js';

export interface RuntimeBuildResult {
  reference: string;
  digest: string;
  size: number;
  manifest: string;
  built: boolean;
}

export async function runtimeBuildCommand(name: string, force: boolean, reporter: Reporter): Promise<RuntimeBuildResult> {
  const rt = findBuiltinByName(name);
  if (!rt) {
    throw new FabricksError('RUNTIME_UNKNOWN', `"${name}" is not a runtime fabricks builds`, {
      hint: `the runtimes there are: ${BUILTIN_RUNTIMES.map(builtinShortName).join(', ')}`,
    });
  }
  const store = await LayoutStore.open(storeDir(fabricksHome()));
  const stored = await ensureBuiltinRuntime(rt, store, reporter, { force });
  return { reference: stored.reference, digest: stored.layer.digest, size: stored.layer.size, manifest: stored.manifest.digest, built: stored.built };
}

export interface RuntimeListEntry {
  reference: string;
  description: string;
  stored: { digest: string; size: number } | null;
}

export async function runtimeListCommand(): Promise<RuntimeListEntry[]> {
  const store = await LayoutStore.open(storeDir(fabricksHome()));
  const out: RuntimeListEntry[] = [];
  for (const rt of BUILTIN_RUNTIMES) {
    const reference = builtinReference(rt);
    let stored: RuntimeListEntry['stored'] = null;
    try {
      const layer = (await fetchManifest(store, await store.resolve(reference))).layers[0];
      if (layer) stored = { digest: layer.digest, size: layer.size };
    } catch {
      /* not built on this machine yet */
    }
    out.push({ reference, description: rt.description, stored });
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
export async function runtimePublishCommand(destination: string, runtimeName: string | undefined, registry: RegistryOptions, reporter: Reporter): Promise<RuntimePublishResult> {
  const dest = parseRemote(destination, 'destination');
  // without --runtime, the destination's last path part and tag name it (…/python:3.14)
  const name = runtimeName ?? `${dest.repository.split('/').pop()}${dest.tag ? `:${dest.tag}` : ''}`;
  const rt = findBuiltinByName(name);
  if (!rt) {
    throw new FabricksError('RUNTIME_UNKNOWN', runtimeName ? `"${runtimeName}" is not a runtime fabricks builds` : `cannot tell which runtime to publish from "${destination}"`, {
      hint: `name it with --runtime (one of ${BUILTIN_RUNTIMES.map(builtinShortName).join(', ')})`,
    });
  }
  if (dest.digest) throw new FabricksError('USAGE', `destination "${destination}" has a digest; publish to a tag`);
  const home = fabricksHome();
  const store = await LayoutStore.open(storeDir(home));
  const stored = await ensureBuiltinRuntime(rt, store, reporter);
  const root = await store.fetchReference(stored.reference);
  const report = await pushManifest(store, root, dest.tag ? dest : { ...dest, tag: rt.tag }, { registry, reporter, home });
  return { ...report, runtime: stored.reference, bytesSent: report.bytes };
}
