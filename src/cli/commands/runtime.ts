import { FabricksError } from '../../errors.js';
import { LayoutStore } from '../../oci/layout-store.js';
import { fabricksHome, storeDir } from '../../paths.js';
import type { Reporter } from '../../progress.js';
import { BUILTIN_RUNTIMES, builtinReference, builtinShortName } from '../../runtimes/catalogue.js';
import { ensureBuiltinRuntime } from '../../runtimes/build-runtime.js';
import { fetchManifest } from '../../oci/manifest.js';

export interface RuntimeBuildResult {
  reference: string;
  digest: string;
  size: number;
  manifest: string;
  built: boolean;
}

export async function runtimeBuildCommand(name: string, force: boolean, reporter: Reporter): Promise<RuntimeBuildResult> {
  const candidates = BUILTIN_RUNTIMES.filter((r) => r.name === name.split(':')[0]);
  const tag = name.split(':')[1];
  const rt = tag ? candidates.find((r) => r.tag === tag) : candidates[candidates.length - 1];
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
