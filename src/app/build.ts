import type { Context } from '../home/context.js';
import { build as buildProject, type BuildOptions, type BuildResult } from '../builder/build.js';

export type { BuildOptions, BuildResult };

/** Builds the project in `dir` into .fabricks/app.wasm and the local store (tagged name:version). */
export function build(dir: string, ctx: Context, options: BuildOptions = {}): Promise<BuildResult> {
  return buildProject(dir, ctx, options);
}
