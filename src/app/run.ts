import { stat } from 'node:fs/promises';
import type { Digest } from '../oci/digest.js';
import type { Context } from '../home/context.js';
import { FabricksError } from '../util/errors.js';
import { capabilitiesOf, limitsOf, type Capabilities } from '../artifact/app.js';
import type { Limits } from '../config/limits.js';

/** For messages about a limit (the CLI's). */
export { formatDuration, formatMemory } from '../config/limits.js';
import type { MountSpec } from '../config/capabilities.js';
import { resolveGrants, resolveLimits, type RunFlags } from './grants.js';
import { checkWideMounts } from './wide-mounts.js';
import { parseTarget, resolveTarget, type Target } from './target.js';
import { packageGrantFlags, packageOnlyFlag } from '../config/grant-flags.js';
import { cachePolicy } from '../engine/compiled-cache.js';
import { EngineProcess, storedComponent } from '../engine/process.js';
import { environConflicts, preparedEnviron, preparedForm, preparedRefused } from '../engine/prepared.js';
import { parseReference } from '../oci/reference.js';
import { Annotation } from '../oci/media-types.js';
import { findBuiltin, kindOf } from '../runtimes/catalogue.js';

export interface RunResult {
  /** The program's exit status. */
  status: number;
  /** Why the engine stopped the program, when it trapped. */
  trap?: string;
  /** The limit that stopped it, when one did, and its value (bytes or ms). */
  limit?: { name: 'memory' | 'timeout'; value: number };
}

/**
 * Runs a project (built first if anything changed), a stored name:version, or a pushed app or
 * Wasm component, granting it its arguments, stdio and what its artifact's capabilities (and
 * the --allow-* flags, explicitly) grant; nothing else. A service that listens is served until
 * Ctrl-C or SIGTERM.
 */
export async function run(targetArg: string | Target, args: string[], ctx: Context, flags: RunFlags = {}, packageFlags: PackageRunFlags = {}): Promise<RunResult> {
  // the engine started while the CLI loaded; it waits for its job while the target is resolved
  const engine = EngineProcess.take();
  try {
    return await runOn(engine, await withPackageFlags(await parseTarget(targetArg), flags, packageFlags), args, ctx, flags, typeof targetArg === 'string' ? targetArg : undefined);
  } finally {
    engine.cancel();
  }
}

/** What `fabricks run` takes for a package reference beyond RunFlags: the rules it may reach, a profile, --with and --bin. */
export interface PackageRunFlags {
  connect?: string[];
  profile?: string;
  with?: string[];
  bin?: string;
}

/**
 * A package is built granted what the flags name: --connect, --profile, and the variables and
 * folders of --env and --mount, which then fill in their values and host folders as for any
 * artifact. A project or stored build is granted what it declares: those flags are refused.
 */
async function withPackageFlags(target: Target, flags: RunFlags, p: PackageRunFlags): Promise<Target> {
  if (target.kind === 'package') {
    const grants = packageGrantFlags({ ...(p.connect ? { connect: p.connect } : {}), ...(p.profile !== undefined ? { profile: p.profile } : {}), ...(flags.env ? { env: flags.env } : {}), ...(flags.mount ? { mount: flags.mount } : {}) });
    return { ...target, options: { grants, values: true, ...(p.bin !== undefined ? { program: p.bin } : {}), ...(p.with ? { with: p.with } : {}) } };
  }
  const only = packageOnlyFlag(p) ?? (p.with?.length ? `--with ${p.with[0]}` : p.bin !== undefined ? `--bin ${p.bin}` : undefined);
  if (only) {
    throw new FabricksError('USAGE', `${only}: this flag is for a package reference (npm:..., pypi:...); what a project or a stored build may do is what its fabricks.toml declares`, {
      hint: 'add it to [capabilities] in fabricks.toml and build again, or widen this run with --allow-connect / --allow-env / --allow-mount',
    });
  }
  return target;
}

