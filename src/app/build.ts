import type { Context } from '../home/context.js';
import { FabricksError } from '../util/errors.js';
import { build as buildProject, type BuildOptions as ProjectBuildOptions, type BuildResult } from '../builder/build.js';
import { loadApp } from '../artifact/app.js';
import type { GrantFlags } from '../config/grant-flags.js';
import { looksLikePackageRef } from '../runtimes/package-ref.js';
import { appComponents, prepareComponents, type PrepareResult } from './prepare.js';
import type { PackageBuildResult, PackageOptions } from './package.js';

export interface BuildOptions extends ProjectBuildOptions {
  /** Also make the app's pre-initialized form (seconds per change; fabricks prepare does the same). */
  prepare?: boolean;
}

export type { BuildResult, PackageBuildResult };

/**
 * Builds the project in `dir` into .fabricks/app.wasm and the local store (tagged name:version),
 * and compiles what it built for this machine (the runtime once for every app on it, the module
 * in milliseconds), so that no MCP client's spawn compiles after a build. With `prepare`, the
 * pre-initialized form too.
 */
export async function build(dir: string, ctx: Context, options: BuildOptions = {}): Promise<BuildResult & { prepared: PrepareResult }> {
  const built = await buildProject(dir, ctx, options);
  const app = await loadApp(ctx.home.store, built.reference, built.manifest);
  const prepared = await prepareComponents(built.reference, appComponents(app), ctx, { snapshot: options.prepare === true });
  return { ...built, prepared };
}

/**
 * `fabricks build [dir | npm:... | pypi:...]`: a project folder as its fabricks.toml says, or a
 * published package by name, granted what the flags name. The grant flags are refused for a
 * project, whose fabricks.toml says what it is granted.
 */
export async function buildTarget(target: string, ctx: Context, options: BuildOptions & PackageOptions & { grants?: GrantFlags } = {}): Promise<(BuildResult | PackageBuildResult) & { prepared: PrepareResult }> {
  const { wheels, prepare, grants, program, with: extra } = options;
  const own = { ...(wheels ? { wheels } : {}), ...(prepare ? { prepare } : {}) };
  if (looksLikePackageRef(target)) {
    const { buildPackage } = await import('./package.js');
    return buildPackage(target, { ...(grants ? { grants } : {}), ...(program !== undefined ? { program } : {}), ...(extra ? { with: extra } : {}), build: own }, ctx);
  }
  const g = grants ?? {};
  const flag = g.connect?.length ? '--connect' : g.env?.length ? '--env' : g.mount?.length ? '--mount' : g.profile !== undefined ? '--profile' : extra?.length ? '--with' : program !== undefined ? '--bin' : undefined;
  if (flag) {
    throw new FabricksError('USAGE', `${flag} is for building a published package (npm:..., pypi:...); ${target} is a project, granted what its fabricks.toml declares`, { hint: 'write the grant into [capabilities] in its fabricks.toml' });
  }
  return build(target, ctx, own);
}
