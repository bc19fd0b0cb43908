import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { packageRoot } from '../util/paths.js';
import { startStep, type Reporter } from '../util/progress.js';
import { C_TOOLCHAIN, ensureCToolchain, WASI_EMULATIONS } from './clang-wasm.js';
import { ensureTool, runTool } from './run-tool.js';

/**
 * OpenSSL built for wasm32-wasi, for Python packages whose build links it (cryptography, through
 * the openssl-sys crate). Its source is the `openssl-src` crate's (crates.io, pinned by version
 * and sha256), which bundles an OpenSSL 3.5 LTS release; it is configured the way that crate
 * configures it for WASI, with the legacy provider built in as upstream's own wheels of
 * cryptography have it (no assembly, threads, sockets, loadable modules or console UI; the WASI
 * emulations the runtime links for signal, mmap, getpid and process clocks) and built as static
 * libraries of position-independent code with hidden symbols, which the extension links in.
 * Built once per machine: kept under the native cache, keyed by the source, the flags and the C
 * toolchain.
 */
export const OPENSSL = {
  crate: 'openssl-src',
  crateVersion: '300.5.5+3.5.5',
  /** Of the .crate file, as crates.io's index records it. */
  crateSha256: '3f1787d533e03597a7934fd0a765f0d28e94ecc5fb7789f8053b1e699a56f709',
  version: '3.5.5',
} as const;

/** OpenSSL's Configure options: openssl-src's for a WASI target (src/lib.rs), and no apps or docs. */
const CONFIGURE_OPTIONS = [
  'gcc',
  'no-shared',
  'no-module',
  'no-tests',
  'no-apps',
  'no-docs',
  'no-comp',
  'no-zlib',
  'no-zlib-dynamic',
  'no-dso',
  'no-ssl3',
  'no-md2',
  'no-rc5',
  'no-weak-ssl-ciphers',
  'no-camellia',
  'no-idea',
  'no-seed',
  'no-ui-console',
  'no-sock',
  'no-threads',
  'no-asm',
  'no-afalgeng',
  '-DOPENSSL_NO_AFALGENG=1',
  '-DNO_SYSLOG',
  '-DNO_CHMOD',
  ...WASI_EMULATIONS,
];

const CFLAGS = ['-fPIC', '-fvisibility=hidden', '-O2'];

/**
 * build-tools/openssl-wasi: failing definitions of the socket functions no-sock leaves out, which
 * bindings name anyway (cryptography's cffi module, for pyOpenSSL), linked into libssl.a, and
 * their declarations, installed as include/fabricks-no-sock.h.
 */
const NO_SOCK_DIR = join(packageRoot, 'build-tools', 'openssl-wasi');
/** The header a build that links this OpenSSL includes first (-include), so such bindings compile. */
export const NO_SOCK_HEADER = 'fabricks-no-sock.h';
/** Part of the key: what the no-sock shim adds changes with it. */
const SHIM_REVISION = 1;

/** What the built libraries are keyed by: the source, how it was configured, and the compiler. */
export const opensslKey = () =>
  createHash('sha256')
    .update(JSON.stringify({ source: OPENSSL.crateSha256, configure: CONFIGURE_OPTIONS, cflags: CFLAGS, toolchain: C_TOOLCHAIN.id, shim: SHIM_REVISION }))
    .digest('hex')
    .slice(0, 16);

/** Where in the native cache the libraries are kept (beside the wheels; gc keeps it, as it keeps cargo's folder). */
export const C_LIBRARIES = 'c-libraries';

/** An OpenSSL for wasm32-wasi: `dir` holds include/ and lib/ (libcrypto.a, libssl.a). */
export interface WasmOpenSsl {
  dir: string;
  include: string;
  /** The declarations of the socket functions no-sock leaves out (to include first). */
  noSockHeader: string;
  lib: string;
  version: string;
  /** Built by this call (else found in the cache). */
  built: boolean;
}

/**
 * The OpenSSL for wasm32-wasi in `cacheDir`, built there first if it is not (about a minute on two
 * cores, niced; progress as a native-build step). The caller holds the native cache's build lock;
 * the folder appears whole (built in a scratch folder, then renamed).
 */
