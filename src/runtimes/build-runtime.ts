import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { FabricksError } from '../util/errors.js';
import { sha256, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/content.js';
import type { LayoutStore } from '../oci/layout-store.js';
import { Annotation, MediaType } from '../oci/media-types.js';
import { loadStoredRuntime, storeRuntimeArtifact, type RuntimeConfig } from '../artifact/runtime.js';
import { describeOwner, withFileLock } from '../util/file-lock.js';
import { packageRoot } from '../util/paths.js';
import { readComponentWorld } from '../compose/component-info.js';
import { startStep, type Reporter } from '../util/progress.js';
import { throwIfAborted } from '../util/errors.js';
import { builtinReference, builtinShortName, type BuiltinRuntime } from './catalogue.js';
import type { RuntimeBuilder } from './kind.js';
import { compileHelper } from './compile-c.js';

/**
 * Fixed build folder: componentize-js keeps the paths it builds in inside the snapshot, so the
 * same folder on every machine gives the same bytes. One build at a time holds it.
 */
const BUILD_ROOT = process.platform === 'win32' ? join(tmpdir(), 'fabricks-runtime-build') : '/tmp/fabricks-runtime-build';

const REPRODUCIBLE_HOST_C = join(packageRoot, 'build-tools', 'reproducible-host.c');

/** jco's WASI 0.2 definitions, shipped in its npm package. */
function jcoWasiDir(): string {
  const require = createRequire(import.meta.url);
  const api = require.resolve('@bytecodealliance/jco');
  return resolve(dirname(api), '..', 'lib', 'wit', 'builtin', '0.2.12');
}

/**
 * The wasi:* WIT packages the bootstrap world needs, at the engine's version. jco ships 0.2.12;
 * the interfaces the runtimes import are the same in 0.2.9 and 0.2.10 except exit-with-code,
 * which was still unstable then and is left out so that any WASI 0.2 host can run the result.
 */
export async function wasiPackages(version: string): Promise<Array<{ dir: string; text: string }>> {
  const base = jcoWasiDir();
  const out = [];
  for (const dir of (await readdir(base)).sort()) {
    const text = (await readFile(join(base, dir, 'package.wit'), 'utf8'))
      .replaceAll('0.2.12', version)
      .replace(/^\s*exit-with-code: func\(status-code: u8\);\n/m, '');
    out.push({ dir, text });
  }
  return out;
}

/** Files a variant of a runtime adds to its staged sources (a Python app's compiled dependencies, under native/). */
export type RuntimeExtras = Array<[string, Uint8Array]>;

/** Everything a runtime is built from, as [path in the staged folder, text]; its digest says when to build again. */
async function runtimeInputs(rt: BuiltinRuntime, builder: RuntimeBuilder, extras: RuntimeExtras): Promise<{ digest: Digest; files: Array<[string, string | Uint8Array]> }> {
  const files: Array<[string, string]> = [];
  async function walk(rel: string): Promise<void> {
    for (const e of (await readdir(join(rt.guestDir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p);
      else if (builder.sources.test(e.name)) files.push([p, await readFile(join(rt.guestDir, p), 'utf8')]);
    }
  }
  await walk('');
  for (const w of await wasiPackages(builder.wasi)) files.push([`wit/deps/${w.dir}/package.wit`, w.text]);
  // The preload that pins entropy, clocks and file metadata during pre-initialization.
  files.push(['build/reproducible-host.c', await readFile(REPRODUCIBLE_HOST_C, 'utf8')]);
  files.push(...(await builder.inputs()));
  // extras count by their digests (they may be megabytes of compiled code)
  const extra = extras.map(([p, bytes]) => [p, sha256(bytes)]);
  const digest = sha256(JSON.stringify({ builder: `${builder.tool}@${builder.version}`, files, ...(extra.length ? { extra } : {}) }));
  return { digest, files: [...files, ...extras] };
}

export interface StoredRuntime {
  reference: string;
  layer: Descriptor;
  manifest: Descriptor;
  built: boolean;
}

/** The built-in runtime in the store, built first if it is not there or its sources changed. */
export async function ensureBuiltinRuntime(
  rt: BuiltinRuntime,
  store: LayoutStore,
  reporter: Reporter,
  options: { force?: boolean; signal?: AbortSignal | undefined; extras?: RuntimeExtras } = {},
): Promise<StoredRuntime> {
  const { signal } = options;
  const reference = builtinReference(rt);
  const builder = await rt.kind.builder();
  const inputs = await runtimeInputs(rt, builder, options.extras ?? []);
  if (!options.force) {
    const existing = await findStored(store, reference, inputs.digest);
    if (existing) return { reference, ...existing, built: false };
  }
  return withFileLock(
    `${BUILD_ROOT}.lock`,
    async () => {
      if (!options.force) {
        const existing = await findStored(store, reference, inputs.digest);
        if (existing) return { reference, ...existing, built: false };
      }
      throwIfAborted(signal);
      const done = startStep(reporter, 'runtime-build', reference, `${builder.tool} ${builder.version}`);
      const root = join(BUILD_ROOT, rt.name);
      await rm(root, { recursive: true, force: true });
      // the scratch folder goes on every exit path: done, failed or interrupted
      try {
        const src = join(root, 'src');
        await mkdir(join(root, 'tmp'), { recursive: true });
        await mkdir(src, { recursive: true });
        for (const [p, text] of inputs.files) {
          await mkdir(dirname(join(src, p)), { recursive: true });
          await writeFile(join(src, p), text);
        }
        const out = join(root, 'runtime.wasm');
        const preload = await buildPreload(join(src, 'build', 'reproducible-host.c'), join(root, 'reproducible-host.so'), reference, reporter);
        try {
          await builder.build({ root, src, out, tmpDir: join(root, 'tmp'), preload, reference, reporter, signal });
        } catch (e) {
          if (e instanceof FabricksError && (e.code === 'TOOL_MISSING' || e.code === 'INTERRUPTED')) throw e;
          throw new FabricksError('RUNTIME_BUILD_FAILED', `building runtime ${reference} failed`, { cause: e, hint: (e as Error).message });
        }
        throwIfAborted(signal);
        const bytes = await readFile(out);
        const world = readComponentWorld(bytes, `runtime ${reference}`);
        const layer = await store.pushFile(out, MediaType.runtimeLayer, { [Annotation.runtime]: builtinShortName(rt), [Annotation.title]: 'runtime.wasm' });
        const config: RuntimeConfig = {
          runtime: reference,
          language: rt.kind.language,
          builder: { [builder.tool]: builder.version },
          inputs: inputs.digest,
          wit: world,
        };
        const manifest = await storeRuntimeArtifact(store, layer, config);
        await store.tag(manifest, reference);
        done({ digest: layer.digest, size: layer.size });
        return { reference, layer, manifest, built: true };
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
    { onWait: (owner) => reporter({ event: 'wait', step: 'runtime-build', subject: reference, holder: describeOwner(owner) }), signal },
  );
}

async function findStored(store: LayoutStore, reference: string, inputs: Digest): Promise<{ layer: Descriptor; manifest: Descriptor } | undefined> {
  const stored = await loadStoredRuntime(store, reference);
  if (!stored || stored.config.inputs !== inputs) return undefined;
  return { layer: stored.layer, manifest: stored.manifest };
}

/**
 * Compiles the wizer preload that pins entropy and clocks during pre-initialization
 * (build-tools/reproducible-host.c). Linux only (LD_PRELOAD); elsewhere, or without a C
 * compiler, the runtime still builds but two builds may differ in a few bytes.
 */
async function buildPreload(source: string, out: string, subject: string, reporter: Reporter): Promise<string | undefined> {
  if (process.platform !== 'linux') {
    reporter({ event: 'note', code: 'not-reproducible', subject, detail: 'runtime builds are byte-reproducible on Linux only' });
    return undefined;
  }
  return compileHelper(['-shared', '-fPIC', '-O2', source, '-ldl'], out, subject, reporter);
}
