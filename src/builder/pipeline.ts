import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { appReference, loadProject, type ProjectConfig } from '../config/project.js';
import { readLock, writeLock } from '../config/lock.js';
import { sha256, sha256File, type Digest } from '../oci/digest.js';
import { LayoutStore } from '../oci/layout-store.js';
import { writeAtomic } from '../util/atomic.js';
import { describe } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import { cacheDir, fabricksHome, storeDir } from '../util/paths.js';
import type { Reporter } from '../util/progress.js';
import type { RegistryOptions } from '../oci/registry/client.js';
import { resolveRuntime, type ResolvedRuntime } from '../runtimes/resolve.js';
import { generateModuleLayer, type PackedFile } from '../compose/module-layer.js';
import { composeLayers } from '../compose/compose.js';
import { readComponentWorld } from '../compose/component-info.js';
import { bundleEntrypoint } from './bundle.js';
import { BuildCache, type BuildRecord } from './cache.js';
import { collectSourceFiles, type SourceFile } from './source-files.js';
import { appManifest, createdTime, type AppConfig } from '../artifact/app.js';

/** Bumped when the build's outputs change for the same inputs, so old cache entries are not used. */
const BUILD_FORMAT = 1;

export const OUTPUT_DIR = '.fabricks';
export const OUTPUT_COMPONENT = 'app.wasm';

export interface BuildResult {
  reference: string;
  name: string;
  capabilities: ProjectConfig['capabilities'];
  manifest: { digest: Digest; size: number };
  runtime: { ref: string; digest: Digest; size: number };
  module: { digest: Digest; size: number };
  component: { path: string; digest: Digest; size: number };
  /** True when the build was answered from the cache: nothing was bundled, generated or composed. */
  cached: boolean;
}

export interface BuildOptions {
  home?: string;
  reporter: Reporter;
  /** How to reach the registry of a runtime the store does not hold yet. */
  registry?: RegistryOptions;
}

export async function build(projectDir: string, options: BuildOptions): Promise<BuildResult> {
  const { reporter } = options;
  const home = options.home ?? fabricksHome();
  const config = await loadProject(projectDir);
  const lock = await readLock(config.dir);
  const store = await LayoutStore.open(storeDir(home));
  const runtime = await resolveRuntime(config, lock, store, reporter, { home, registry: options.registry ?? {} });

  const files = await collectSourceFiles(config);
  const hashed = await Promise.all(files.map(async (f) => ({ ...f, bytes: await readFile(f.abs) })));
  const key = sha256(
    JSON.stringify({
      format: BUILD_FORMAT,
      runtime: [runtime.reference, runtime.layer.digest],
      name: config.name,
      version: config.version,
      entrypoint: config.source.entrypoint,
      capabilities: config.capabilities,
      created: createdTime() ?? null,
      files: hashed.map((f) => [f.path, sha256(f.bytes)]),
    }),
  );
  const cache = new BuildCache(join(cacheDir(home), 'builds'));
  const reference = appReference(config);
  const outPath = join(config.dir, OUTPUT_DIR, OUTPUT_COMPONENT);

  const record = await cache.get(key);
  if (record && (await store.exists(record.manifest))) {
    const tagged = await store.resolve(reference).then((d) => d.digest, () => undefined);
    if (tagged !== record.manifest.digest) await store.tag(record.manifest, reference);
    if (!(await sameFile(outPath, record))) {
      const moduleDesc = { mediaType: MediaType.moduleLayer, ...record.module };
      const { bytes } = await composeLayers(store, runtime.layer, moduleDesc, home, record.component.digest);
      record.output = await writeOutput(config, bytes);
      await cache.put(key, record);
    }
    await updateLock(config, lock, runtime);
    return result(config, record, runtime, outPath, true);
  }

  const started = Date.now();
  const { packed, external } = runtime.language === 'python' ? pythonFiles(hashed) : await bundledFiles(config, hashed, reporter);
  const moduleBytes = await generateModuleLayer(config.source.entrypoint, packed);
  const moduleDesc = describe(MediaType.moduleLayer, moduleBytes);

  // Python sources are checked by the runtime's own interpreter while wac composes. The checker
  // loads the in-process engine (preview2-shim), so JavaScript builds do not import it.
  // Both finish before either error is reported, so no composition is left running.
  const [composed, checked] = await Promise.allSettled([
    composeLayers(store, runtime.layer, moduleDesc, home, undefined, moduleBytes),
    runtime.language === 'python' ? checkPython(config, store, runtime, home, packed, reporter) : undefined,
  ]);
  if (checked.status === 'rejected') throw checked.reason;
  if (composed.status === 'rejected') throw composed.reason;
  const { bytes: componentBytes, digest: componentDigest } = composed.value;
  const world = readComponentWorld(componentBytes, 'the composed component');
  if (!world.exports.some((e) => e.startsWith('wasi:cli/run@'))) {
    throw new FabricksError('COMPONENT_INVALID', `the composed component does not export wasi:cli/run (it exports ${world.exports.join(', ') || 'nothing'})`);
  }
  if (world.imports.some((i) => i.startsWith('fabricks:app/'))) {
    throw new FabricksError('COMPONENT_INVALID', 'the module layer did not satisfy the runtime\'s fabricks:app/source import');
  }
  await store.push(moduleDesc, moduleBytes);
  const created = createdTime();
  const appConfig: AppConfig = {
    name: config.name,
    version: config.version,
    runtime: { reference: runtime.reference, digest: runtime.layer.digest, size: runtime.layer.size },
    entrypoint: config.source.entrypoint,
    capabilities: config.capabilities,
    component: { digest: componentDigest, size: componentBytes.length },
    wit: world,
    ...(created ? { created } : {}),
  };
  const artifact = appManifest(appConfig, runtime.layer, runtime.name, moduleDesc);
  await store.push(artifact.configDesc, artifact.configBytes);
  await store.push(artifact.manifest, artifact.manifestBytes);
  await store.tag(artifact.manifest, reference);
  const output = await writeOutput(config, componentBytes);
  await updateLock(config, lock, runtime);

  const newRecord: BuildRecord = {
    manifest: artifact.manifest,
    module: { digest: moduleDesc.digest, size: moduleDesc.size },
    component: appConfig.component,
    external,
    output,
  };
  await cache.put(key, newRecord);
  reporter({ kind: 'done', step: 'build', message: `built ${reference}: module layer ${moduleDesc.size.toLocaleString('en')} bytes`, ms: Date.now() - started });
  return result(config, newRecord, runtime, outPath, false);
}

