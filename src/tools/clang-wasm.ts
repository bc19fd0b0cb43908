import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { homedir } from 'node:os';
import { FabricksError } from '../util/errors.js';
import { ensureTool, runTool } from './run-tool.js';
import { hostPython } from './pip.js';
import { packageRoot } from '../util/paths.js';

/**
 * The pinned toolchain that builds C extensions for wasm32-wasi: Debian's clang-22 and wasm-ld
 * (lld-22) with the wasm32 compiler runtime, wasi-libc's headers, and CPython 3.14.0's headers
 * with the pyconfig.h CPython's configure writes for the wasm32-wasi host (scripts/install-c-toolchain
 * installs exactly these, the headers from a copy of CPython's source it is given).
 * componentize-py 0.25.1 embeds CPython 3.14.0.
 */
export const C_TOOLCHAIN = {
  llvmBin: '/usr/lib/llvm-22/bin',
  /** wasi-libc's headers (Debian's wasi-libc: the wasip1 C ABI, which componentize-py's wasip2 libc keeps). */
  libcInclude: '/usr/include/wasm32-wasi',
  libcLib: '/usr/lib/wasm32-wasi',
  /** libc++'s headers (Debian's libc++-22-dev-wasm32; C++ modules import libc++ from the runtime's own libc++.so). */
  libcxxInclude: '/usr/lib/llvm-22/include/wasm32-wasi/c++/v1',
  /** llvm-ar (llvm-22): archives of WebAssembly objects with the symbol index wasm-ld needs (GNU ar cannot read them). */
  ar: '/usr/lib/llvm-22/bin/llvm-ar',
  /** Integer and float helpers (128-bit arithmetic, long double) a module may call; linked into it. */
  builtins: '/usr/lib/llvm-22/lib/clang/22/lib/wasi/libclang_rt.builtins-wasm32.a',
  cpythonVersion: '3.14.0',
  /** Recorded in cache keys: the Debian package versions, the headers, and the flags' revision. */
  id: 'clang-22, llvm-22, libc++-22-dev-wasm32 1:22.1.8-1~deb12u1; wasi-libc 0.0~git20220510.9886d3d-2; cpython 3.14.0; flags 5',
} as const;

/**
 * fabricks' own headers for what the 2022 wasi-libc lacks and the runtime has or can do without
 * (build-tools/wasi-include): dlfcn.h (the runtime's libc has dlopen), and an ffi.h that lays out
 * libffi's types but refuses calls and closures (WebAssembly cannot make them at run time).
 * Searched after wasi-libc's own headers.
 */
export const compatInclude = join(packageRoot, 'build-tools', 'wasi-include');

/**
 * What fabricks' own headers and compat code say, as part of the toolchain's identity: a change to
 * them is a new cache key for every built wheel (they may have compiled differently).
 */
export const compatId = (() => {
  const hash = createHash('sha256');
  const files = [...readdirSync(compatInclude).sort().map((f) => join(compatInclude, f)), join(packageRoot, 'build-tools', 'wasi-compat.c')];
  for (const f of files) hash.update(f.slice(packageRoot.length)).update(readFileSync(f));
  return hash.digest('hex').slice(0, 12);
})();

/**
 * The WASI emulations the runtime links (componentize-py's libwasi-emulated-*.so): wasi-libc's
 * headers declare signal(), mmap(), getpid() and clock()/times() only when asked to.
 */
export const WASI_EMULATIONS = ['-D_WASI_EMULATED_SIGNAL', '-D_WASI_EMULATED_MMAN', '-D_WASI_EMULATED_GETPID', '-D_WASI_EMULATED_PROCESS_CLOCKS'];

const toolsDir = () => process.env.FABRICKS_TOOLS_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fabricks-tools');

/** Where install-c-toolchain puts CPython's headers (Python.h, pyconfig.h for wasm32-wasi). */
export const pythonInclude = (pythonVersion: string) => join(toolsDir(), `cpython-${C_TOOLCHAIN.cpythonVersion}-wasm32-wasi`, 'include', `python${pythonVersion}`);

const INSTALL_HINT =
  'install the pinned toolchain: npm run setup (or scripts/install-c-toolchain), which runs apt-get install clang-22 lld-22 llvm-22 libclang-rt-22-dev-wasm32 libc++-22-dev-wasm32 libc++abi-22-dev-wasm32 wasi-libc on Debian 12, and makes CPython 3.14.0\'s headers for wasm32-wasi from its source, which go mod download fetches through the Go module proxy (or FABRICKS_CPYTHON_SOURCE names)';

