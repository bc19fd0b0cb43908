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
import { componentizeJs, COMPONENTIZE_JS_VERSION } from '../tools/componentize-js.js';
import { BINDINGS_JS } from '../tools/componentize-js-bindings.js';
import { componentizePy, COMPONENTIZE_PY_VERSION } from '../tools/componentize-py.js';
import { runTool } from '../tools/run-tool.js';
import { readComponentWorld } from '../compose/component-info.js';
import { startStep, type Reporter } from '../util/progress.js';
import { throwIfAborted } from '../util/errors.js';
import { builtinReference, builtinShortName, type BuiltinRuntime } from './catalogue.js';

/**
 * The WASI version each builder's output speaks: StarlingMonkey in componentize-js 0.23 uses
 * 0.2.10; componentize-py 0.25.1's WASI adapter uses 0.2.9 (a world at another version fails to
 * merge with it).
 */
export const BUILDERS = {
  'componentize-js': { version: COMPONENTIZE_JS_VERSION, wasi: '0.2.10' },
  'componentize-py': { version: COMPONENTIZE_PY_VERSION, wasi: '0.2.9' },
} as const;

/**
 * Fixed build folder: componentize-js keeps the paths it builds in inside the snapshot, so the
 * same folder on every machine gives the same bytes. One build at a time holds it.
 */
const BUILD_ROOT = process.platform === 'win32' ? join(tmpdir(), 'fabricks-runtime-build') : '/tmp/fabricks-runtime-build';

const REPRODUCIBLE_HOST_C = join(packageRoot, 'runtimes', 'shared', 'reproducible-host.c');
const PIN_STAT_C = join(packageRoot, 'runtimes', 'shared', 'pin-stat.c');

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

async function runtimeInputs(rt: BuiltinRuntime): Promise<{ digest: Digest; files: Array<[string, string]> }> {
  const files: Array<[string, string]> = [];
  async function walk(rel: string): Promise<void> {
    for (const e of (await readdir(join(rt.sourceDir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p);
      else if (/\.(js|py|txt|wit|c)$/.test(e.name)) files.push([p, await readFile(join(rt.sourceDir, p), 'utf8')]);
    }
  }
  await walk('');
  const builder = BUILDERS[rt.builder];
  for (const w of await wasiPackages(builder.wasi)) files.push([`wit/deps/${w.dir}/package.wit`, w.text]);
  // The preload that pins entropy, clocks and file metadata during pre-initialization.
  files.push(['build/reproducible-host.c', await readFile(REPRODUCIBLE_HOST_C, 'utf8')]);
  // The tracer that pins the stat calls wasmtime makes without libc (Python runtime only).
  if (rt.builder === 'componentize-py') files.push(['build/pin-stat.c', await readFile(PIN_STAT_C, 'utf8')]);
  // What fabricks puts into componentize-js's bindings (without it the runtime leaks what it writes).
  if (rt.builder === 'componentize-js') files.push(['build/bindings.js', BINDINGS_JS]);
  const digest = sha256(JSON.stringify({ builder: `${rt.builder}@${builder.version}`, files }));
  return { digest, files };
}

export interface StoredRuntime {
  reference: string;
  layer: Descriptor;
  manifest: Descriptor;
  built: boolean;
}

/** The built-in runtime in the store, built first if it is not there or its sources changed. */
export async function ensureBuiltinRuntime(rt: BuiltinRuntime, store: LayoutStore, reporter: Reporter, options: { force?: boolean; signal?: AbortSignal | undefined } = {}): Promise<StoredRuntime> {
  const { signal } = options;
  const reference = builtinReference(rt);
  const inputs = await runtimeInputs(rt);
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
      const builder = BUILDERS[rt.builder];
      const done = startStep(reporter, 'runtime-build', reference, `${rt.builder} ${builder.version}`);
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
          if (rt.builder === 'componentize-js') {
            await componentizeJs({
              sourcePath: join(src, 'bootstrap.js'),
              witPath: join(src, 'wit'),
              worldName: 'runtime',
              outPath: out,
              tmpDir: join(root, 'tmp'),
              // the runtime serves wasi:http/incoming-handler itself (bootstrap.js), so that one
              // instance serves request after request; StarlingMonkey's fetch event cannot (#247)
              disableFeatures: ['fetch-event'],
              ...(preload ? { preload } : {}),
              signal,
            });
          } else {
            const wrapper = preload ? await buildStatPinner(join(src, 'build', 'pin-stat.c'), join(root, 'pin-stat'), reference, reporter) : undefined;
            await componentizePy({
              appDir: src,
              appModule: 'fabricks_runtime',
              witPath: join(src, 'wit'),
              worldName: 'runtime',
              outPath: out,
              tmpDir: join(root, 'tmp'),
              emptyVenv: join(root, 'venv'),
              ...(preload ? { preload, fixedMetadataRoot: root } : {}),
              ...(wrapper ? { wrapper } : {}),
              signal,
            });
          }
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
          language: rt.language,
          builder: { [rt.builder]: builder.version },
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
 * (runtimes/shared/reproducible-host.c). Linux only (LD_PRELOAD); elsewhere, or without a C
 * compiler, the runtime still builds but two builds may differ in a few bytes.
 */
async function buildPreload(source: string, out: string, subject: string, reporter: Reporter): Promise<string | undefined> {
  if (process.platform !== 'linux') {
    reporter({ event: 'note', code: 'not-reproducible', subject, detail: 'runtime builds are byte-reproducible on Linux only' });
    return undefined;
  }
  try {
    await runTool('cc', process.env.CC || 'cc', ['-shared', '-fPIC', '-O2', '-o', out, source, '-ldl']);
    return out;
  } catch (e) {
    reporter({ event: 'note', code: 'not-reproducible', subject, detail: `no C compiler (${(e as Error).message.split('\n')[0]})` });
    return undefined;
  }
}

/**
 * Compiles runtimes/shared/pin-stat.c, which runs componentize-py under ptrace to pin the inode
 * numbers, devices and times of the files it imports: wasmtime stats them with raw syscalls that
 * the preload cannot see, and CPython keeps what it saw in its snapshot. x86_64 Linux only;
 * elsewhere two builds may differ in a few bytes.
 */
async function buildStatPinner(source: string, out: string, subject: string, reporter: Reporter): Promise<string | undefined> {
  if (process.arch !== 'x64') {
    reporter({ event: 'note', code: 'not-reproducible', subject, detail: 'Python runtime builds are byte-reproducible on x86_64 Linux only' });
    return undefined;
  }
  try {
    await runTool('cc', process.env.CC || 'cc', ['-O2', '-o', out, source]);
    return out;
  } catch (e) {
    reporter({ event: 'note', code: 'not-reproducible', subject, detail: `no C compiler (${(e as Error).message.split('\n')[0]})` });
    return undefined;
  }
}