function result(config: ProjectConfig, record: BuildRecord, runtime: ResolvedRuntime, outPath: string, cached: boolean): BuildResult {
  return {
    reference: appReference(config),
    name: config.name,
    capabilities: config.capabilities,
    manifest: { digest: record.manifest.digest, size: record.manifest.size },
    runtime: { ref: runtime.reference, digest: runtime.layer.digest, size: runtime.layer.size },
    module: record.module,
    component: { path: outPath, ...record.component },
    cached,
  };
}

/** JavaScript: the entrypoint and what it imports become one script, which replaces them in the layer. */
async function bundledFiles(config: ProjectConfig, hashed: Array<SourceFile & { bytes: Uint8Array }>, reporter: Reporter): Promise<{ packed: PackedFile[]; external: Array<[string, Digest]> }> {
  reporter({ kind: 'start', step: 'bundle', message: `bundling ${config.source.entrypoint}` });
  const bundle = await bundleEntrypoint(config.source.dir, config.source.entrypoint);
  const bundled = new Set(bundle.inputs);
  const packed: PackedFile[] = hashed.filter((f) => !bundled.has(f.abs)).map((f) => ({ path: f.path, bytes: f.bytes }));
  packed.push({ path: config.source.entrypoint, bytes: bundle.code }, { path: `${config.source.entrypoint}.map`, bytes: bundle.map });
  const dupes = dedupe(packed);
  if (dupes) throw new FabricksError('SOURCE_INVALID', `${dupes} is both a source file and a name the build uses for the bundle`, { hint: `rename it or add it to [source] exclude` });
  const packedPaths = new Set(hashed.map((f) => f.abs));
  const external: Array<[string, Digest]> = [];
  for (const input of bundle.inputs) {
    if (!packedPaths.has(input)) external.push([input, sha256(await readFile(input))]);
  }
  return { packed, external };
}

async function checkPython(config: ProjectConfig, store: LayoutStore, runtime: ResolvedRuntime, home: string, packed: PackedFile[], reporter: Reporter): Promise<void> {
  const { checkPythonSyntax, formatSyntaxProblems } = await import('./python-check.js');
  const syntax = await checkPythonSyntax(store, runtime.layer, home, packed, reporter);
  if (syntax.length > 0) {
    throw new FabricksError('PY_SYNTAX', `${syntax.length === 1 ? 'a Python file does' : `${syntax.length} Python files do`} not compile (${displayPath(config.source.dir)})`, {
      problems: formatSyntaxProblems(syntax),
      hint: 'fix the syntax errors above and build again',
    });
  }
}

/** Python: the files are packed as they are; the runtime imports them from the layer. */
function pythonFiles(hashed: Array<SourceFile & { bytes: Uint8Array }>): { packed: PackedFile[]; external: Array<[string, Digest]> } {
  return { packed: hashed.map((f) => ({ path: f.path, bytes: f.bytes })), external: [] };
}

function dedupe(files: PackedFile[]): string | undefined {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) return f.path;
    seen.add(f.path);
  }
  return undefined;
}

async function updateLock(config: ProjectConfig, lock: Awaited<ReturnType<typeof readLock>>, runtime: ResolvedRuntime): Promise<void> {
  if (lock && lock.runtime.image === config.from.image && lock.runtime.digest === runtime.layer.digest) return;
  await writeLock(config.dir, { runtime: { image: config.from.image, digest: runtime.layer.digest, size: runtime.layer.size } });
}

/** .fabricks/app.wasm is replaced whole (rename), never left half-written. */
async function writeOutput(config: ProjectConfig, bytes: Uint8Array): Promise<{ size: number; mtimeMs: number }> {
  const dir = join(config.dir, OUTPUT_DIR);
  await mkdir(dir, { recursive: true });
  const path = join(dir, OUTPUT_COMPONENT);
  await writeAtomic(path, bytes);
  const s = await stat(path);
  return { size: s.size, mtimeMs: s.mtimeMs };
}

/** Whether app.wasm is the recorded component: same size and mtime as written, or else same digest. */
async function sameFile(path: string, record: BuildRecord): Promise<boolean> {
  try {
    const s = await stat(path);
    if (s.size !== record.component.size) return false;
    if (record.output?.mtimeMs === s.mtimeMs) return true;
    return (await sha256File(path)).digest === record.component.digest;
  } catch {
    return false;
  }
}

export function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith(`..${sep}`) ? rel : p;
}