export async function opensslForWasm(cacheDir: string, pythonVersion: string, reporter: Reporter, signal?: AbortSignal): Promise<WasmOpenSsl> {
  const dir = join(cacheDir, C_LIBRARIES, `openssl-${OPENSSL.version}-${opensslKey()}`);
  const found = (built: boolean): WasmOpenSsl => ({ dir, include: join(dir, 'include'), noSockHeader: join(dir, 'include', NO_SOCK_HEADER), lib: join(dir, 'lib'), version: OPENSSL.version, built });
  if (await stat(join(dir, 'lib', 'libcrypto.a')).then(
    () => true,
    () => false,
  ))
    return found(false);
  await ensureCToolchain(pythonVersion);
  await ensureTool('perl', '/usr/bin/perl', 'OpenSSL\'s Configure is a Perl script: apt-get install perl');
  await ensureTool('make', '/usr/bin/make', 'apt-get install make');
  await mkdir(join(cacheDir, C_LIBRARIES), { recursive: true });
  const scratch = await mkdtemp(join(cacheDir, C_LIBRARIES, '.build-'));
  const done = startStep(reporter, 'c-library-build', `OpenSSL ${OPENSSL.version}`, 'wasm32-wasi');
  try {
    const crate = await crateSource(scratch, signal);
    const tar = await import('tar');
    await tar.x({ file: crate, cwd: scratch, strict: true });
    const src = join(scratch, `${OPENSSL.crate}-${OPENSSL.crateVersion}`, 'openssl');
    const out = join(scratch, 'out');
    const clang = join(C_TOOLCHAIN.llvmBin, 'clang');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // wasi-libc's headers only, never the build machine's
      CC: `${clang} --target=wasm32-wasip1 -nostdlibinc -isystem ${C_TOOLCHAIN.libcInclude}`,
      AR: C_TOOLCHAIN.ar,
      RANLIB: join(C_TOOLCHAIN.llvmBin, 'llvm-ranlib'),
      CFLAGS: CFLAGS.join(' '),
      PATH: `${C_TOOLCHAIN.llvmBin}:${process.env.PATH ?? ''}`,
    };
    for (const v of ['CPPFLAGS', 'LDFLAGS', 'CROSS_COMPILE', 'OPENSSL_CONF']) delete env[v];
    await runTool('OpenSSL Configure (wasm32-wasi)', 'perl', ['./Configure', ...CONFIGURE_OPTIONS, `--prefix=${out}`, '--openssldir=/etc/ssl', '--libdir=lib'], { cwd: src, env, signal });
    await runTool('make (OpenSSL, wasm32-wasi)', 'nice', ['-n', '10', 'make', '-j2', 'build_libs'], { cwd: src, env, signal });
    await runTool('make install_dev (OpenSSL)', 'make', ['install_dev'], { cwd: src, env, signal });
    const shim = join(scratch, 'no-sock.o');
    await runTool('clang (OpenSSL no-sock shim)', clang, ['--target=wasm32-wasip1', '-nostdlibinc', '-isystem', C_TOOLCHAIN.libcInclude, `-I${join(out, 'include')}`, ...CFLAGS, '-c', join(NO_SOCK_DIR, 'no-sock.c'), '-o', shim], { env, signal });
    await runTool('llvm-ar (OpenSSL no-sock shim)', C_TOOLCHAIN.ar, ['rs', join(out, 'lib', 'libssl.a'), shim], { env, signal });
    await copyFile(join(NO_SOCK_DIR, 'no-sock.h'), join(out, 'include', NO_SOCK_HEADER));
    await writeFile(join(out, 'build.json'), JSON.stringify({ openssl: OPENSSL.version, crate: `${OPENSSL.crate} ${OPENSSL.crateVersion}`, sha256: OPENSSL.crateSha256, configure: CONFIGURE_OPTIONS, cflags: CFLAGS, toolchain: C_TOOLCHAIN.id }, null, 1));
    await rm(dir, { recursive: true, force: true });
    await rename(out, dir);
    done({ size: (await stat(join(dir, 'lib', 'libcrypto.a'))).size });
    return found(true);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The openssl-src crate: FABRICKS_OPENSSL_SOURCE names a copy, else crates.io's download; checked against the pinned sha256 either way. */
async function crateSource(into: string, signal?: AbortSignal): Promise<string> {
  const given = process.env.FABRICKS_OPENSSL_SOURCE;
  const name = `${OPENSSL.crate}-${OPENSSL.crateVersion}.crate`;
  let bytes: Uint8Array;
  let from: string;
  if (given) {
    bytes = await readFile(given);
    from = given;
  } else {
    from = `https://static.crates.io/crates/${OPENSSL.crate}/${encodeURIComponent(OPENSSL.crateVersion)}/download`;
    let res: Response;
    try {
      res = await fetch(from, signal ? { signal } : {});
    } catch (cause) {
      throw new FabricksError('REGISTRY_UNREACHABLE', `${from} could not be downloaded (OpenSSL's source, for a package that links OpenSSL)`, {
        cause,
        hint: `set FABRICKS_OPENSSL_SOURCE to a copy of ${name} (sha256 ${OPENSSL.crateSha256})`,
      });
    }
    if (!res.ok) throw new FabricksError('REGISTRY_UNREACHABLE', `${from} answered ${res.status}`, { hint: `set FABRICKS_OPENSSL_SOURCE to a copy of ${name}` });
    bytes = new Uint8Array(await res.arrayBuffer());
  }
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== OPENSSL.crateSha256) throw new FabricksError('DIGEST_MISMATCH', `${from} does not have the pinned sha256 of ${name} (${OPENSSL.crateSha256}; got ${got})`);
  const path = join(into, name);
  await writeFile(path, bytes);
  return path;
}
