import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, digestHex } from '../../oci/digest.js';
import { FabricksError } from '../../util/errors.js';
import { withFileLock, describeOwner } from '../../util/file-lock.js';
import { startStep, type Reporter } from '../../util/progress.js';
import { writeAtomic } from '../../util/atomic.js';
import type { WheelTarget } from '../../tools/pip.js';
import { narrowingCasts, type NarrowingCast } from './native-casts.js';
import { classifySdist, crossWheelEntries, distName, wheelEntries, wheelTag, type SdistKind, type WheelEntry } from './native-wheel.js';
import type { WheelIdentity } from '../../artifact/wheel.js';
import type { WheelSharing } from '../../config/wheel-sharing.js';
import type { Context } from '../../home/context.js';
import type { PushOutcome } from './wheel-share.js';
import { failureOfLines, NativeBuildError, type NativeFailureKind } from './native-failure.js';
import type { Leases } from '../../util/lease.js';
import { BUILD_LOCK, BUILD_SCRATCH_PREFIX, cargoTargetDir, markNativeUsed, nativeLeaseKey, nativeWheelKey, type NativeRecord } from '../../home/native-cache.js';

/**
 * Python dependencies with compiled code and no pure-Python wheel: built from their source
 * distributions for wasm32-wasi with the pinned toolchains: Rust (PyO3) extensions with cargo
 * (tools/cargo-wasm.ts), C extensions with their own setuptools build and clang
 * (tools/clang-wasm.ts). A built wheel is cached by (sdist sha256, toolchain, runtime), so a
 * machine pays a build once per sdist; componentize-py then links its extension modules into a
 * variant of the runtime (native-runtime.ts).
 */

/** One compiled dependency, pinned to its source distribution. */
export interface NativePin {
  name: string;
  version: string;
  /** The sdist's file name and sha256 (checked on download). */
  sdist: string;
  sha256: string;
}

/** A built wheel: its file (in the native cache) and digest, and where it came from. */
export interface NativeWheel {
  pin: NativePin;
  path: string;
  bytes: Uint8Array;
  digest: string;
  /** This machine's cache, a build here, or the repository that shares wheels. */
  via: 'cache' | 'built' | 'pulled';
  /** The reference it was pulled from. */
  shared?: string;
  /** What pushing it to that repository did, when pushing is allowed. */
  pushed?: PushOutcome;
}

/** Who needs a package, when the resolution said (a build from fabricks.lock does not know). */
const who = (requiredBy: string[] | undefined) => (requiredBy === undefined ? '' : ` (${requiredBy.length ? `required by ${requiredBy.join(', ')}` : 'required by the project'})`);

/** NATIVE_UNSUPPORTED for a package fabricks cannot build: the package, who needs it, why (as data too), what to do. */
export function unsupported(name: string, version: string, requiredBy: string[] | undefined, kind: NativeFailureKind, why: string, options: { cause?: unknown; hint?: string } = {}): NativeBuildError {
  return new NativeBuildError('NATIVE_UNSUPPORTED', `the Python package ${name} ${version}${who(requiredBy)} has compiled code and no pure-Python wheel, and fabricks cannot build it for WebAssembly: ${why}`, { kind, why }, {
    hint: options.hint ?? `use a version of ${name} that has a pure-Python wheel or a pure-Python alternative, or drop what requires it; fabricks builds Rust (PyO3) extensions and C extensions that setuptools builds, from source`,
    ...(options.cause !== undefined ? { cause: options.cause } : {}),
  });
}

/**
 * The sdist of a compiled dependency, pinned: found on the package index (its hash from the
 * index, checked on download), kept in the wheel cache by name, and classified at once (a C
 * extension fails here, before anything is built). No sdist on the index is NATIVE_UNSUPPORTED.
 */
