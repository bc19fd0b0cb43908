import type { LayoutStore } from '../oci/layout-store.js';
import { composeLayers } from '../compose/compose.js';
import { startStep, type Reporter } from '../util/progress.js';
import type { StoredApp } from './app.js';

/**
 * The app's component, composed again from its two stored layers and checked against the digest
 * its config records (composition is deterministic).
 */
export async function recompose(store: LayoutStore, app: StoredApp, scratchDir: string, reporter: Reporter, signal?: AbortSignal): Promise<Uint8Array> {
  const done = startStep(reporter, 'recompose', app.reference);
  const { bytes } = await composeLayers(store, app.runtimeLayer, app.moduleLayer, scratchDir, { expect: app.config.component.digest, ...(signal ? { signal } : {}) });
  done({ digest: app.config.component.digest, size: bytes.length });
  return bytes;
}
