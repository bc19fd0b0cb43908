import { readFile } from 'node:fs/promises';
import { FabricksError } from '../../util/errors.js';
import { sha256, type Digest } from '../../oci/digest.js';
import type { ProjectConfig } from '../../config/project.js';
import type { PackedFile } from '../../compose/module-layer.js';
import { startStep, type Reporter } from '../../util/progress.js';
import type { Packed, ReadFile } from '../kind.js';
import { bundleEntrypoint } from './bundle.js';

/** The entrypoint and what it imports become one script (and its source map), which replace them in the layer. */
export async function bundledFiles(config: ProjectConfig, files: ReadFile[], reporter: Reporter): Promise<Packed> {
  const done = startStep(reporter, 'bundle', config.source.entrypoint);
  const bundle = await bundleEntrypoint(config.source.dir, config.source.entrypoint, { strictBuiltins: config.source.strictBuiltins });
  for (const { owner, modules } of bundle.unavailable) {
    reporter({
      event: 'note',
      code: 'unavailable-builtin',
      subject: owner ? `package ${owner}` : 'your code',
      detail: `imports ${modules.join(', ')}, which the JavaScript runtime does not provide: the build goes on, and calling ${modules.length === 1 ? 'it' : 'them'} throws an error with code ERR_FABRICKS_UNAVAILABLE ([source] strict-builtins = true makes this a build error)`,
    });
  }
  const bundled = new Set(bundle.inputs);
  const packed: PackedFile[] = files.filter((f) => !bundled.has(f.abs)).map((f) => ({ path: f.path, bytes: f.bytes }));
  packed.push({ path: config.source.entrypoint, bytes: bundle.code }, { path: `${config.source.entrypoint}.map`, bytes: bundle.map });
  const dupe = firstDuplicate(packed);
  if (dupe) throw new FabricksError('SOURCE_INVALID', `${dupe} is both a source file and a name the build uses for the bundle`, { hint: `rename it or add it to [source] exclude` });
  const packedPaths = new Set(files.map((f) => f.abs));
  const external: Array<[string, Digest]> = [];
  for (const input of bundle.inputs) {
    if (!packedPaths.has(input)) external.push([input, sha256(await readFile(input))]);
  }
  // what the program reads at run time beside the bundle (package.json files, JSON it requires)
  const taken = new Set(packed.map((f) => f.path));
  for (const asset of bundle.assets) {
    if (taken.has(asset.path)) continue;
    const bytes = await readFile(asset.abs);
    packed.push({ path: asset.path, bytes });
    taken.add(asset.path);
    if (!packedPaths.has(asset.abs)) external.push([asset.abs, sha256(bytes)]);
  }
  done({ size: bundle.code.length });
  return { files: packed, external };
}

function firstDuplicate(files: PackedFile[]): string | undefined {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) return f.path;
    seen.add(f.path);
  }
  return undefined;
}
