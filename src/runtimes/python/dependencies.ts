import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { sha256 } from '../../oci/digest.js';
import type { Digest } from '../../oci/digest.js';
import { isDigest } from '../../oci/digest.js';
import { LOCK_FILE, lockDisplayPath, type LockFile, type LockSection } from '../../config/lock.js';
import { readPythonRequirements, type PythonRequirements } from './requirements.js';
import type { ProjectConfig } from '../../config/project.js';
import type { Context } from '../../home/context.js';
import type { BuildTarget, BuiltDependency, Dependencies } from '../kind.js';
import type { WheelSharing } from '../../config/wheel-sharing.js';
import type { ReportedWheel, WheelTarget } from '../../tools/pip.js';
import type { RuntimeExtras } from '../build-runtime.js';
import { nativeWheel, pinSdist, unsupported, type NativePin, type WheelShare } from './native.js';
import { failureText, NativeBuildError, type NativeFailure, type NativeFailureKind } from './native-failure.js';
import { passedOverHere, rememberPassedOver, type PassedOver } from './passed-over.js';
import { FabricksError, throwIfAborted } from '../../util/errors.js';
import { startStep, type Reporter } from '../../util/progress.js';
import { displayPath } from '../../util/paths.js';
import type { Leases } from '../../util/lease.js';

/** Where dependencies sit in the module layer: `.fabricks` is never packed from a source folder, so no user file can clash. */
export const PACKAGES_ROOT = '.fabricks/site-packages';

/** One Python dependency, pinned to the exact wheel file and its hash. */
export interface PinnedWheel {
  name: string;
  version: string;
  /** The wheel's file name (its tags say it is pure Python). */
  wheel: string;
  sha256: string;
}

/** A compiled dependency, pinned to its source distribution; `built` records the wheel built from it here. */
export interface PinnedSdist extends NativePin {
  built?: string;
}

/**
 * A compiled package that only an optional feature (an extra) brings in, and that fabricks
 * cannot build: left out of the build; importing it raises ModuleNotFoundError saying so.
 */
export interface LeftOut {
  name: string;
  version: string;
  /** Why it cannot be built, in words (failure-text of the reason). */
  leftOut: string;
  /** Why, as data (native-failure.ts); absent in locks written before it was recorded. */
  reason?: NativeFailureKind;
  /** The names it is imported by, as the package says (import-names.ts); absent when nothing said. */
  modules?: string[];
  /** What brings it in: `mcp → pyjwt[crypto]`. */
  requiredBy: string;
}

export type Pin = PinnedWheel | PinnedSdist | LeftOut;
const isNative = (p: Pin): p is PinnedSdist => 'sdist' in p;
const isLeftOut = (p: Pin): p is LeftOut => 'leftOut' in p;

/** fabricks.lock's [python]: the dependencies, resolved once; `requirements` is the digest of what was resolved. */
export interface PythonLock {
  requirements: Digest;
  packages: Pin[];
}

export interface PythonDependencies {
  /** The lock's [python] section for these requirements. */
  lock: PythonLock;
  /** The wheels' files, as they go into the module layer. */
  files: Array<{ path: string; abs: string; size: number; bytes: Uint8Array }>;
  /** The compiled dependencies' extension modules, for the runtime variant (paths under native/); empty when there are none. */
  native: RuntimeExtras;
  /** Their wheels, and where each came from. */
  built: BuiltDependency[];
}

