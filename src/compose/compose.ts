import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { sha256, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/content.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { wacPlug } from '../tools/wac.js';

export interface ComposeOptions {
  /** The digest the result must have (a recorded build): anything else is DIGEST_MISMATCH. */
  expect?: Digest;
  /** The module layer's bytes when they are not in the store yet (a build stores them last). */
  moduleBytes?: Uint8Array;
  signal?: AbortSignal;
}

/**
 * Composes a runtime layer and a module layer from the store into one component with wac plug.
 * Composition is deterministic, so the result can be checked against a recorded digest.
 */
export async function composeLayers(store: LayoutStore, runtime: Descriptor, module: Descriptor, scratchDir: string, options: ComposeOptions = {}): Promise<{ bytes: Uint8Array; digest: Digest }> {
  const dir = await mkdtemp(join(scratchDir, '.compose-'));
  try {
    const out = join(dir, 'app.wasm');
    let plug = store.blobPath(module.digest);
    if (options.moduleBytes) {
      plug = join(dir, 'module.wasm');
      await writeFile(plug, options.moduleBytes);
    }
    try {
      await wacPlug(store.blobPath(runtime.digest), plug, out, options.signal);
    } catch (e) {
      if (!(e instanceof FabricksError) || e.code !== 'TOOL_FAILED') throw e;
      // both layers match their digests (the store checks them), so their content is at fault
      throw new FabricksError('COMPONENT_INVALID', `runtime ${runtime.digest} and module ${module.digest} do not compose: ${e.message.split('\n')[0]}`, {
        cause: e,
        hint: 'the runtime or the module layer is not a component wac can plug together; rebuild or pull the runtime again (fabricks runtime build --force, or a fresh pull), and see --verbose for wac\'s words',
      });
    }
    const bytes = await readFile(out);
    const digest = sha256(bytes);
    if (options.expect && digest !== options.expect) {
      throw new FabricksError('DIGEST_MISMATCH', `recomposing ${runtime.digest.slice(0, 19)} + ${module.digest.slice(0, 19)} gave ${digest}, not the recorded ${options.expect}`, {
        hint: 'both layers match their digests, so the composition itself differs: the artifact was built with another wac than 0.12.0, or by another tool; run npm run setup to get the wac fabricks pins',
      });
    }
    return { bytes, digest };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