/** The toolchain is there; else TOOL_MISSING saying how to install it. */
export async function ensureCToolchain(pythonVersion: string): Promise<void> {
  await ensureTool('clang-22', join(C_TOOLCHAIN.llvmBin, 'clang'), INSTALL_HINT);
  await ensureTool('wasm-ld (lld-22)', join(C_TOOLCHAIN.llvmBin, 'wasm-ld'), INSTALL_HINT);
  await ensureTool('llvm-ar (llvm-22)', C_TOOLCHAIN.ar, INSTALL_HINT);
  await ensureTool('wasm32 compiler runtime (libclang-rt-22-dev-wasm32)', C_TOOLCHAIN.builtins, INSTALL_HINT);
  await ensureTool('wasi-libc', join(C_TOOLCHAIN.libcInclude, 'stdlib.h'), INSTALL_HINT);
  await ensureTool('libc++ for wasm32 (libc++-22-dev-wasm32)', join(C_TOOLCHAIN.libcxxInclude, '__config_site'), INSTALL_HINT);
  await ensureTool(`CPython ${C_TOOLCHAIN.cpythonVersion}'s headers for wasm32-wasi`, join(pythonInclude(pythonVersion), 'pyconfig.h'), INSTALL_HINT);
}

/**
 * The environment that makes setuptools (distutils' customize_compiler reads CC, CFLAGS, LDSHARED
 * and LDFLAGS) compile for wasm32-wasip1 instead of the build machine: only wasi-libc's and
 * CPython 3.14's headers are searched (never the host's /usr/include), code is
 * position-independent with hidden visibility (only PyInit_* is exported), and the module is
 * linked by wasm-ld as a shared object whose undefined symbols stay dynamic imports, which
 * componentize-py's libc and libpython resolve, as for Rust extensions (cargo-wasm.ts).
 */