/** A Python project's requirements, pinned and fetched; none when it declares none. */
export async function projectDependencies(config: ProjectConfig, runtime: BuildTarget, lock: LockFile | undefined, ctx: Context, wheels?: WheelSharing): Promise<Dependencies | undefined> {
  const requirements = await readPythonRequirements(config.source.dir, config.dir);
  if (!requirements) return undefined;
  // the runtime's CPython version: python:3.14 gives 3.14
  const pythonVersion = /(\d+\.\d+)/.exec(runtime.name)?.[1] ?? '3.14';
  const locked = readPythonLock(lock?.sections.python, lockDisplayPath(config.dir));
  const dirs = { wheels: ctx.home.wheelCacheDir, native: ctx.home.nativeCacheDir, leases: ctx.home.leases };
  const deps = await pythonDependencies(requirements, { pythonVersion }, locked, dirs, ctx.reporter, ctx.signal, { strictNative: config.source.strictNative, ...(wheels ? { share: { sharing: wheels, ctx } } : {}) });
  const result: Dependencies = { files: deps.files, lock: [pythonSection(deps.lock)], ...(deps.built.length ? { built: deps.built } : {}) };
  if (deps.native.length) {
    const { nativeRuntime } = await import('./native-runtime.js');
    result.runtime = await nativeRuntime(runtime, deps.native, config, ctx);
  }
  return result;
}

/** fabricks.lock's [python], checked. */
function readPythonLock(value: Record<string, unknown> | undefined, display: string): PythonLock | undefined {
  if (value === undefined) return undefined;
  const py = value as { requirements?: unknown; packages?: unknown };
  const bad = (what: string) =>
    new FabricksError('LOCK_INVALID', `${display}: [python] ${what}`, { hint: `delete the [python] entries from ${LOCK_FILE}; the next build resolves the dependencies again` });
  if (typeof py.requirements !== 'string' || !isDigest(py.requirements)) throw bad('needs requirements = "sha256:..."');
  const packages = py.packages ?? [];
  if (!Array.isArray(packages)) throw bad('packages must be an array of tables');
  return {
    requirements: py.requirements,
    packages: packages.map((p: Record<string, unknown>, i): Pin => {
      if (p['left-out'] !== undefined) {
        for (const field of ['name', 'version', 'left-out', 'required-by']) if (typeof p[field] !== 'string') throw bad(`packages[${i}] needs ${field}`);
        const reason = typeof p.reason === 'string' ? { reason: p.reason as NativeFailureKind } : {};
        if (p.modules !== undefined && !(Array.isArray(p.modules) && p.modules.every((m) => typeof m === 'string' && /^[A-Za-z_]\w*$/.test(m)))) throw bad(`packages[${i}] modules must be an array of module names`);
        const modules = p.modules ? { modules: p.modules as string[] } : {};
        return { name: p.name as string, version: p.version as string, leftOut: p['left-out'] as string, requiredBy: p['required-by'] as string, ...reason, ...modules };
      }
      const native = p.sdist !== undefined;
      for (const field of ['name', 'version', native ? 'sdist' : 'wheel', 'sha256']) if (typeof p[field] !== 'string') throw bad(`packages[${i}] needs ${field}`);
      if (!/^[0-9a-f]{64}$/.test(p.sha256 as string)) throw bad(`packages[${i}] sha256 must be 64 hex digits`);
      const common = { name: p.name as string, version: p.version as string, sha256: p.sha256 as string };
      if (native) {
        if (!/^[^/\\]+\.(tar\.gz|zip)$/.test(p.sdist as string)) throw bad(`packages[${i}] sdist must be a .tar.gz file name`);
        return { ...common, sdist: p.sdist as string, ...(typeof p.built === 'string' ? { built: p.built } : {}) };
      }
      if (!/^[^/\\]+\.whl$/.test(p.wheel as string)) throw bad(`packages[${i}] wheel must be a .whl file name`);
      return { ...common, wheel: p.wheel as string };
    }),
  };
}

function pythonSection(lock: PythonLock): LockSection {
  return {
    name: 'python',
    note:
      'Python dependencies, resolved from the requirements whose digest this is; each wheel is\nchecked against its hash when it is downloaded. A package with compiled code is pinned to\nits source distribution (sdist, sha256), built here for WebAssembly; built is that wheel.\nleft-out: a compiled package only an optional feature needs, which cannot be built here.',
    table: {
      requirements: lock.requirements,
      packages: lock.packages.map((p) =>
        isLeftOut(p)
          ? { name: p.name, version: p.version, 'left-out': p.leftOut, ...(p.reason ? { reason: p.reason } : {}), ...(p.modules ? { modules: p.modules } : {}), 'required-by': p.requiredBy }
          : isNative(p)
          ? ({ name: p.name, version: p.version, sdist: p.sdist, sha256: p.sha256, ...(p.built ? { built: p.built } : {}) } as Record<string, string>)
          : { name: p.name, version: p.version, wheel: p.wheel, sha256: p.sha256 },
      ),
    },
  };
}

