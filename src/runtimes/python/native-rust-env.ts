import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { Reporter } from '../../util/progress.js';

/**
 * What a Rust extension's build needs besides cargo, read from the sdist: its build scripts may
 * compile C (the `cc` crate), link a C library that fabricks provides built for wasm32-wasi
 * (OpenSSL, for the `openssl-sys` crate), or run the build machine's Python with packages its
 * pyproject.toml names as build requirements (cryptography's runs cffi to write C). maturin would
 * install those requirements in an isolated environment; so does this, without maturin itself.
 */

/** The C libraries fabricks builds for wasm32-wasi, by the -sys crate that links each. */
const PROVIDED_BY_CRATE: Record<string, 'openssl'> = { 'openssl-sys': 'openssl' };

export interface RustBuildNeeds {
  /** A build script compiles C with the `cc` crate. */
  compilesC: boolean;
  /** C libraries fabricks provides that the crate links. */
  libraries: 'openssl'[];
  /** Build requirements other than maturin (PEP 508 strings), for the build scripts' Python. */
  pythonRequires: string[];
}

/** The crates in the Cargo.lock that governs `crateDir` (its own folder's, else the nearest above it inside the sdist). */
async function lockedCrates(root: string, crateDir: string): Promise<Set<string>> {
  for (let dir = crateDir; ; dir = dirname(dir)) {
    const text = await readFile(join(dir, 'Cargo.lock'), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      try {
        const lock = parseToml(text) as { package?: { name?: unknown }[] };
        return new Set((lock.package ?? []).map((p) => p.name).filter((n): n is string => typeof n === 'string'));
      } catch {
        return new Set();
      }
    }
    if (relative(root, dir) === '' || dirname(dir) === dir) return new Set();
  }
}

export async function rustBuildNeeds(root: string, crateDir: string): Promise<RustBuildNeeds> {
  const crates = await lockedCrates(root, crateDir);
  const libraries = [...new Set(Object.entries(PROVIDED_BY_CRATE).flatMap(([crate, lib]) => (crates.has(crate) ? [lib] : [])))];
  let pythonRequires: string[] = [];
  try {
    const pyproject = parseToml(await readFile(join(root, 'pyproject.toml'), 'utf8')) as { 'build-system'?: { requires?: unknown } };
    const requires = pyproject['build-system']?.requires;
    if (Array.isArray(requires)) pythonRequires = requires.filter((r): r is string => typeof r === 'string' && !/^\s*maturin\b/i.test(r));
  } catch {
    // classifySdist read it already; nothing more to add
  }
  return { compilesC: crates.has('cc'), libraries, pythonRequires };
}

/**
 * The environment for the crate's build: a compiler for its C code, the provided C libraries
 * (built once per machine into the native cache), and a Python with its build requirements.
 */
export async function rustBuildEnv(
  needs: RustBuildNeeds,
  b: { cache: string; scratch: string; pythonVersion: string; reporter: Reporter; signal?: AbortSignal | undefined },
): Promise<{ env: NodeJS.ProcessEnv; linkArchives: string[] }> {
  const env: NodeJS.ProcessEnv = {};
  const linkArchives: string[] = [];
  if (needs.compilesC || needs.libraries.length) {
    const { cargoCEnv, ensureCToolchain } = await import('../../tools/clang-wasm.js');
    await ensureCToolchain(b.pythonVersion);
    const c = await cargoCEnv(b.pythonVersion, join(b.scratch, 'c-compat'));
    Object.assign(env, c.env);
    linkArchives.push(c.compatArchive);
  }
  if (needs.libraries.includes('openssl')) {
    const { opensslForWasm } = await import('../../tools/openssl-wasm.js');
    const ssl = await opensslForWasm(b.cache, b.pythonVersion, b.reporter, b.signal);
    // openssl-sys links these static libraries; OPENSSL_NO_VENDOR keeps a crate's "vendored" feature from building its own
    Object.assign(env, { OPENSSL_DIR: ssl.dir, OPENSSL_LIB_DIR: ssl.lib, OPENSSL_INCLUDE_DIR: ssl.include, OPENSSL_STATIC: '1', OPENSSL_NO_VENDOR: '1' });
    // bindings that name the socket functions a WASI OpenSSL lacks compile against failing ones
    env.CFLAGS_wasm32_wasip1 = `${env.CFLAGS_wasm32_wasip1 ?? ''} -include ${ssl.noSockHeader}`.trim();
  }
  if (needs.pythonRequires.length) {
    const { buildRequirementsPython } = await import('../../tools/pip.js');
    env.PYO3_PYTHON = await buildRequirementsPython(needs.pythonRequires, join(b.scratch, 'build-env'), b.signal);
  }
  return { env, linkArchives };
}
