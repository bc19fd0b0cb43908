import { readFile } from 'node:fs/promises';
import { LayoutStore } from '../../oci/layout-store.js';
import { cacheDir, fabricksHome, storeDir } from '../../util/paths.js';
import type { Reporter } from '../../util/progress.js';
import { build } from '../../builder/pipeline.js';
import { FabricksError } from '../../util/errors.js';
import { composeLayers } from '../../compose/compose.js';
import { runComponent, transpiled } from '../../engine/run.js';
import { loadStoredApp } from '../../artifact/app-decode.js';
import type { Target } from '../target.js';
import type { RegistryOptions } from '../../oci/registry/client.js';
import { pullRunnable } from './pull.js';

/**
 * Runs a project (built first if anything changed; a no-op build is cheap) or a stored
 * name:version. Returns the program's exit status.
 */
export async function runCommand(target: Target, args: string[], reporter: Reporter, registry: RegistryOptions = {}): Promise<number> {
  const home = fabricksHome();
  const store = await LayoutStore.open(storeDir(home));
  let name: string;
  let digest;
  let bytes: () => Promise<Uint8Array>;
  let listen: number[];
  if (target.kind === 'project') {
    const built = await build(target.dir, { reporter, registry });
    name = built.name;
    digest = built.component.digest;
    listen = built.capabilities.network.listen;
    bytes = () => readFile(built.component.path);
  } else if (target.kind === 'remote') {
    // the registry says what the reference points at now; only missing blobs are fetched
    const pulled = await pullRunnable(target.reference, registry, reporter);
    ({ name, digest, listen } = pulled);
    bytes = async () => pulled.bytes;
  } else {
    const app = await loadStoredApp(store, target.reference);
    name = app.config.name;
    digest = app.config.component.digest;
    listen = app.config.capabilities.network.listen;
    bytes = async () => (await composeLayers(store, app.runtimeLayer, app.moduleLayer, home, app.config.component.digest)).bytes;
  }
  if (listen.length > 0) {
    throw new FabricksError('RUN_FAILED', `${name} asks to listen on ${listen.join(', ')}, and fabricks run cannot serve wasi:http yet`, {
      hint: 'remove [capabilities.network] listen to run it as a command',
    });
  }
  const t = await transpiled(cacheDir(home), digest, bytes, reporter);
  return runComponent(t, { args: [name, ...args], env: [] });
}