/**
 * A Python project's dependencies, ready to pack: resolved by pip once (pure-Python wheels for
 * the runtime's CPython) and pinned in fabricks.lock; later builds take the pins as they are,
 * from the wheel cache when the files are there, each checked against its pinned hash.
 */
export async function pythonDependencies(
  requirements: PythonRequirements,
  target: WheelTarget,
  locked: PythonLock | undefined,
  dirs: { wheels: string; native: string; leases?: Leases },
  reporter: Reporter,
  signal?: AbortSignal,
  options: { strictNative?: boolean; share?: WheelShare } = {},
): Promise<PythonDependencies> {
  // releases that cannot be built here for want of what they pin (a crate the registry lacks),
  // as earlier builds on this machine found them and as this one finds them
  let known = await passedOverHere(dirs.native);
  let excluded = known.map((k) => `${k.pkg}!=${k.version}`);
  let passes = 0;
  let last: OlderRelease | undefined;
  for (;;) {
    try {
      return await dependenciesOnce(requirements, target, locked, dirs, reporter, signal, options, excluded, passes < OLDER_RELEASES, known);
    } catch (e) {
      if (e instanceof OlderRelease) {
        passes++;
        last = e;
        excluded.push(`${e.pkg}!=${e.version}`);
        await rememberPassedOver(dirs.native, { pkg: e.pkg, version: e.version, failure: e.failure });
        reporter({
          event: 'note',
          code: 'native-older-release',
          subject: `package ${e.pkg} ${e.version}`,
          detail: `${failureText(e.failure)}; resolving again without this release, for the newest one the requirements allow that builds here (pin ${e.pkg} in the requirements to choose)`,
        });
        continue;
      }
      if (!excluded.length) throw e;
      // the requirements allow no other release (they pin the one passed over): without what an
      // earlier build remembered, once, so that this build meets the failure itself
      if (known.length) {
        excluded = excluded.filter((x) => !known.some((k) => x === `${k.pkg}!=${k.version}`));
        known = [];
        continue;
      }
      // and then that failure, as the build gave it, rather than the resolver's
      throw last?.error ?? e;
    }
  }
}

/** How many releases are passed over before a package that cannot be built is an error (or left out). */
const OLDER_RELEASES = 3;

/**
 * A compiled package whose build failed for want of something it pins that this machine cannot
 * reach (a crate): the dependencies are resolved again without that release.
 */
class OlderRelease extends Error {
  constructor(
    readonly pkg: string,
    readonly version: string,
    readonly error: NativeBuildError,
  ) {
    super(`${pkg} ${version}: ${failureText(error.failure)}`);
  }

  get failure(): NativeFailure {
    return this.error.failure;
  }
}