export async function pinSdist(name: string, version: string, requiredBy: string[] | undefined, sdistDir: string, scratch: string, signal?: AbortSignal): Promise<NativePin> {
  const { findSdist, downloadChecked } = await import('../../tools/package-index.js');
  const found = await findSdist(name, version, signal);
  if (!found) throw unsupported(name, version, requiredBy, 'no-sdist', 'the package index has only compiled wheels of it (for other platforms than WebAssembly) and no source distribution to build from');
  const bytes = await downloadChecked(found, signal);
  const dest = join(scratch, `sdist-${name}`);
  await mkdir(dest, { recursive: true });
  await writeFile(join(dest, found.filename), bytes);
  const { root } = await extractSdist(join(dest, found.filename), join(dest, 'src'), { name, version, sdist: found.filename }, requiredBy);
  const kind = await classifySdist(root);
  if (kind.kind === 'unsupported') throw unsupported(name, version, requiredBy, kind.reason, kind.why);
  await mkdir(sdistDir, { recursive: true });
  await writeAtomic(join(sdistDir, found.filename), bytes);
  return { name, version, sdist: found.filename, sha256: found.sha256 };
}

/** Unpacks an sdist (node-tar refuses entries that would land outside `into`) and finds its top folder. */
async function extractSdist(file: string, into: string, pin: { name: string; version: string; sdist: string }, requiredBy: string[] | undefined): Promise<{ root: string }> {
  if (!pin.sdist.endsWith('.tar.gz')) throw unsupported(pin.name, pin.version, requiredBy, 'sdist-unusable', `its source distribution ${pin.sdist} is not a .tar.gz`);
  const tar = await import('tar');
  await mkdir(into, { recursive: true });
  await tar.x({ file, cwd: into, strict: true });
  const [top] = await readdir(into);
  if (!top) throw unsupported(pin.name, pin.version, requiredBy, 'sdist-unusable', `its source distribution ${pin.sdist} is empty`);
  return { root: join(into, top) };
}

/** The action key of a built wheel (home/native-cache.ts): the sdist's bytes, both toolchains, and the runtime's CPython. */
async function wheelKey(pin: NativePin, target: WheelTarget): Promise<string> {
  return nativeWheelKey({ sdist: pin.sha256, toolchain: await toolchainId(), python: target.pythonVersion });
}

async function toolchainId(): Promise<string> {
  return (await import('../../tools/native-toolchains.js')).nativeToolchainsId();
}

/** What the wheel is keyed by, as a shared wheel's tag and annotations name it (artifact/wheel.ts). */
async function wheelIdentity(pin: NativePin, target: WheelTarget): Promise<WheelIdentity> {
  return {
    package: pin.name,
    version: pin.version,
    sdistSha256: pin.sha256,
    toolchain: await toolchainId(),
    runtime: `python:${target.pythonVersion}`,
    key: await wheelKey(pin, target),
    file: nativeWheelName(pin, target),
  };
}

export const nativeWheelName = (pin: NativePin, target: WheelTarget) => `${distName(pin.name)}-${pin.version}-${wheelTag(target.pythonVersion)}.whl`;

/** Where built wheels are cached (home/native-cache.ts) and sdists kept, and the leases of this process, which hold the entries it uses. */
export interface NativeDirs {
  cache: string;
  sdists: string;
  leases?: Leases;
}

/** The repository that shares built wheels (config/wheel-sharing.ts), and the context to reach it. */
export interface WheelShare {
  sharing: WheelSharing;
  ctx: Context;
}

/**
 * The wheel of a compiled dependency built for the runtime: from the native cache when it holds
 * one for this key; else from the repository that shares wheels, when one is named; else built
 * (one build at a time per cache: cargo's target folder is shared, so the standard library for
 * the target is built once). Either way it enters the cache atomically. With pushing allowed, a
 * wheel the repository lacks is pushed afterwards; sharing only ever warns.
 */
