import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { sha256 } from '../../oci/digest.js';
import type { Digest } from '../../oci/digest.js';
import { isDigest } from '../../oci/digest.js';
import { LOCK_FILE, lockDisplayPath, type LockFile, type LockSection } from '../../config/lock.js';
import { readPythonRequirements, type PythonRequirements } from './requirements.js';
import type { ProjectConfig } from '../../config/project.js';
import type { Context } from '../../home/context.js';
import type { BuildTarget, Dependencies } from '../kind.js';
import type { WheelTarget } from '../../tools/pip.js';
import { FabricksError, throwIfAborted } from '../../util/errors.js';
import { startStep, type Reporter } from '../../util/progress.js';
import { displayPath } from '../../util/paths.js';

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

/** fabricks.lock's [python]: the dependencies, resolved once; `requirements` is the digest of what was resolved. */
export interface PythonLock {
  requirements: Digest;
  packages: PinnedWheel[];
}

export interface PythonDependencies {
  /** The lock's [python] section for these requirements. */
  lock: PythonLock;
  /** The wheels' files, as they go into the module layer. */
  files: Array<{ path: string; abs: string; size: number; bytes: Uint8Array }>;
}

/** A Python project's requirements, pinned and fetched; none when it declares none. */
export async function projectDependencies(config: ProjectConfig, runtime: BuildTarget, lock: LockFile | undefined, ctx: Context): Promise<Dependencies | undefined> {
  const requirements = await readPythonRequirements(config.source.dir, config.dir);
  if (!requirements) return undefined;
  // the runtime's CPython version: python:3.14 gives 3.14
  const pythonVersion = /(\d+\.\d+)/.exec(runtime.name)?.[1] ?? '3.14';
  const locked = readPythonLock(lock?.sections.python, lockDisplayPath(config.dir));
  const deps = await pythonDependencies(requirements, { pythonVersion }, locked, ctx.home.wheelCacheDir, ctx.reporter, ctx.signal);
  return { files: deps.files, lock: [pythonSection(deps.lock)] };
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
    packages: packages.map((p: Record<string, unknown>, i) => {
      for (const field of ['name', 'version', 'wheel', 'sha256']) if (typeof p[field] !== 'string') throw bad(`packages[${i}] needs ${field}`);
      if (!/^[0-9a-f]{64}$/.test(p.sha256 as string)) throw bad(`packages[${i}] sha256 must be 64 hex digits`);
      if (!/^[^/\\]+\.whl$/.test(p.wheel as string)) throw bad(`packages[${i}] wheel must be a .whl file name`);
      return { name: p.name as string, version: p.version as string, wheel: p.wheel as string, sha256: p.sha256 as string };
    }),
  };
}

function pythonSection(lock: PythonLock): LockSection {
  return {
    name: 'python',
    note: 'Python dependencies, resolved from the requirements whose digest this is; each wheel is\nchecked against its hash when it is downloaded.',
    table: { requirements: lock.requirements, packages: lock.packages.map((p) => ({ name: p.name, version: p.version, wheel: p.wheel, sha256: p.sha256 })) },
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
  cacheDir: string,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<PythonDependencies> {
  const digest = requirementsDigest(requirements, target);
  let pins = locked?.requirements === digest ? locked.packages : undefined;
  await mkdir(cacheDir, { recursive: true });
  const scratch = await mkdtemp(join(cacheDir, '.resolve-'));
  try {
    if (!pins) {
      const done = startStep(reporter, 'dependencies', displayPath(requirements.file));
      pins = await resolvePins(requirements, target, scratch, signal);
      done({ size: pins.length });
    }
    const files = [];
    // the unzipper loads only for a project that has dependencies
    const { unzipSync } = pins.length ? await import('fflate') : { unzipSync: undefined };
    for (const pin of pins) {
      throwIfAborted(signal);
      const wheel = await cachedWheel(pin, target, cacheDir, scratch, signal);
      files.push(...wheelFiles(pin, wheel.path, wheel.bytes, unzipSync!));
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { lock: { requirements: digest, packages: pins }, files };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** What the pins depend on: the requirement lines and the interpreter they were resolved for. */
function requirementsDigest(r: PythonRequirements, target: WheelTarget): Digest {
  return sha256(JSON.stringify({ python: target.pythonVersion, requirements: r.lines }));
}

async function resolvePins(r: PythonRequirements, target: WheelTarget, scratch: string, signal?: AbortSignal): Promise<PinnedWheel[]> {
  const file = join(scratch, 'requirements.txt');
  await writeFile(file, r.lines.join('\n') + '\n');
  const { resolveRequirements } = await import('../../tools/pip.js');
  const reported = await resolveRequirements(file, target, join(scratch, 'target'), signal);
  return reported
    .map((w) => {
      const wheel = decodeURIComponent(w.url.split('/').pop() ?? '');
      if (!wheel.endsWith('-none-any.whl')) {
        throw new FabricksError('DEPENDENCY_INVALID', `the Python package ${w.name} ${w.version} resolved to ${wheel || w.url}, which is not a pure-Python wheel`, {
          hint: `fabricks runs Python in WebAssembly, which loads only pure-Python code; use a pure-Python alternative to ${w.name}`,
        });
      }
      if (!w.sha256) throw new FabricksError('DEPENDENCY_INVALID', `the package index gave no sha256 for ${wheel}`, { hint: 'use an index that publishes hashes (PyPI does)' });
      return { name: w.name, version: w.version, wheel, sha256: w.sha256 };
    })
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
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
function wheelFiles(pin: PinnedWheel, wheelPath: string, bytes: Uint8Array, unzipSync: (data: Uint8Array) => Record<string, Uint8Array>): PythonDependencies['files'] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (cause) {
    throw new FabricksError('DEPENDENCY_INVALID', `${pin.wheel} is not a readable wheel (zip)`, { cause });
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
      throw new FabricksError('DEPENDENCY_INVALID', `${pin.wheel} holds a file outside its own folder: ${name}`, { hint: `do not depend on ${pin.name}` });
    }
    if (/(^|\/)__pycache__\//.test(normal) || normal.endsWith('.pyc')) continue;
    out.push({ path: `${PACKAGES_ROOT}/${normal}`, abs: `${wheelPath}/${normal}`, size: content.length, bytes: content });
  }
  return out;
}
