import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { NativeBuildError } from './native-failure.js';

/** What an extracted sdist says about how it builds. */
export type SdistKind =
  | { kind: 'pyo3'; crateDir: string; libName: string; module: string; pythonSource: string | undefined; features: string[] }
  /** Built by its own PEP 517 backend (setuptools, or an in-tree one), which compiles C for wasm32-wasi (tools/clang-wasm.ts). */
  | { kind: 'setuptools'; backend: string }
  /** `reason`: a build system fabricks does not drive, or an sdist it cannot use. */
  | { kind: 'unsupported'; reason: 'build-system' | 'sdist-unusable'; why: string };

type Table = Record<string, unknown>;
const table = (v: unknown): Table => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

async function readToml(path: string): Promise<Table | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return parseToml(text) as Table;
  } catch {
    return undefined;
  }
}

/**
 * Tells how an sdist builds: a Rust extension that maturin builds with PyO3 bindings, or C built
 * by setuptools (a setup.py, setuptools.build_meta, or an in-tree backend that wraps it, as
 * aiohttp's family does), from anything else (meson, CMake, a Rust program shipped as a "binary"
 * package), reading pyproject.toml and Cargo.toml as the backends would.
 */
export async function classifySdist(root: string): Promise<SdistKind> {
  const pyproject = await readToml(join(root, 'pyproject.toml'));
  const system = table(pyproject?.['build-system']);
  const backend = system['build-backend'];
  if (backend !== 'maturin') {
    const hasSetupPy = await stat(join(root, 'setup.py')).then(
      () => true,
      () => false,
    );
    if (backend === undefined) {
      if (hasSetupPy) return { kind: 'setuptools', backend: 'setup.py' };
      return { kind: 'unsupported', reason: 'sdist-unusable', why: 'its source distribution has neither a build backend in pyproject.toml nor a setup.py' };
    }
    if (typeof backend === 'string' && (/^setuptools\.build_meta(:__legacy__)?$/.test(backend) || system['backend-path'] !== undefined)) return { kind: 'setuptools', backend };
    return { kind: 'unsupported', reason: 'build-system', why: `its build backend is ${String(backend)}; fabricks builds C extensions with setuptools and Rust extensions with maturin (PyO3)` };
  }
  const maturin = table(table(pyproject?.tool).maturin);
  const bindings = maturin.bindings;
  if (bindings !== undefined && bindings !== 'pyo3') {
    return { kind: 'unsupported', reason: 'build-system', why: `it is built by maturin with ${String(bindings)} bindings; fabricks builds PyO3 extensions only` };
  }
  const manifest = typeof maturin['manifest-path'] === 'string' ? join(root, maturin['manifest-path']) : join(root, 'Cargo.toml');
  const cargo = await readToml(manifest);
  if (!cargo) return { kind: 'unsupported', reason: 'sdist-unusable', why: `its source distribution has no readable ${relative(root, manifest)}` };
  const lib = table(cargo.lib);
  const pkgName = table(cargo.package).name;
  const libName = typeof lib.name === 'string' ? lib.name : typeof pkgName === 'string' ? pkgName.replaceAll('-', '_') : undefined;
  if (!libName) return { kind: 'unsupported', reason: 'sdist-unusable', why: `${relative(root, manifest)} names no library` };
  const module = typeof maturin['module-name'] === 'string' ? maturin['module-name'] : libName;
  const pythonSource = typeof maturin['python-source'] === 'string' ? maturin['python-source'] : undefined;
  const crateDir = posix.dirname(manifest.split('\\').join('/'));
  return { kind: 'pyo3', crateDir, libName, module, pythonSource, features: strings(maturin.features) };
}

/** A file of a built wheel: its path inside the wheel and its bytes. */
export type WheelEntry = [string, Uint8Array];

/** The extension module's file name for the runtime's CPython, e.g. rpds/rpds.cpython-314-wasm32-wasi.so. */
export const extensionPath = (module: string, pythonVersion: string) => `${module.split('.').join('/')}.cpython-${pythonVersion.replace('.', '')}-wasm32-wasi.so`;

/**
 * The files of the wheel maturin would make, with the extension built for WebAssembly: the
 * package's Python files (from python-source, when the project has them), the extension module
 * beside them, an __init__.py maturin would write for a Rust-only package, and the dist-info.
 */