export async function nativeWheel(
  pin: NativePin & { built?: string },
  requiredBy: string[] | undefined,
  target: WheelTarget,
  dirs: NativeDirs,
  reporter: Reporter,
  signal?: AbortSignal,
  share?: WheelShare,
): Promise<NativeWheel> {
  const id = await wheelIdentity(pin, target);
  // leased before it is looked at: a gc in another process spares the entry until this one ends
  await dirs.leases?.hold([nativeLeaseKey(id.key)]);
  const path = join(dirs.cache, id.key, id.file);
  const cached = async (): Promise<NativeWheel | undefined> => {
    const bytes = await readFile(path).catch(() => undefined);
    return bytes ? { pin, path, bytes, digest: sha256(bytes), via: 'cache' } : undefined;
  };
  let wheel = await cached();
  if (!wheel) {
    await mkdir(dirs.cache, { recursive: true });
    wheel = await withFileLock(join(dirs.cache, BUILD_LOCK), async () => (await cached()) ?? (await pullOrBuild(pin, id, requiredBy, target, dirs, reporter, signal, share)), {
      onWait: (owner) => reporter({ event: 'wait', step: 'native-build', subject: `${pin.name} ${pin.version}`, holder: describeOwner(owner) }),
      signal,
    });
  }
  await markNativeUsed(join(dirs.cache, id.key));
  // what the build found that traps at run time is said on every build that uses the wheel
  const record = await readFile(join(dirs.cache, id.key, 'build.json'), 'utf8').then((t) => JSON.parse(t) as { casts?: NarrowingCast[] }, () => ({ casts: [] }));
  noteCasts(pin, record.casts ?? [], reporter);
  if (share?.sharing.push && wheel.via !== 'pulled') {
    const { pushSharedWheel } = await import('./wheel-share.js');
    return { ...wheel, pushed: await pushSharedWheel(share.sharing, id, wheel.bytes, share.ctx) };
  }
  return wheel;
}

/** A note for the casts a C extension's build found, which trap when CPython calls them. */
function noteCasts(pin: NativePin, casts: NarrowingCast[], reporter: Reporter): void {
  if (!casts.length) return;
  const shown = casts.slice(0, 5).map((c) => `${c.at} (${c.from} as ${c.to})`);
  reporter({
    event: 'note',
    code: 'native-cast',
    subject: `${pin.name} ${pin.version}`,
    detail: `its C code casts ${casts.length} function${casts.length === 1 ? '' : 's'} to a pointer type with more parameters, which traps under WebAssembly when CPython calls it: ${shown.join('; ')}${casts.length > 5 ? '; ...' : ''}`,
  });
}

