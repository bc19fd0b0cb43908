import type { Context } from '../home/context.js';
import type { Descriptor } from '../oci/content.js';
import type { StoredApp } from '../artifact/app.js';
import { cachePolicy } from '../engine/compiled-cache.js';
import { EngineProcess, storedComponent, type ComponentFile, type PrepareOutcome } from '../engine/process.js';
import { preparedKey } from '../engine/prepared.js';
import { Annotation } from '../oci/media-types.js';
import { kindOf } from '../runtimes/catalogue.js';
import { parseTarget, resolveTarget, type Target } from './target.js';

/** What preparing did: each component the engine runs, and whether it was compiled now. */
export interface PrepareResult {
  reference: string;
  components: Array<{ role: 'runtime' | 'module' | 'component'; digest: string; size: number; compiled: boolean }>;
  /** The app's pre-initialized form, for a runtime that has one (engine/prepared.ts). */
  snapshot?: { key: string } & PrepareOutcome;
}

/**
 * Readies an artifact in the local store to start at once on this machine: its components
 * compiled by the engine into the compiled cache (the runtime once for every app on it), so
 * that no spawn (an MCP client's, with its timeout) compiles. Local and derived; nothing is pushed.
 */
export async function prepareComponents(reference: string, components: Array<{ role: PrepareResult['components'][number]['role']; layer: Pick<Descriptor, 'digest' | 'size' | 'annotations'> }>, ctx: Context, options: { snapshot?: boolean } = {}): Promise<PrepareResult> {
  const { home } = ctx;
  const files: ComponentFile[] = [];
  for (const c of components) files.push(await storedComponent(home.store, c.layer));
  const opts = { cacheDir: home.compiledCacheDir, reporter: ctx.reporter, policy: cachePolicy(home), ...(ctx.signal ? { signal: ctx.signal } : {}) };
  const engine = EngineProcess.start();
  let compiled: string[];
  try {
    compiled = await engine.compile(files[0]!, files[1], opts);
  } finally {
    engine.cancel();
  }
  const result: PrepareResult = {
    reference,
    components: components.map((c, i) => ({ role: c.role, digest: c.layer.digest, size: c.layer.size, compiled: compiled.includes(files[i]!.hex) })),
  };
  const runtime = components[0]!;
  if (options.snapshot !== false && runtime.role === 'runtime' && files[1] && kindOf(undefined, runtime.layer.annotations?.[Annotation.runtime] ?? '').preparable) {
    const key = preparedKey(files[0]!, files[1]);
    const snapshotter = EngineProcess.start();
    try {
      result.snapshot = { key, ...(await snapshotter.prepare(files[0]!, files[1], key, opts)) };
    } catch (e) {
      // the app still runs as it did without one: never fail a pull for it
      if (ctx.signal?.aborted) throw e;
      result.snapshot = { key, prepared: false, refused: `the engine could not make it: ${(e as Error).message}` };
    } finally {
      snapshotter.cancel();
    }
  }
  return result;
}

export type Components = Parameters<typeof prepareComponents>[1];

/** What the engine runs of an app: its runtime layer, with its module layer answering it. */
export const appComponents = (app: StoredApp): Components => [
  { role: 'runtime', layer: app.runtimeLayer },
  { role: 'module', layer: app.moduleLayer },
];

/** `fabricks prepare <target>`: a project (built first), a stored name:version, or a registry reference (pulled first). */
export async function prepare(targetArg: string | Target, ctx: Context): Promise<PrepareResult> {
  const resolved = await resolveTarget(await parseTarget(targetArg), ctx, ['app', 'wasm']);
  if (resolved.kind === 'wasm') return prepareComponents(resolved.reference, [{ role: 'component', layer: resolved.layer }], ctx);
  return prepareComponents(resolved.app.reference, appComponents(resolved.app), ctx);
}
