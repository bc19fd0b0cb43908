import type { Context } from '../home/context.js';
import { build as buildProject, type BuildOptions as ProjectBuildOptions, type BuildResult } from '../builder/build.js';
import { loadApp } from '../artifact/app.js';
import { appComponents, prepareComponents, type PrepareResult } from './prepare.js';

export interface BuildOptions extends ProjectBuildOptions {
  /** Also make the app's pre-initialized form (seconds per change; fabricks prepare does the same). */
  prepare?: boolean;
}

export type { BuildResult };

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