/** With the cache's build lock held: the wheel from the sharing repository when it has it, else built here; written into the cache. */
async function pullOrBuild(
  pin: NativePin & { built?: string },
  id: WheelIdentity,
  requiredBy: string[] | undefined,
  target: WheelTarget,
  dirs: NativeDirs,
  reporter: Reporter,
  signal: AbortSignal | undefined,
  share: WheelShare | undefined,
): Promise<NativeWheel> {
  const entry = join(dirs.cache, id.key);
  const path = join(entry, id.file);
  const scratch = await mkdtemp(join(dirs.cache, BUILD_SCRATCH_PREFIX));
  // what ls shows of the entry: what it was built from, by which toolchains, for which CPython
  const about = { package: pin.name, version: pin.version, sdist: pin.sha256, sdistFile: pin.sdist, toolchain: id.toolchain, python: target.pythonVersion, runtime: id.runtime };
  try {
    if (share) {
      const { pullSharedWheel } = await import('./wheel-share.js');
      const pulled = await pullSharedWheel(share.sharing, id, pin.built, share.ctx);
      if (pulled) {
        await writeEntry(scratch, entry, id.file, pulled.bytes, { ...about, digest: pulled.digest, from: pulled.reference });
        return { pin, path, bytes: pulled.bytes, digest: pulled.digest, via: 'pulled', shared: pulled.reference };
      }
    }
    const done = startStep(reporter, 'native-build', `${pin.name} ${pin.version}`, 'wasm32-wasi');
    const started = Date.now();
    const built = await buildWheel(pin, requiredBy, target, dirs, scratch, reporter, signal);
    const digest = sha256(built.wheel);
    await writeEntry(scratch, entry, id.file, built.wheel, { ...about, digest, kind: built.kind, casts: built.casts, seconds: (Date.now() - started) / 1000, extension: built.extensionSize, wheel: built.wheel.length });
    done({ digest, size: built.wheel.length });
    return { pin, path, bytes: built.wheel, digest, via: 'built' };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A cache entry appears whole: the wheel and its record written in the scratch folder, then renamed into place. */
async function writeEntry(scratch: string, entry: string, file: string, wheel: Uint8Array, record: NativeRecord & { casts?: NarrowingCast[] }): Promise<void> {
  const ready = join(scratch, 'entry');
  await mkdir(ready);
  await writeFile(join(ready, file), wheel);
  await writeFile(join(ready, 'build.json'), JSON.stringify(record, null, 1));
  await rm(entry, { recursive: true, force: true });
  await rename(ready, entry);
}

type Built = { wheel: Uint8Array; extensionSize: number; kind: 'pyo3' | 'setuptools'; casts: NarrowingCast[] };

// fixed times: the same files make the same zip
const zipWheel = async (entries: WheelEntry[]) => {
  const { zipSync } = await import('fflate');
  return zipSync(Object.fromEntries(entries.map(([p, b]) => [p, [b, { mtime: new Date('1980-01-01T00:00:00Z') }]])), { level: 6 });
};

async function buildWheel(pin: NativePin, requiredBy: string[] | undefined, target: WheelTarget, dirs: NativeDirs, scratch: string, reporter: Reporter, signal?: AbortSignal): Promise<Built> {
  const { findSdist, downloadChecked } = await import('../../tools/package-index.js');
  // the sdist: from the cache when its bytes have the pinned hash, else from the index, checked against the pin
  const sdistPath = join(dirs.sdists, pin.sdist);
  const have = await readFile(sdistPath).catch(() => undefined);
  if (!have || digestHex(sha256(have)) !== pin.sha256) {
    const found = await findSdist(pin.name, pin.version, signal);
    if (!found || found.filename !== pin.sdist) throw unsupported(pin.name, pin.version, requiredBy, 'no-sdist', `the package index no longer has its source distribution ${pin.sdist}`);
    await mkdir(dirs.sdists, { recursive: true });
    await writeAtomic(sdistPath, await downloadChecked({ ...found, sha256: pin.sha256 }, signal));
  }
  const { root } = await extractSdist(sdistPath, join(scratch, 'src'), pin, requiredBy);
  const kind = await classifySdist(root);
  if (kind.kind === 'unsupported') throw unsupported(pin.name, pin.version, requiredBy, kind.reason, kind.why);
  if (kind.kind === 'setuptools') return buildCWheel(pin, requiredBy, target, sdistPath, scratch, kind, signal);
  return buildRustWheel(pin, requiredBy, target, dirs, root, scratch, kind, reporter, signal);
}

async function buildRustWheel(
  pin: NativePin,
  requiredBy: string[] | undefined,
  target: WheelTarget,
  dirs: { cache: string },
  root: string,
  scratch: string,
  kind: SdistKind & { kind: 'pyo3' },
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<Built> {
  const [{ ensureNativeToolchain, cargoBuildWasm, cargoFetchWasm, cargoOutput }, { rustBuildNeeds, rustBuildEnv }] = await Promise.all([import('../../tools/cargo-wasm.js'), import('./native-rust-env.js')]);
  await ensureNativeToolchain();
  // cargo's own cache of compiled crates (the target's standard library first)
  const targetDir = cargoTargetDir(dirs.cache);
  try {
    // a crate the registry lacks fails here, before the slow set-up below
    await cargoFetchWasm(kind.crateDir, signal);
    // C compiled by build scripts, C libraries fabricks provides (OpenSSL), the build scripts' Python
    const extra = await rustBuildEnv(await rustBuildNeeds(root, kind.crateDir), { cache: dirs.cache, scratch, pythonVersion: target.pythonVersion, reporter, signal });
    await cargoBuildWasm({ crateDir: kind.crateDir, targetDir, configDir: join(scratch, 'config'), pythonVersion: target.pythonVersion, features: kind.features, env: extra.env, linkArchives: extra.linkArchives, signal });
  } catch (e) {
    if (!(e instanceof FabricksError) || e.code !== 'TOOL_FAILED') throw e;
    const lines = e.message.split('\n');
    const why = lines[0]!.replace(/:.*$/, '');
    const problems = lines.slice(1).slice(-12);
    const failure = failureOfLines(problems, why);
    throw new NativeBuildError('NATIVE_BUILD_FAILED', `building the Rust extension of ${pin.name} ${pin.version}${who(requiredBy)} for WebAssembly failed: ${why}`, failure, {
      problems,
      hint:
        failure.kind === 'crate-unavailable'
          ? `the crate registry this machine reaches does not serve ${failure.crate}, which ${pin.name} ${pin.version}'s Cargo.lock pins: require an older ${pin.name} that builds here (fabricks takes one by itself when the requirements allow it), or build where the registry has it`
          : `the lines above are cargo's last; a version of ${pin.name} on a newer PyO3 may build (CPython 3.14 needs PyO3 0.25 or newer), or use a pure-Python alternative`,
      cause: e,
    });
  }
  const extension = await readFile(cargoOutput(targetDir, kind.libName));
  const entries = await wheelEntries(root, kind, extension, { name: pin.name, version: pin.version, pythonVersion: target.pythonVersion });
  return { wheel: await zipWheel(entries), extensionSize: extension.length, kind: 'pyo3', casts: [] };
}

/**
 * A C extension: the sdist's own build (setuptools, through pip) with the compiler aimed at
 * wasm32-wasi; its wheel's extension modules are renamed for the runtime. A build that fails is
 * NATIVE_BUILD_FAILED with the compiler's own error lines.
 */
async function buildCWheel(pin: NativePin, requiredBy: string[] | undefined, target: WheelTarget, sdistPath: string, scratch: string, kind: SdistKind & { kind: 'setuptools' }, signal?: AbortSignal): Promise<Built> {
  const [{ ensureCToolchain, pipWheelWasm }, { unzipSync }] = await Promise.all([import('../../tools/clang-wasm.js'), import('fflate')]);
  await ensureCToolchain(target.pythonVersion);
  const outDir = join(scratch, 'wheel');
  const log = join(scratch, 'build.log');
  const failed = async (why: string, cause?: unknown) => {
    // what the compiler, the linker or the setup said decides the reason, here where the build failed
    const problems = compilerLines(await readFile(log, 'utf8').catch(() => ''));
    return new NativeBuildError('NATIVE_BUILD_FAILED', `building the C extension of ${pin.name} ${pin.version}${who(requiredBy)} for WebAssembly failed: ${why}`, failureOfLines(problems, why), {
      problems,
      hint: `the lines above are the build's last (${kind.backend}, clang for wasm32-wasi); a C library it needs is not available for WebAssembly, or its code does not build for it: use a pure-Python alternative`,
      cause,
    });
  };
  try {
    await pipWheelWasm({ sdist: sdistPath, outDir, log, scratch, pythonVersion: target.pythonVersion, signal });
  } catch (e) {
    if (!(e instanceof FabricksError) || e.code !== 'TOOL_FAILED') throw e;
    throw await failed(e.message.split('\n')[0]!.replace(/:.*$/, ''), e);
  }
  const [file] = (await readdir(outDir)).filter((f) => f.endsWith('.whl'));
  if (!file) throw await failed('pip made no wheel');
  const host = Object.entries(unzipSync(await readFile(join(outDir, file)))).filter(([p]) => !p.endsWith('/')) as WheelEntry[];
  const { entries, extensions } = crossWheelEntries(host, { name: pin.name, version: pin.version, pythonVersion: target.pythonVersion });
  // no extension module: the build fell back to pure Python, as PyYAML's does without libyaml and
  // as it would on any machine without the C library; the wheel works, without its speedups
  const casts = narrowingCasts(await readFile(log, 'utf8').catch(() => ''));
  return { wheel: await zipWheel(entries), extensionSize: extensions.reduce((n, [, b]) => n + b.length, 0), kind: 'setuptools', casts };
}

/**
 * The build log's lines that say what went wrong: the compiler's located diagnostics (file:line:col:
 * error), else the linker's or the driver's errors, else any line that says error, else its last
 * lines. A configure-style probe that fails on purpose (cffi links test programs) comes before
 * the real error, so the last ones are kept.
 */
export function compilerLines(log: string): string[] {
  const lines = log
    .split('\n')
    .map((l) => l.replace(/^\s*\d{4}-\d\d-\d\dT[\d:.,]+Z?\s*/, '').trim())
    .filter((l) => l);
  const tiers = [/:\d+:\d+: (fatal error|error): /, /^(wasm-ld[-\d]*|clang(\+\+)?|ld(\.lld)?): error: /, /\berror\b/i];
  for (const tier of tiers) {
    const found = lines.filter((l) => tier.test(l) && !/^error: Command '/.test(l));
    if (found.length) return found.slice(-8);
  }
  return lines.slice(-12);
}
