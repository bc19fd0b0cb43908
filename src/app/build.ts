import type { Context } from '../home/context.js';
import { FabricksError } from '../util/errors.js';
import { build as buildProject, type BuildOptions, type BuildResult } from '../builder/build.js';
import type { GrantFlags } from '../config/grant-flags.js';
import { looksLikePackageRef } from '../runtimes/package-ref.js';
import type { PackageBuildResult, PackageOptions } from './package.js';

export type { BuildOptions, BuildResult, PackageBuildResult };

/** Builds the project in `dir` into .fabricks/app.wasm and the local store (tagged name:version). */
export function build(dir: string, ctx: Context, options: BuildOptions = {}): Promise<BuildResult> {
  return buildProject(dir, ctx, options);
}

/**
 * `fabricks build [dir | npm:... | pypi:...]`: a project folder as its fabricks.toml says, or a
 * published package by name, granted what the flags name. The grant flags are refused for a
 * project, whose fabricks.toml says what it is granted.
 */
export async function buildTarget(target: string, ctx: Context, options: BuildOptions & PackageOptions & { grants?: GrantFlags } = {}): Promise<BuildResult | PackageBuildResult> {
  if (looksLikePackageRef(target)) {
    const { buildPackage } = await import('./package.js');
    const { wheels, grants, program, with: extra } = options;
    return buildPackage(target, { ...(grants ? { grants } : {}), ...(program !== undefined ? { program } : {}), ...(extra ? { with: extra } : {}), build: wheels ? { wheels } : {} }, ctx);
  }
  const g = options.grants ?? {};
  const flag = g.connect?.length ? '--connect' : g.env?.length ? '--env' : g.mount?.length ? '--mount' : g.profile !== undefined ? '--profile' : options.with?.length ? '--with' : options.program !== undefined ? '--bin' : undefined;
  if (flag) {
    throw new FabricksError('USAGE', `${flag} is for building a published package (npm:..., pypi:...); ${target} is a project, granted what its fabricks.toml declares`, { hint: 'write the grant into [capabilities] in its fabricks.toml' });
  }
  return buildProject(target, ctx, { ...(options.wheels ? { wheels: options.wheels } : {}) });
}
