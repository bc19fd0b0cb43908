import { readdir, readFile, stat, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { digestHex, sha256 } from '../oci/digest.js';

/**
 * The cache of Python wheels built for the runtime from source distributions (written by
 * runtimes/python/native.ts): `<cache>/<key>/<wheel>.whl` with its `build.json`, where the key is
 * the build's action key (the sdist's sha256, the toolchains, the runtime's CPython). As the
 * compiled cache does, an entry's last use is its folder's mtime, a build leases the entries it
 * uses (util/lease.ts) so a gc elsewhere spares them, and gc removes the ones nothing needs
 * (app/gc.ts). Cargo's own cache of compiled crates (`cargo-target`) and the build lock live
 * beside the entries.
 */

/** The lease key of a built wheel's entry. */
export const nativeLeaseKey = (key: string) => `native:${key}`;

/** Cargo's target folder inside the cache, unless FABRICKS_NATIVE_CARGO_TARGET puts it elsewhere. */
export const CARGO_TARGET = 'cargo-target';
/** Where cargo keeps its compiled crates: FABRICKS_NATIVE_CARGO_TARGET (one for all homes of a CI machine or a test run; cargo locks it), else inside the cache. */
export const cargoTargetDir = (cacheDir: string, env: NodeJS.ProcessEnv = process.env) =>
  env.FABRICKS_NATIVE_CARGO_TARGET ? resolve(env.FABRICKS_NATIVE_CARGO_TARGET) : join(cacheDir, CARGO_TARGET);
/** The lock a build holds while it pulls or builds a wheel into the cache. */
export const BUILD_LOCK = 'build.lock';
/** Scratch folders of builds under way (`.build-XXXXXX`). */
export const BUILD_SCRATCH_PREFIX = '.build-';

/** What a build key is made of; `toolchain` names both toolchains, as only an unpacked sdist tells which one it needs. */
export interface NativeKeyInputs {
  /** The sdist's sha256, hex. */
  sdist: string;
  toolchain: string;
  /** The runtime's CPython version: 3.14. */
  python: string;
}

/** The action key of a built wheel (the field order is part of it: keys of earlier builds stay valid). */
export const nativeWheelKey = (k: NativeKeyInputs): string => digestHex(sha256(JSON.stringify({ sdist: k.sdist, toolchain: k.toolchain, python: k.python })));

/** build.json: what the entry was built from and how (older entries lack the fields marked so). */
export interface NativeRecord {
  package: string;
  version: string;
  /** The sdist's sha256, hex. */
  sdist: string;
  /** The sdist's file name (not in entries written before it was recorded). */
  sdistFile?: string;
  /** The toolchains that built it (idem). */
  toolchain?: string;
  /** The runtime's CPython (idem; the wheel's tag says it too). */
  python?: string;
  /** The runtime it is for, as layers name runtimes: python:3.14 (idem). */
  runtime?: string;
  /** The wheel's digest (idem; else computed). */
  digest?: string;
  /** pyo3 or setuptools, for a wheel built here. */
  kind?: string;
  /** The repository it was pulled from, for a wheel built elsewhere. */
  from?: string;
  seconds?: number;
  /** Bytes of its extension modules, and of the wheel. */
  extension?: number;
  wheel?: number;
}

export interface NativeEntry {
  /** The action key (the folder's name). */
  name: string;
  /** The key a process leases it by (nativeLeaseKey). */
  lease: string;
  dir: string;
  /** The wheel's file name, when the entry holds one. */
  file: string | undefined;
  record: NativeRecord | undefined;
  /** The wheel's digest, when there is a wheel. */
  digest: string | undefined;
  /** The runtime's CPython it is for: from the record, else from the wheel's tag (cp314 is 3.14). */
  python: string | undefined;
  /** The runtime it is for, as layers name runtimes (python:3.14). */
  runtime: string | undefined;
  /** Bytes of the entry's files. */
  bytes: number;
  lastUsed: number;
}

/** Records a use of an entry (its folder's mtime: atime is not kept everywhere). */
export async function markNativeUsed(dir: string): Promise<void> {
  const now = new Date();
  await utimes(dir, now, now).catch(() => undefined);
}

const pythonOfTag = (file: string) => {
  const m = /-cp(\d)(\d+)-[^-]+-[^-]+\.whl$/.exec(file);
  return m ? `${m[1]}.${m[2]}` : undefined;
};

/** An entry's build.json, when it is one: a damaged entry has none. */
async function readRecord(path: string): Promise<NativeRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as NativeRecord;
    return typeof r.package === 'string' && typeof r.version === 'string' && typeof r.sdist === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Every entry folder, with what its record and wheel say; an entry without its wheel or record is there too (gc removes it). */
export async function nativeEntries(cacheDir: string): Promise<NativeEntry[]> {
  const out: NativeEntry[] = [];
  for (const name of (await readdir(cacheDir).catch(() => [] as string[])).sort()) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue; // scratch, the lock, cargo's folder, entries moved aside
    const dir = join(cacheDir, name);
    const s = await stat(dir).catch(() => undefined);
    if (!s?.isDirectory()) continue;
    const files = await readdir(dir).catch(() => [] as string[]);
    const file = files.find((f) => f.endsWith('.whl'));
    const record = await readRecord(join(dir, 'build.json'));
    let bytes = 0;
    for (const f of files) bytes += (await stat(join(dir, f)).catch(() => undefined))?.size ?? 0;
    let digest = record?.digest;
    if (file && !digest) digest = await readFile(join(dir, file)).then((b) => sha256(b) as string, () => undefined);
    const python = record?.python ?? (file ? pythonOfTag(file) : undefined);
    const runtime = record?.runtime ?? (python ? `python:${python}` : undefined);
    out.push({ name, lease: nativeLeaseKey(name), dir, file, record, digest, python, runtime, bytes, lastUsed: s.mtimeMs });
  }
  return out;
}

/**
 * Whether a build of this fabricks would look the entry up: its folder is the key of its sdist
 * and CPython with these toolchains. An entry of another toolchain (an older fabricks) never is.
 */
export function isCurrent(entry: NativeEntry, toolchain: string): boolean {
  if (!entry.record || !entry.python) return false;
  return nativeWheelKey({ sdist: entry.record.sdist, toolchain, python: entry.python }) === entry.name;
}

/** Scratch folders of builds (`.build-…`): a build removes its own, one that was killed leaves it. */
export async function nativeScratch(cacheDir: string): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(BUILD_SCRATCH_PREFIX)).map((n) => join(cacheDir, n));
}

/** Bytes of a folder's files, all the way down (cargo's target folder). */
export async function treeBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await treeBytes(p);
    else if (e.isFile()) n += (await stat(p).catch(() => undefined))?.size ?? 0;
  }
  return n;
}
