import type { Context } from '../home/context.js';
import { build as buildProject, type BuildResult } from '../builder/build.js';

export type { BuildResult };

/** Builds the project in `dir` into .fabricks/app.wasm and the local store (tagged name:version). */
export function build(dir: string, ctx: Context): Promise<BuildResult> {
  return buildProject(dir, ctx);
}
