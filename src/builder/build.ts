import { readFile, stat } from 'node:fs/promises';
import { sha256, sha256File, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/content.js';
import { startStep } from '../util/progress.js';
import { isFabricksError } from '../util/errors.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { fetchManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import { CONFIG_FILE, loadProject, type ProjectConfig } from '../config/project.js';
import { LOCK_FILE, readLock } from '../config/lock.js';
import type { Context } from '../home/context.js';
import { createdTime } from '../artifact/app.js';
import { resolveRuntime } from '../runtimes/resolve.js';
import type { BuiltDependency } from '../runtimes/kind.js';
import { wheelSharing, type WheelSharingFlags } from '../config/wheel-sharing.js';
import { BuildCache, type BuildRecord } from './cache.js';
import { collectSourceFiles, type SourceFile } from './source-files.js';
import { planBuild, type BuildInputs } from './plan.js';
import { buildCodeDigest } from './code-digest.js';
import { applyBuild, outputPath } from './apply.js';
import { buildVariant, rememberBuild, stampedBefore, type Folders, type Inputs } from './fingerprint.js';
import { join, resolve } from 'node:path';
import { stampOf } from '../util/stamp.js';

export interface BuildResult {
  reference: string;
  name: string;
  version: string;
  capabilities: ProjectConfig['capabilities'];
  /** The manifest this build made: whatever comes next (push, run) uses it, not the name:version tag. */
  manifest: Descriptor;
  runtime: { ref: string; digest: Digest; size: number };
  module: { digest: Digest; size: number };
  component: { path: string; digest: Digest; size: number };
  /** True when the build was answered from the cache: nothing was bundled, generated or composed. */
  cached: boolean;
  /** Dependencies built for the runtime from source (Python's native wheels), when there are any. */
  built?: BuiltDependency[];
}

/** What a command may add to the project's settings for one build. */
export interface BuildOptions {
  /** --wheels, --no-wheels, --push-wheels (config/wheel-sharing.ts). */
  wheels?: WheelSharingFlags;
  /** Capabilities in place of fabricks.toml's (a package built by name is granted what its command's flags name). */
  capabilities?: ProjectConfig['capabilities'];
  /** The published package the project was made for (recorded in the artifact's config). */
  published?: ProjectConfig['published'];
}

/** fabricks.toml of a project given as a folder or as the file itself (as loadProject takes it). */
const projectFile = (dirOrFile: string) => (dirOrFile.endsWith('.toml') ? resolve(dirOrFile) : resolve(dirOrFile, CONFIG_FILE));

/** Read, resolve, plan (pure), apply (the only step that writes). */
export async function build(projectDir: string, ctx: Context, options: BuildOptions = {}): Promise<BuildResult> {
  // stamped before they are read, for the project's fingerprint (fingerprint.ts)
  const tomlFile = projectFile(projectDir);
  const before: Inputs = [[tomlFile, await stampOf(tomlFile)]];
  const loaded = await loadProject(projectDir);
  const config = { ...loaded, ...(options.capabilities ? { capabilities: options.capabilities } : {}), ...(options.published ? { published: options.published } : {}) };
  const wheels = wheelSharing({ file: config.file, wheels: config.source.wheels }, options.wheels);
  const done = startStep(ctx.reporter, 'build', `${config.name}:${config.version}`);
  const lockFile = join(config.dir, LOCK_FILE);
  const lockBefore = await stampOf(lockFile);
  const lock = await readLock(config.dir);
  const resolved = await resolveRuntime(config, lock, ctx);
  before.push(...(await stampedBefore([config.source.dir, config.dir])));
  const folders: Folders = [];
  const files: Array<SourceFile & { bytes: Uint8Array }> = await Promise.all(
    (await collectSourceFiles(config, ctx.reporter, folders)).map(async (f) => {
      before.push([f.abs, await stampOf(f.abs)]);
      return { ...f, bytes: await readFile(f.abs) };
    }),
  );
  const dependencies = await resolved.kind.dependencies?.({ config, runtime: resolved, lock, ctx, wheels });
  if (dependencies) files.push(...dependencies.files);
  // compiled dependencies make the app's runtime a variant of the resolved one; the lock pins the resolved one
  const runtime = dependencies?.runtime ? { ...resolved, ...dependencies.runtime } : resolved;
  const inputs: BuildInputs = {
    config,
    runtime,
    pinned: resolved.layer,
    files: files.map((f) => ({ path: f.path, digest: sha256(f.bytes) })),
    created: createdTime(),
    locked: dependencies?.lock ?? [],
    code: await buildCodeDigest(),
    ...(dependencies?.built?.length ? { wheels: dependencies.built.map((b) => b.digest as Digest) } : {}),
  };

  const cache = new BuildCache(ctx.home.buildCacheDir);
  const { store } = ctx.home;
  const probe = planBuild(inputs, { lock, record: undefined, tagged: undefined, outputCurrent: false });
  let record = await cache.get(probe.key);
  // a record counts only while everything it names is in the store, undamaged: else build again
  if (record && !(await artifactIntact(store, record))) record = undefined;
  const plan = planBuild(inputs, {
    lock,
    record,
    tagged: await store.resolve(probe.reference).then(
      (d) => d.digest,
      (e: unknown) => {
        if (isFabricksError(e, 'NOT_FOUND')) return undefined;
        throw e;
      },
    ),
    outputCurrent: record !== undefined && (await sameFile(outputPath(config), record)),
  });
  const applied = await applyBuild(plan, inputs, files, record, cache, ctx);
  done({ digest: applied.manifest.digest, size: applied.manifest.size, cached: plan.cached });
  const result: BuildResult = {
    reference: plan.reference,
    name: config.name,
    version: config.version,
    capabilities: config.capabilities,
    manifest: applied.manifest,
    runtime: { ref: runtime.reference, digest: runtime.layer.digest, size: runtime.layer.size },
    module: applied.module,
    component: { path: outputPath(config), ...applied.component },
    cached: plan.cached,
    ...(dependencies?.built ? { built: dependencies.built } : {}),
  };
  // what a run of the folder (or of the package, granted the same) finds
  {
    // what the build wrote is stamped now; what it only read, before it read it. The
    // artifact's blobs too: one damaged (quarantined) or removed is restored by a build
    const manifest = await fetchManifest(store, applied.manifest);
    const blobs = [applied.manifest.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)].map((d) => store.blobPath(d));
    const written = [outputPath(config), join(store.root, 'index.json'), ...blobs];
    if (plan.actions.includes('write-lock')) written.push(lockFile);
    else before.push([lockFile, lockBefore]);
    const after: Inputs = [];
    for (const p of written) after.push([p, await stampOf(p)]);
    applied.external.forEach(([path], i) => after.push([path, applied.stamps?.[i] ?? null]));
    await rememberBuild(ctx.home.buildCacheDir, config.dir, before, folders, after, result, buildVariant(options)).catch(() => undefined);
  }
  return result;
}

/** The build's manifest, config and module layer are all in the store and match their digests. */
async function artifactIntact(store: LayoutStore, record: BuildRecord): Promise<boolean> {
  if (!(await store.exists(record.manifest))) return false;
  const manifest = await fetchManifest(store, record.manifest);
  for (const blob of [manifest.config, ...manifest.layers.filter((l) => l.mediaType === MediaType.moduleLayer)]) {
    if (!(await store.exists(blob))) return false;
  }
  return true;
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