export async function wheelEntries(root: string, sdist: SdistKind & { kind: 'pyo3' }, extension: Uint8Array, meta: { name: string; version: string; pythonVersion: string }): Promise<WheelEntry[]> {
  const top = sdist.module.split('.')[0]!;
  const entries: WheelEntry[] = [];
  const pySource = join(root, sdist.pythonSource ?? '.');
  const pkgDir = join(pySource, top);
  const hasPython = await stat(join(pkgDir, '__init__.py')).then(
    () => true,
    () => false,
  );
  if (hasPython) {
    for (const rel of await walk(pkgDir)) {
      // type stubs are for editors, and a folder of them would read as a namespace package
      if (/(^|\/)__pycache__\//.test(rel) || /\.(pyc|pyi|so|pyd|dylib)$/.test(rel)) continue;
      entries.push([`${top}/${rel}`, await readFile(join(pkgDir, rel))]);
    }
  } else {
    if (sdist.module.includes('.')) {
      const why = `module ${sdist.module} is in a package whose Python files its source distribution lacks`;
      throw new NativeBuildError('NATIVE_UNSUPPORTED', `${meta.name} ${meta.version}: ${why}`, { kind: 'sdist-unusable', why });
    }
    // what maturin writes for a Rust-only project: the package re-exports the extension module
    const init = `from .${top} import *\n\n__doc__ = ${top}.__doc__\nif hasattr(${top}, "__all__"):\n    __all__ = ${top}.__all__\n`;
    entries.push([`${top}/__init__.py`, new TextEncoder().encode(init)]);
  }
  // a module name without a package (rpds) goes inside the package of that name, as maturin puts it
  const so = extensionPath(sdist.module.includes('.') ? sdist.module : `${top}.${top}`, meta.pythonVersion);
  entries.push([so, extension]);
  const dist = `${distName(meta.name)}-${meta.version}.dist-info`;
  const pkgInfo = await readFile(join(root, 'PKG-INFO')).catch(() => new TextEncoder().encode(`Metadata-Version: 2.1\nName: ${meta.name}\nVersion: ${meta.version}\n`));
  entries.push([`${dist}/METADATA`, pkgInfo]);
  const tag = wheelTag(meta.pythonVersion);
  entries.push([`${dist}/WHEEL`, new TextEncoder().encode(`Wheel-Version: 1.0\nGenerator: fabricks\nRoot-Is-Purelib: false\nTag: ${tag}\n`)]);
  const record = entries.map(([p, b]) => `${p},sha256=${createHash('sha256').update(b).digest('base64url')},${b.length}`);
  record.push(`${dist}/RECORD,,`);
  entries.push([`${dist}/RECORD`, new TextEncoder().encode(record.join('\n') + '\n')]);
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** An extension module's file name as the build machine's setuptools spells it: name.cpython-311-x86_64-linux-gnu.so, name.abi3.so, name.so. */
const HOST_EXTENSION = /^(.*\/)?([A-Za-z_][\w]*)(\.(cpython-\d+\w*-[\w-]+|abi3|cpython-\d+\w*))?\.so$/;

/**
 * The files of a wheel that a PEP 517 backend built on this machine with the compiler aimed at
 * wasm32-wasi: its extension modules renamed for the runtime (the build machine's suffix becomes
 * .cpython-314-wasm32-wasi.so), its Python files and metadata as they are, and a WHEEL and RECORD
 * of our own.
 */
export function crossWheelEntries(host: WheelEntry[], meta: { name: string; version: string; pythonVersion: string }): { entries: WheelEntry[]; extensions: WheelEntry[] } {
  const dist = `${distName(meta.name)}-${meta.version}.dist-info`;
  const entries: WheelEntry[] = [];
  const extensions: WheelEntry[] = [];
  for (const [path, bytes] of host) {
    const [top, ...rest] = path.split('/');
    if (top!.endsWith('.dist-info')) {
      if (rest.join('/') === 'WHEEL' || rest.join('/') === 'RECORD') continue;
      entries.push([`${dist}/${rest.join('/')}`, bytes]);
      continue;
    }
    const m = HOST_EXTENSION.exec(path);
    if (m) {
      const renamed: WheelEntry = [`${m[1] ?? ''}${m[2]}.cpython-${meta.pythonVersion.replace('.', '')}-wasm32-wasi.so`, bytes];
      entries.push(renamed);
      extensions.push(renamed);
    } else entries.push([path, bytes]);
  }
  if (!entries.some(([p]) => p === `${dist}/METADATA`)) entries.push([`${dist}/METADATA`, new TextEncoder().encode(`Metadata-Version: 2.1\nName: ${meta.name}\nVersion: ${meta.version}\n`)]);
  entries.push([`${dist}/WHEEL`, new TextEncoder().encode(`Wheel-Version: 1.0\nGenerator: fabricks\nRoot-Is-Purelib: false\nTag: ${wheelTag(meta.pythonVersion)}\n`)]);
  const record = entries.map(([p, b]) => `${p},sha256=${createHash('sha256').update(b).digest('base64url')},${b.length}`);
  record.push(`${dist}/RECORD,,`);
  entries.push([`${dist}/RECORD`, new TextEncoder().encode(record.join('\n') + '\n')]);
  return { entries: entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), extensions };
}

/** The wheel tag of an extension built for the runtime: CPython's ABI on wasm32 WASI. */
export const wheelTag = (pythonVersion: string) => {
  const cp = `cp${pythonVersion.replace('.', '')}`;
  return `${cp}-${cp}-wasi_0_0_0_wasm32`;
};

/** A distribution name as wheel file names spell it (PEP 427: runs of -_. become _). */
export const distName = (name: string) => name.replace(/[-_.]+/g, '_');

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}