export function crossCompileEnv(pythonVersion: string, stubLibs: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clang = join(C_TOOLCHAIN.llvmBin, 'clang');
  const target = '--target=wasm32-wasip1';
  // a setup.py that probes for a function links a test program: against Debian's wasi-libc (static,
  // for the probe only; the module itself links nothing and imports libc from the runtime)
  const probeLink = [`-B${C_TOOLCHAIN.libcLib}`, `-L${C_TOOLCHAIN.libcLib}`];
  const compile = [target, '-nostdlibinc', `-isystem ${C_TOOLCHAIN.libcInclude}`, `-isystem ${compatInclude}`, ...probeLink];
  // C++: libc++'s headers before libc's; no exceptions, as the libc++ the runtime links (wasi-sdk's noeh build)
  const compileCxx = [target, '-nostdlibinc', '-nostdinc++', `-isystem ${C_TOOLCHAIN.libcxxInclude}`, `-isystem ${C_TOOLCHAIN.libcInclude}`, `-isystem ${compatInclude}`, '-fno-exceptions', ...probeLink];
  const link = [target, '-shared', '-nostdlib', '-fuse-ld=lld', '-Wl,--experimental-pic', '-Wl,--no-entry', '-Wl,--unresolved-symbols=import-dynamic', `-L${stubLibs}`];
  const env: NodeJS.ProcessEnv = {
    ...base,
    CC: `${clang} ${compile.join(' ')}`,
    CXX: `${clang}++ ${compileCxx.join(' ')}`,
    // distutils appends CFLAGS to the compile and the link lines alike
    // the casts that trap under WebAssembly are reported (runtimes/python/native-casts.ts)
    CFLAGS: ['-fPIC', '-fvisibility=hidden', `-I${pythonInclude(pythonVersion)}`, ...WASI_EMULATIONS, `-include ${join(compatInclude, 'fabricks-wasi.h')}`, '-Wcast-function-type-mismatch'].join(' '),
    LDSHARED: `${clang} ${link.join(' ')}`,
    LDCXXSHARED: `${clang}++ ${link.join(' ')}`,
    LDFLAGS: `${C_TOOLCHAIN.builtins} ${join(stubLibs, COMPAT_LIBRARY)}`,
    AR: C_TOOLCHAIN.ar,
    PATH: `${C_TOOLCHAIN.llvmBin}:${base.PATH ?? ''}`,
    // a build that asks pkg-config for a C library must not be given the host's
    PKG_CONFIG_LIBDIR: '/nonexistent',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  for (const v of ['CPPFLAGS', 'CXXFLAGS', 'LDLIBS', 'ARCHFLAGS', '_PYTHON_HOST_PLATFORM', 'SETUPTOOLS_EXT_SUFFIX']) delete env[v];
  return env;
}

/**
 * The environment that makes a Rust crate's build script compile its C code (the `cc` crate) for
 * wasm32-wasip1 as C extensions are compiled: clang with wasi-libc's, fabricks' and CPython 3.14's
 * headers, position-independent with hidden symbols. The archives it makes are linked into the
 * extension, with the compat archive (`compatArchive`) for what fabricks-wasi.h declares.
 * PYO3_CROSS_LIB_DIR says where the target's CPython is, for build scripts that derive its headers'
 * folder from it (include/python3.14 beside lib/python3.14) rather than ask the build machine's Python.
 */
export async function cargoCEnv(pythonVersion: string, scratch: string): Promise<{ env: NodeJS.ProcessEnv; compatArchive: string }> {
  const compatArchive = await buildCompatLibrary(await mkdir(scratch, { recursive: true }).then(() => scratch));
  const cflags = ['-nostdlibinc', `-isystem ${C_TOOLCHAIN.libcInclude}`, `-isystem ${compatInclude}`, `-I${pythonInclude(pythonVersion)}`, '-fPIC', '-fvisibility=hidden', ...WASI_EMULATIONS, `-include ${join(compatInclude, 'fabricks-wasi.h')}`];
  const env: NodeJS.ProcessEnv = {
    CC_wasm32_wasip1: join(C_TOOLCHAIN.llvmBin, 'clang'),
    CFLAGS_wasm32_wasip1: cflags.join(' '),
    AR_wasm32_wasip1: C_TOOLCHAIN.ar,
    PYO3_CROSS_LIB_DIR: join(dirname(dirname(pythonInclude(pythonVersion))), 'lib', `python${pythonVersion}`),
  };
  return { env, compatArchive };
}

/**
 * Builds a wheel from an sdist with its own build backend (PEP 517, through pip, in an isolated
 * environment with the build requirements it names), compiled for wasm32-wasi. The wheel carries
 * the build machine's tags and extension suffix; native-wheel.ts renames them. pip's verbose log,
 * the compiler's lines included, goes to `log` whether the build works or not. Runs niced.
 */
export async function pipWheelWasm(b: { sdist: string; outDir: string; log: string; scratch: string; pythonVersion: string; signal?: AbortSignal | undefined }): Promise<void> {
  const stubLibs = join(b.scratch, 'stub-libs');
  await writeStubLibs(stubLibs);
  // the wheel is for the runtime's CPython, not the one running pip: its Requires-Python is the runtime's to meet
  const args = ['-n', '10', hostPython(), '-m', 'pip', 'wheel', '--no-deps', '--no-cache-dir', '--ignore-requires-python', '--quiet', '--log', b.log, '--wheel-dir', b.outDir, b.sdist];
  await runTool('pip wheel (wasm32-wasi)', 'nice', args, { env: crossCompileEnv(b.pythonVersion, stubLibs), signal: b.signal });
}

/**
 * The system libraries a setup.py names (-lm, -lstdc++, ...), whose symbols the runtime's own
 * libc.so, libdl.so and libc++.so hold; and libffi, whose part that can work in WebAssembly is
 * header-only (build-tools/wasi-include/ffi.h).
 */
export const STUB_LIBRARIES = ['m', 'dl', 'pthread', 'rt', 'util', 'stdc++', 'c++', 'c++abi', 'ffi'];

/** build-tools/wasi-compat.c: what fabricks-wasi.h declares, linked into each module. */
const COMPAT_SOURCE = join(packageRoot, 'build-tools', 'wasi-compat.c');
const COMPAT_LIBRARY = 'libfabricks-wasi.a';

/** Empty archives for them: the linker finds the library, and the symbols stay dynamic imports; and the compat archive. */
async function writeStubLibs(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const lib of STUB_LIBRARIES) await writeFile(join(dir, `lib${lib}.a`), '!<arch>\n');
  await buildCompatLibrary(dir);
}

/** Compiles build-tools/wasi-compat.c into `dir`/libfabricks-wasi.a (a few milliseconds). */
export async function buildCompatLibrary(dir: string): Promise<string> {
  const object = join(dir, 'wasi-compat.o');
  const clang = join(C_TOOLCHAIN.llvmBin, 'clang');
  await runTool('clang (wasm32-wasi)', clang, ['--target=wasm32-wasip1', '-nostdlibinc', '-isystem', C_TOOLCHAIN.libcInclude, '-fPIC', '-fvisibility=hidden', '-O2', '-c', COMPAT_SOURCE, '-o', object]);
  const archive = join(dir, COMPAT_LIBRARY);
  await runTool('llvm-ar', C_TOOLCHAIN.ar, ['rcs', archive, object]);
  return archive;
}