async function runOn(engine: EngineProcess, targetArg: Target, args: string[], ctx: Context, flags: RunFlags, written: string | undefined): Promise<RunResult> {
  const resolved = await resolveTarget(await parseTarget(targetArg), ctx, ['app', 'wasm']);
  let name: string;
  // a single-component artifact declares nothing: it is granted nothing but what flags widen
  let caps: Capabilities = capabilitiesOf({});
  let declared: Limits = {};
  let projectMounts: MountSpec[] | undefined;
  // fabricks' runtimes serve request after request on one instance; an unknown component is
  // not trusted to
  let reuseInstances = false;
  let acceptLoop = false;
  let preparable = false;
  // fabricks' JavaScript runtime stops short of the memory it cannot address (catalogue.ts)
  let memoryCap: number | undefined;
  // a fabricks app runs as its runtime layer with its module layer answering
  // fabricks:app/source (one compiled runtime for every app on it), other components whole
  let layers: Array<{ digest: Digest; size: number }>;
  if (resolved.kind === 'wasm') {
    layers = [resolved.layer];
    name = resolved.name;
  } else {
    const { app, built } = resolved;
    layers = [app.runtimeLayer, app.moduleLayer];
    name = app.config.name;
    caps = capabilitiesOf(app.config);
    declared = limitsOf(app.config);
    reuseInstances = true;
    const kind = kindOf(undefined, app.runtimeLayer.annotations?.[Annotation.runtime] ?? '');
    acceptLoop = kind.acceptLoop === true;
    preparable = kind.preparable === true;
    const runtime = parseReference(app.config.runtime.reference);
    memoryCap = 'error' in runtime ? undefined : findBuiltin(runtime)?.memoryLimit;
    // host folders come from the user's own fabricks.toml, never from an artifact
    projectMounts = built?.capabilities.filesystem.mounts;
  }
  const grants = resolveGrants(caps, projectMounts, process.env, flags, process.cwd());
  const limits = resolveLimits(declared, flags, Boolean(grants.listen));
  if (memoryCap !== undefined && (limits.memory === undefined || limits.memory > memoryCap)) limits.memory = memoryCap;
  for (const m of grants.mounts) {
    const s = await stat(m.host).catch(() => undefined);
    if (!s?.isDirectory()) throw new FabricksError('USAGE', `the folder for ${m.guest}, ${m.host}, ${s ? 'is not a folder' : 'does not exist'}`, { hint: 'create it, or point the mount at another folder (--mount HOST:GUEST)' });
  }
  for (const w of await checkWideMounts(grants.mounts, flags.allowWideMount === true)) {
    ctx.reporter({ event: 'note', code: 'wide-mount', subject: `${w.mount.guest} is ${w.real} (rw)`, detail: `${w.why}: the service may change anything there; allowed by --allow-wide-mount` });
  }
  for (const what of grants.widened) ctx.reporter({ event: 'note', code: 'widened', subject: what, detail: `granted for this run by a flag; ${name}'s artifact does not ask for it` });
  const granted = { args: [name, ...args], env: grants.env, mounts: grants.mounts, connect: grants.connect, limits };
  const { home } = ctx;
  // every blob is checked against its digest before the engine reads it
  const files = [];
  for (const l of layers) files.push(await storedComponent(home.store, l));
  // FABRICKS_PREPARED=0: start as without the pre-initialized form (to compare, or to rule it out).
  // Not when serving: a JavaScript instance made from a snapshot traps at the first async function
  // of its first request (docs/architecture.md, "Pre-initialized apps").
  if (preparable && !grants.listen && process.env.FABRICKS_PREPARED !== '0') {
    // the runtime pre-initialized for this app, when build, pull or prepare made it
    const ahead = await preparedForm(home.compiledCacheDir, files[0]!, files[1]!);
    // its imports looked up variables that were absent then: not for a run that sets one
    const conflicts = ahead ? environConflicts(preparedEnviron(home.compiledCacheDir, ahead), grants.env) : [];
    if (ahead && conflicts.length === 0) files[0] = ahead;
    else if (ahead) {
      ctx.reporter({ event: 'note', code: 'not-prepared', subject: name, detail: `starts without its pre-initialized form: its dependencies read ${conflicts.join(', ')} while they loaded, which this run sets` });
    } else if (!(await preparedRefused(home.compiledCacheDir, files[0]!, files[1]!))) {
      ctx.reporter({ event: 'note', code: 'not-prepared', subject: name, detail: `starts without its pre-initialized form on this machine (slower); make it with: fabricks prepare ${written ?? name}` });
    }
  }
  // the roots a Node user trusts besides the public ones (a company proxy's, a test server's)
  const extraRoots = process.env.NODE_EXTRA_CA_CERTS ? [process.env.NODE_EXTRA_CA_CERTS] : [];
  const opts = { cacheDir: home.compiledCacheDir, reporter: ctx.reporter, policy: cachePolicy(home), extraRoots, ...(ctx.signal ? { signal: ctx.signal } : {}) };
  if (grants.listen) {
    // serving stops on Ctrl-C (SIGTERM), fabricks' own signal handling: it exits 130 (143)
    await engine.serve(files[0]!, files[1], granted, { ...opts, name, ...grants.listen, reuseInstances, acceptLoop });
    return { status: ctx.signal?.reason === 'SIGTERM' ? 143 : 130 };
  }
  ctx.reporter({ event: 'step-start', step: 'run', subject: name });
  const outcome = await engine.run(files[0]!, files[1], granted, opts);
  const limit = outcome.limit === 'memory' ? limits.memory : outcome.limit === 'timeout' ? limits.timeoutMs : undefined;
  return {
    status: outcome.status,
    ...(outcome.trap && !outcome.limit ? { trap: outcome.trap } : {}),
    ...(outcome.limit && limit !== undefined ? { limit: { name: outcome.limit, value: limit } } : {}),
  };
}
