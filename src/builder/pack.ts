import { readFile } from 'node:fs/promises';
import { FabricksError } from '../util/errors.js';
import { sha256, type Digest } from '../oci/digest.js';
import type { ProjectConfig } from '../config/project.js';
import type { PackedFile } from '../compose/module-layer.js';
import type { Language } from '../artifact/runtime.js';
import { startStep, type Reporter } from '../util/progress.js';
import { bundleEntrypoint } from './bundle.js';
import type { SourceFile } from './source-files.js';

export type ReadFile = SourceFile & { bytes: Uint8Array };

export interface Packed {
  files: PackedFile[];
  /** Files the bundle read from outside the packed set (e.g. node_modules), with their digests. */
  external: Array<[string, Digest]>;
}

/** The files the module layer holds: JavaScript bundled, Python as it is. */
export function packSources(language: Language, config: ProjectConfig, files: ReadFile[], reporter: Reporter): Promise<Packed> {
  return language === 'python' ? Promise.resolve(pythonFiles(files)) : bundledFiles(config, files, reporter);
}

/** JavaScript: the entrypoint and what it imports become one script, which replaces them in the layer. */
async function bundledFiles(config: ProjectConfig, files: ReadFile[], reporter: Reporter): Promise<Packed> {
  const done = startStep(reporter, 'bundle', config.source.entrypoint);
  const bundle = await bundleEntrypoint(config.source.dir, config.source.entrypoint);
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
  done({ size: bundle.code.length });
  return { files: packed, external };
}

/** Python: the files are packed as they are; the runtime imports them from the layer. */
function pythonFiles(files: ReadFile[]): Packed {
  return { files: files.map((f) => ({ path: f.path, bytes: f.bytes })), external: [] };
}

function firstDuplicate(files: PackedFile[]): string | undefined {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) return f.path;
    seen.add(f.path);
  }
  return undefined;
}
