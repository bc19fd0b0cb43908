import { readFile } from 'node:fs/promises';
import type { Digest } from '../oci/digest.js';
import type { Context } from '../home/context.js';
import { FabricksError, throwIfAborted } from '../util/errors.js';
import { recompose } from '../artifact/recompose.js';
import { parseTarget, resolveTarget, type Target } from './target.js';

export interface RunResult {
  /** The program's exit status. */
  status: number;
  /** Why the engine stopped the program, when it trapped. */
  trap?: string;
}

/**
 * Runs a project (built first if anything changed), a stored name:version, or a pushed app or
 * Wasm component, granting it its arguments and stdio and nothing else.
 */
export async function run(targetArg: string | Target, args: string[], ctx: Context): Promise<RunResult> {
  const resolved = await resolveTarget(await parseTarget(targetArg), ctx, ['app', 'wasm']);
  let name: string;
  let digest: Digest;
  let bytes: () => Promise<Uint8Array>;
  let listen: number[] = [];
  if (resolved.kind === 'wasm') {
    name = resolved.name;
    digest = resolved.layer.digest;
    bytes = () => ctx.home.store.fetch(resolved.layer);
  } else {
    const { app, built, component } = resolved;
    name = app.config.name;
    digest = app.config.component.digest;
    listen = app.config.capabilities.network.listen;
    // a project's build left the component in .fabricks/app.wasm; others compose it again
    bytes = built ? () => readFile(built.component.path) : component ? async () => component : () => recompose(ctx.home.store, app, ctx.home.scratchDir, ctx.reporter, ctx.signal);
  }
  if (listen.length > 0) {
    throw new FabricksError('RUN_FAILED', `${name} asks to listen on ${listen.join(', ')}, and fabricks run cannot serve wasi:http yet`, {
      hint: 'remove [capabilities.network] listen to run it as a command',
    });
  }
  // the engine (preview2-shim) loads only when something runs
  const { transpiled } = await import('../engine/transpile.js');
  const { runComponent } = await import('../engine/run.js');
  const t = await transpiled(ctx.home.transpileCacheDir, digest, bytes, ctx.reporter);
  throwIfAborted(ctx.signal);
  ctx.reporter({ event: 'step-start', step: 'run', subject: name });
  return runComponent(t, { args: [name, ...args], env: [] });
}
