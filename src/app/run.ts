import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Digest } from '../oci/digest.js';
import type { Context } from '../home/context.js';
import { FabricksError, throwIfAborted } from '../util/errors.js';
import { capabilitiesOf, type Capabilities } from '../artifact/app.js';
import type { MountSpec } from '../config/capabilities.js';
import { resolveGrants, type RunFlags } from './grants.js';
import { parseTarget, resolveTarget, type Target } from './target.js';
import { cachePolicy } from '../engine/transpile-cache.js';
import { storedComponent, WasmtimeHost, wasmtimeAvailable, wasmtimePython } from '../engine/wasmtime.js';

/** Worker threads serving requests: FABRICKS_SERVE_WORKERS, else up to 4 (2 at least). */
function serveWorkers(): number {
  const asked = process.env.FABRICKS_SERVE_WORKERS;
  if (asked !== undefined) {
    const n = Number(asked);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new FabricksError('USAGE', `FABRICKS_SERVE_WORKERS=${asked}: give a whole number from 1 to 64`);
    return n;
  }
  return Math.max(2, Math.min(4, availableParallelism()));
}

/**
 * The engine `fabricks run` uses (FABRICKS_ENGINE): wasmtime (wasmtime-py, the default when
 * installed) or jco (in-process, jco + preview2-shim; always used for serving).
 */
function runEngine(): 'wasmtime' | 'jco' | 'auto' {
  const asked = process.env.FABRICKS_ENGINE;
  if (asked === undefined || asked === '') return 'auto';
  if (asked === 'wasmtime' || asked === 'jco') return asked;
  throw new FabricksError('USAGE', `FABRICKS_ENGINE=${asked}: give wasmtime or jco`);
}

export interface RunResult {
  /** The program's exit status. */
  status: number;
  /** Why the engine stopped the program, when it trapped. */
  trap?: string;
}

/**
 * Runs a project (built first if anything changed), a stored name:version, or a pushed app or
 * Wasm component, granting it its arguments, stdio and what its artifact's capabilities (and
 * the --allow-* flags, explicitly) grant; nothing else.
 */
export async function run(targetArg: string | Target, args: string[], ctx: Context, flags: RunFlags = {}): Promise<RunResult> {
  const engine = runEngine();
  // the wasmtime host loads while the target is resolved; dropped if the run goes elsewhere
  const host = engine !== 'jco' && wasmtimeAvailable() ? WasmtimeHost.take() : undefined;
  if (!host) WasmtimeHost.dropEarly();
  try {
    return await runOn(host, engine, targetArg, args, ctx, flags);
  } finally {
    host?.cancel();
  }
}

async function runOn(host: WasmtimeHost | undefined, engine: 'wasmtime' | 'jco' | 'auto', targetArg: string | Target, args: string[], ctx: Context, flags: RunFlags): Promise<RunResult> {
  const resolved = await resolveTarget(await parseTarget(targetArg), ctx, ['app', 'wasm']);
  let name: string;
  let digest: Digest;
  let bytes: () => Promise<Uint8Array>;
  // a single-component artifact declares nothing: it is granted nothing but what flags widen
  let caps: Capabilities = capabilitiesOf({});
  let projectMounts: MountSpec[] | undefined;
  // fabricks' runtimes serve request after request on one instance (the JavaScript one through
  // its own incoming-handler, not StarlingMonkey's fetch event, upstream #247); an unknown
  // component is not trusted to
  let reuseInstances = false;
  // what wasmtime runs: a fabricks app as its runtime layer with its module layer answering
  // fabricks:app/source (one compiled runtime for every app on it), other components whole
  let layers: Array<{ digest: Digest; size: number }>;
  if (resolved.kind === 'wasm') {
    layers = [resolved.layer];
    name = resolved.name;
    digest = resolved.layer.digest;
    bytes = () => ctx.home.store.fetch(resolved.layer);
  } else {
    const { app, built, component } = resolved;
    layers = [app.runtimeLayer, app.moduleLayer];
    name = app.config.name;
    digest = app.config.component.digest;
    caps = capabilitiesOf(app.config);
    reuseInstances = true;
    // host folders come from the user's own fabricks.toml, never from an artifact
    projectMounts = built?.capabilities.filesystem.mounts;
    // a project's build left the component in .fabricks/app.wasm; others compose it again
    bytes = built ? () => readFile(built.component.path) : component ? async () => component : async () => (await import('../artifact/recompose.js')).recompose(ctx.home.store, app, ctx.home.scratchDir, ctx.reporter, ctx.signal);
  }
  const grants = resolveGrants(caps, projectMounts, process.env, flags, process.cwd());
  for (const m of grants.mounts) {
    const s = await stat(m.host).catch(() => undefined);
    if (!s?.isDirectory()) throw new FabricksError('USAGE', `the folder for ${m.guest}, ${m.host}, ${s ? 'is not a folder' : 'does not exist'}`, { hint: 'create it, or point the mount at another folder (--mount HOST:GUEST)' });
  }
  for (const what of grants.widened) ctx.reporter({ event: 'note', code: 'widened', subject: what, detail: `granted for this run by a flag; ${name}'s artifact does not ask for it` });
  const granted = { args: [name, ...args], env: grants.env, mounts: grants.mounts, connect: grants.connect };
  const { home } = ctx;
  const caches = cachePolicy(home);
  // wasmtime checks certificates against its built-in roots only (wasmtime-wasi-http's
  // webpki-roots): a service that may connect out, run by a user who trusts more roots
  // (NODE_EXTRA_CA_CERTS), runs on the engine that honours them
  const extraRoots = engine === 'auto' && grants.connect.length > 0 && Boolean(process.env.NODE_EXTRA_CA_CERTS);
  if (extraRoots && !grants.listen) ctx.reporter({ event: 'note', code: 'engine', subject: 'NODE_EXTRA_CA_CERTS', detail: 'wasmtime trusts only its built-in certificate roots, so this run uses the in-process engine, which adds these' });
  if (!grants.listen && engine !== 'jco' && !extraRoots) {
    if (engine === 'wasmtime' || wasmtimeAvailable()) {
      // every blob is checked against its digest before the engine reads it
      const files = [];
      for (const l of layers) files.push(await storedComponent(home.store, l));
      ctx.reporter({ event: 'step-start', step: 'run', subject: name });
      return (host ?? WasmtimeHost.start()).run(files[0]!, files[1], granted, { cacheDir: home.compiledCacheDir, reporter: ctx.reporter, policy: caches, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    }
    ctx.reporter({ event: 'note', code: 'engine', subject: 'wasmtime-py', detail: `not installed (${wasmtimePython()}); running on the slower in-process engine. npm run setup installs it` });
  }
  host?.cancel();
  // the in-process engine (jco + preview2-shim) loads only when something runs on it
  const { transpiled } = await import('../engine/transpile.js');
  const { runComponent } = await import('../engine/run.js');
  const t = await transpiled(home.transpileCacheDir, digest, bytes, ctx.reporter, caches);
  throwIfAborted(ctx.signal);
  if (grants.listen) {
    // serving stops on Ctrl-C (SIGTERM), fabricks' own signal handling: it exits 130 (143)
    const { serve } = await import('../engine/serve.js');
    await serve(t, granted, { name, ...grants.listen, workers: serveWorkers(), reuseInstances, reporter: ctx.reporter, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    return { status: ctx.signal?.reason === 'SIGTERM' ? 143 : 130 };
  }
  ctx.reporter({ event: 'step-start', step: 'run', subject: name });
  return runComponent(t, granted);
}