async function dependenciesOnce(
  requirements: PythonRequirements,
  target: WheelTarget,
  locked: PythonLock | undefined,
  dirs: { wheels: string; native: string; leases?: Leases },
  reporter: Reporter,
  signal: AbortSignal | undefined,
  options: { strictNative?: boolean; share?: WheelShare },
  excluded: string[],
  mayPassOver: boolean,
  known: PassedOver[],
): Promise<PythonDependencies> {
  // a release passed over only while resolving, and only so many times
  const passOver = (name: string, version: string, error: NativeBuildError) => (error.failure.kind === 'crate-unavailable' && mayPassOver ? new OlderRelease(name, version, error) : undefined);
  const cacheDir = dirs.wheels;
  const digest = requirementsDigest(requirements, target);
  let pins = locked?.requirements === digest ? locked.packages : undefined;
  const resolving = !pins;
  let requiredBy = new Map<string, string[]>();
  await mkdir(cacheDir, { recursive: true });
  const scratch = await mkdtemp(join(cacheDir, '.resolve-'));
  try {
    if (!pins) {
      const done = startStep(reporter, 'dependencies', displayPath(requirements.file));
      // an optional compiled package is built while resolving (its wheel is cached for what follows):
      // one whose build fails is left out like one that cannot be built at all, for the reason the build gave
      const tryBuild = async (pin: PinnedSdist, by: string[] | undefined): Promise<NativeFailure | undefined> => {
        try {
          await nativeWheel(pin, by, target, { cache: dirs.native, sdists: cacheDir, ...(dirs.leases ? { leases: dirs.leases } : {}) }, reporter, signal, options.share);
          return undefined;
        } catch (e) {
          if (!(e instanceof NativeBuildError)) throw e;
          const older = passOver(pin.name, pin.version, e);
          if (older) throw older;
          return e.failure;
        }
      };
      ({ pins, requiredBy } = await resolvePins(requirements, target, cacheDir, scratch, signal, tryBuild, excluded));
      // what an earlier build on this machine passed over, said again for the packages this one has
      const { normalizeName } = await import('../../tools/package-index.js');
      const names = new Set(pins.map((p) => normalizeName(p.name)));
      for (const k of known.filter((k) => names.has(normalizeName(k.pkg)))) {
        reporter({ event: 'note', code: 'native-older-release', subject: `package ${k.pkg} ${k.version}`, detail: `${failureText(k.failure)} (found by an earlier build on this machine); left out of the resolution, for the newest release the requirements allow that builds here (pin ${k.pkg} in the requirements to choose)` });
      }
      done({ size: pins.length });
    }
    const files = [];
    const native: RuntimeExtras = [];
    const built: BuiltDependency[] = [];
    // the unzipper loads only for a project that has dependencies
    const { unzipSync } = pins.length ? await import('fflate') : { unzipSync: undefined };
    const out: Pin[] = [];
    const leftOut: LeftOut[] = [];
    for (const pin of pins) {
      throwIfAborted(signal);
      if (isLeftOut(pin)) {
        if (options.strictNative) {
          throw unsupported(pin.name, pin.version, [pin.requiredBy], pin.reason ?? 'build-failed', pin.leftOut, {
            hint: `only an optional feature needs it (${pin.requiredBy}), so without [source] strict-native = true the build leaves it out and importing it raises ModuleNotFoundError; or drop the extra that requires it`,
          });
        }
        reporter({
          event: 'note',
          code: 'native-left-out',
          subject: `package ${pin.name} ${pin.version}`,
          detail: `left out of the build: only an optional feature needs it (${chainText(pin.requiredBy)}), and fabricks cannot build it for WebAssembly: ${pin.leftOut}; importing it raises ModuleNotFoundError saying so ([source] strict-native = true makes this a build error)`,
        });
        leftOut.push(pin);
        out.push(pin);
        continue;
      }
      if (isNative(pin)) {
        const wheel = await nativeWheel(pin, requiredBy.get(pin.name), target, { cache: dirs.native, sdists: cacheDir, ...(dirs.leases ? { leases: dirs.leases } : {}) }, reporter, signal, options.share).catch((e: unknown) => {
          const older = resolving && e instanceof NativeBuildError ? passOver(pin.name, pin.version, e) : undefined;
          throw older ?? e;
        });
        built.push({
          name: pin.name,
          version: pin.version,
          digest: wheel.digest,
          size: wheel.bytes.length,
          from: wheel.via,
          ...(wheel.shared ? { pulledFrom: wheel.shared } : {}),
          ...(wheel.pushed ? { pushed: wheel.pushed } : {}),
        });
        // extension modules go into the runtime variant (componentize-py links them); the rest into the layer
        for (const f of wheelFiles(pin, wheel.path, wheel.bytes, unzipSync!)) {
          if (f.path.endsWith('-wasm32-wasi.so')) native.push([`native/${f.path.slice(PACKAGES_ROOT.length + 1)}`, f.bytes]);
          else files.push(f);
        }
        out.push({ ...pin, built: wheel.digest });
        continue;
      }
      const wheel = await cachedWheel(pin, target, cacheDir, scratch, signal);
      files.push(...wheelFiles(pin, wheel.path, wheel.bytes, unzipSync!));
      out.push(pin);
    }
    if (leftOut.length) files.push(leftOutFile(leftOut));
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    native.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { lock: { requirements: digest, packages: out }, files, native, built };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const chainText = (requiredBy: string) => (requiredBy === 'the project' ? 'required by the project' : `required by ${requiredBy}`);

/** Where the runtime learns which modules were left out, and why (fabricks_packages.py reads it). */
export const LEFT_OUT_FILE = '.fabricks/left-out.json';

/**
 * The packages left out, by the names each would be imported as: what the package says
 * (import-names.ts, recorded in the lock), else, when nothing said, its distribution name in
 * lower case with `_` for `-` and `.` (a guess that most packages bear out), with the message
 * that importing it gives.
 */
function leftOutFile(leftOut: LeftOut[]): PythonDependencies['files'][number] {
  const modules: Record<string, string> = {};
  for (const p of leftOut) {
    for (const m of p.modules?.length ? p.modules : [p.name.replace(/[-.]+/g, '_').toLowerCase()]) modules[m] = `the Python package ${p.name} ${p.version} (${chainText(p.requiredBy)}, an optional feature) was left out of the fabricks build, which cannot build it for WebAssembly: ${p.leftOut}`;
  }
  const bytes = new TextEncoder().encode(JSON.stringify(modules, Object.keys(modules).sort(), 1) + '\n');
  return { path: LEFT_OUT_FILE, abs: LEFT_OUT_FILE, size: bytes.length, bytes };
}

/** What the pins depend on: the requirement lines and the interpreter they were resolved for. */
function requirementsDigest(r: PythonRequirements, target: WheelTarget): Digest {
  return sha256(JSON.stringify({ python: target.pythonVersion, requirements: r.lines }));
}

/**
 * Resolves as pip would, taking a platform wheel only where a package has no pure-Python one (to
 * learn its version and dependencies); each such package is then pinned to its source
 * distribution, to be built for WebAssembly (native.ts), unless that version does have a
 * pure-Python wheel after all (pip prefers a platform wheel when both exist). A compiled package
 * that cannot be built fails the build, naming the chain that requires it, unless only an extra
 * brings it in (dependency-graph.ts): then it is left out, with what only it brought in.
 */
async function resolvePins(
  r: PythonRequirements,
  target: WheelTarget,
  cacheDir: string,
  scratch: string,
  signal: AbortSignal | undefined,
  tryBuild: (pin: PinnedSdist, requiredBy: string[] | undefined) => Promise<NativeFailure | undefined>,
  excluded: string[],
): Promise<{ pins: Pin[]; requiredBy: Map<string, string[]> }> {
  const file = join(scratch, 'requirements.txt');
  // releases passed over are constraints, which require nothing by themselves
  const constraints = join(scratch, 'constraints.txt');
  if (excluded.length) await writeFile(constraints, excluded.join('\n') + '\n');
  await writeFile(file, [...r.lines, ...(excluded.length ? [`-c ${constraints}`] : [])].join('\n') + '\n');
  const { resolveRequirements } = await import('../../tools/pip.js');
  const { normalizeName } = await import('../../tools/package-index.js');
  const { DependencyGraph } = await import('./dependency-graph.js');
  const reported = await resolveRequirements(file, target, join(scratch, 'target'), signal, { compiled: true });
  const graph = new DependencyGraph(reported);
  // who brings each package in, for messages: the chain from a requirement of the project
  const requiredBy = new Map<string, string[]>();
  for (const w of reported) {
    const chain = graph.chain(w.name);
    requiredBy.set(w.name, chain.length ? [chain.join(' → ')] : []);
  }
  const wheelOf = (w: ReportedWheel) => decodeURIComponent(w.url.split('/').pop() ?? '');
  const pins: Pin[] = [];
  const optional: Array<{ w: ReportedWheel; pin?: PinnedSdist; why?: NativeFailure; built?: boolean }> = [];
  for (const w of reported) {
    let wheel = wheelOf(w);
    let sha = w.sha256;
    if (!wheel.endsWith('-none-any.whl')) {
      const pure = await pureWheel(w, target, scratch, signal);
      if (!pure) {
        if (graph.required(w.name)) {
          pins.push(await pinSdist(w.name, w.version, requiredBy.get(w.name) ?? [], cacheDir, scratch, signal));
        } else {
          // only an extra needs it: whether it can be built decides whether it is left out
          const tried = await pinSdist(w.name, w.version, requiredBy.get(w.name) ?? [], cacheDir, scratch, signal).then(
            (pin) => ({ w, pin }),
            (e: unknown) => {
              if (e instanceof NativeBuildError) return { w, why: e.failure };
              throw e;
            },
          );
          optional.push(tried);
        }
        continue;
      }
      wheel = wheelOf(pure);
      sha = pure.sha256;
    }
    if (!sha) throw new FabricksError('DEPENDENCY_INVALID', `the package index gave no sha256 for ${wheel}`, { hint: 'use an index that publishes hashes (PyPI does)' });
    pins.push({ name: w.name, version: w.version, wheel, sha256: sha });
  }
  // an optional package that needs one left out cannot work either (cryptography needs cffi)
  const left = new Map(optional.filter((o) => o.why).map((o) => [normalizeName(o.w.name), o]));
  // and the others are built, each after the optional packages it requires (cffi before cryptography)
  for (let changed = true; changed; ) {
    changed = false;
    for (const o of optional) {
      if (left.has(normalizeName(o.w.name))) continue;
      const needs = graph.requiresAnyOf(o.w.name, new Set(left.keys()));
      if (!needs) continue;
      const other = left.get(normalizeName(needs))!;
      o.why = { kind: 'requires-left-out', requires: other.w.name, why: `it requires ${other.w.name} ${other.w.version}, which cannot be built: ${failureText(other.why!)}` };
      left.set(normalizeName(o.w.name), o);
      changed = true;
    }
    if (changed) continue;
    const undecided = optional.filter((o) => !o.why && !o.built);
    const names = new Set(undecided.map((o) => normalizeName(o.w.name)));
    const next = undecided.find((o) => !graph.requiresAnyOf(o.w.name, new Set([...names].filter((n) => n !== normalizeName(o.w.name))))) ?? undecided[0];
    if (!next) break;
    next.built = true;
    const why = await tryBuild(next.pin!, requiredBy.get(next.w.name));
    if (why) {
      next.why = why;
      left.set(normalizeName(next.w.name), next);
    }
    changed = true;
  }
  for (const o of optional) {
    if (o.why) {
      const modules = await importNamesOf(o.w, signal);
      pins.push({ name: o.w.name, version: o.w.version, leftOut: failureText(o.why), reason: o.why.kind, ...(modules.length ? { modules } : {}), requiredBy: requiredBy.get(o.w.name)?.[0] ?? 'the project' });
    }
    else pins.push(o.pin!);
  }
  // what only the packages left out brought in goes too (cffi's pycparser)
  const kept = graph.reachableWithout(new Set(left.keys()));
  const result = pins.filter((p) => isLeftOut(p) || kept.has(normalizeName(p.name)));
  result.sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  return { pins: result, requiredBy };
}

/**
 * The names a left-out package is imported by, from the compiled wheel pip resolved it to (for
 * another platform, but with the same modules), checked against its hash; none when the index
 * gave no hash or the wheel cannot be had (the guess from its name serves then).
 */
async function importNamesOf(w: ReportedWheel, signal: AbortSignal | undefined): Promise<string[]> {
  if (!w.sha256) return [];
  const [{ downloadChecked }, { wheelImportNames }] = await Promise.all([import('../../tools/package-index.js'), import('./import-names.js')]);
  try {
    const filename = decodeURIComponent(w.url.split('/').pop() ?? '');
    return await wheelImportNames(await downloadChecked({ filename, url: w.url, sha256: w.sha256 }, signal));
  } catch (e) {
    // Ctrl-C stops; anything else (the index unreachable, not a zip) leaves the guess from its name
    if (signal?.aborted || (e instanceof FabricksError && e.code === 'INTERRUPTED')) throw e;
    return [];
  }
}

/** The pure-Python wheel of exactly this version, when the index has one. */
async function pureWheel(w: ReportedWheel, target: WheelTarget, scratch: string, signal?: AbortSignal): Promise<ReportedWheel | undefined> {
  const file = join(scratch, `pure-${w.name}.txt`);
  await writeFile(file, `${w.name}==${w.version}\n`);
  const { resolveRequirements } = await import('../../tools/pip.js');
  try {
    const [pure] = await resolveRequirements(file, target, join(scratch, 'target'), signal, { noDeps: true });
    return pure;
  } catch (e) {
    if (e instanceof FabricksError && e.code === 'DEPENDENCY_INVALID') return undefined;
    throw e;
  }
}

/** The wheel's bytes, from the cache when a file there has the pinned hash, else downloaded by pip (which checks it too). */
async function cachedWheel(pin: PinnedWheel, target: WheelTarget, cacheDir: string, scratch: string, signal?: AbortSignal): Promise<{ path: string; bytes: Uint8Array }> {
  const path = join(cacheDir, pin.wheel);
  const cached = await readFile(path).catch(() => undefined);
  if (cached && sha256(cached) === `sha256:${pin.sha256}`) return { path, bytes: cached };
  const dest = join(scratch, 'download');
  const pinned = join(scratch, `${pin.name}.txt`);
  await writeFile(pinned, `${pin.name}==${pin.version} --hash=sha256:${pin.sha256}\n`);
  const { downloadWheels } = await import('../../tools/pip.js');
  await downloadWheels(pinned, dest, target, signal);
  const got = (await readdir(dest)).find((f) => f === pin.wheel);
  if (!got) throw new FabricksError('DEPENDENCY_INVALID', `pip did not download ${pin.wheel} for ${pin.name} ${pin.version}`, { hint: 'delete the [python] entries from fabricks.lock to resolve the dependencies again' });
  const bytes = await readFile(join(dest, got));
  if (sha256(bytes) !== `sha256:${pin.sha256}`) throw new FabricksError('DIGEST_MISMATCH', `${pin.wheel} does not match the sha256 pinned in fabricks.lock`);
  // a damaged cached copy is replaced whole: written aside, then renamed over it
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return { path, bytes };
}

/**
 * A wheel's files as they go into the layer, as pip would install them into site-packages:
 * purelib/platlib data go to the root; scripts, headers and data files are not for import.
 */
function wheelFiles(pin: Pin & { wheel?: string }, wheelPath: string, bytes: Uint8Array, unzipSync: (data: Uint8Array) => Record<string, Uint8Array>): PythonDependencies['files'] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (cause) {
    throw new FabricksError('DEPENDENCY_INVALID', `${pin.wheel ?? wheelPath} is not a readable wheel (zip)`, { cause });
  }
  const out: PythonDependencies['files'] = [];
  for (const [name, content] of Object.entries(entries)) {
    if (name.endsWith('/')) continue;
    let rel = name;
    const data = /^[^/]+\.data\/([^/]+)\/(.*)$/.exec(name);
    if (data) {
      if (data[1] !== 'purelib' && data[1] !== 'platlib') continue;
      rel = data[2]!;
    }
    const normal = posix.normalize(rel);
    if (normal.startsWith('../') || normal.startsWith('/') || normal === '..') {
      throw new FabricksError('DEPENDENCY_INVALID', `${pin.wheel ?? wheelPath} holds a file outside its own folder: ${name}`, { hint: `do not depend on ${pin.name}` });
    }
    if (/(^|\/)__pycache__\//.test(normal) || normal.endsWith('.pyc')) continue;
    out.push({ path: `${PACKAGES_ROOT}/${normal}`, abs: `${wheelPath}/${normal}`, size: content.length, bytes: content });
  }
  return out;
}
