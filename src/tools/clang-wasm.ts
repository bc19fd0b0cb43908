import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { FabricksError } from '../util/errors.js';
import { ensureTool, runTool } from './run-tool.js';
import { hostPython } from './pip.js';

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
  /** Integer and float helpers (128-bit arithmetic, long double) a module may call; linked into it. */
  builtins: '/usr/lib/llvm-22/lib/clang/22/lib/wasi/libclang_rt.builtins-wasm32.a',
  cpythonVersion: '3.14.0',
  /** Recorded in cache keys: the Debian package versions, the headers, and the flags' revision. */
  id: 'clang-22, libc++-22-dev-wasm32 1:22.1.8-1~deb12u1; wasi-libc 0.0~git20220510.9886d3d-2; cpython 3.14.0; flags 4',
} as const;

const toolsDir = () => process.env.FABRICKS_TOOLS_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fabricks-tools');

/** Where install-c-toolchain puts CPython's headers (Python.h, pyconfig.h for wasm32-wasi). */
export const pythonInclude = (pythonVersion: string) => join(toolsDir(), `cpython-${C_TOOLCHAIN.cpythonVersion}-wasm32-wasi`, 'include', `python${pythonVersion}`);

const INSTALL_HINT =
  'install the pinned toolchain: npm run setup (or scripts/install-c-toolchain), which runs apt-get install clang-22 lld-22 libclang-rt-22-dev-wasm32 libc++-22-dev-wasm32 libc++abi-22-dev-wasm32 wasi-libc on Debian 12, and makes CPython 3.14.0\'s headers for wasm32-wasi from its source, which go mod download fetches through the Go module proxy (or FABRICKS_CPYTHON_SOURCE names)';

/** The toolchain is there; else TOOL_MISSING saying how to install it. */
export async function ensureCToolchain(pythonVersion: string): Promise<void> {
  await ensureTool('clang-22', join(C_TOOLCHAIN.llvmBin, 'clang'), INSTALL_HINT);
  await ensureTool('wasm-ld (lld-22)', join(C_TOOLCHAIN.llvmBin, 'wasm-ld'), INSTALL_HINT);
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
  const compile = [target, '-nostdlibinc', `-isystem ${C_TOOLCHAIN.libcInclude}`, ...probeLink];
  // C++: libc++'s headers before libc's; no exceptions, as the libc++ the runtime links (wasi-sdk's noeh build)
  const compileCxx = [target, '-nostdlibinc', '-nostdinc++', `-isystem ${C_TOOLCHAIN.libcxxInclude}`, `-isystem ${C_TOOLCHAIN.libcInclude}`, '-fno-exceptions', ...probeLink];
  const link = [target, '-shared', '-nostdlib', '-fuse-ld=lld', '-Wl,--experimental-pic', '-Wl,--no-entry', '-Wl,--unresolved-symbols=import-dynamic', `-L${stubLibs}`];
  const env: NodeJS.ProcessEnv = {
    ...base,
    CC: `${clang} ${compile.join(' ')}`,
    CXX: `${clang}++ ${compileCxx.join(' ')}`,
    // distutils appends CFLAGS to the compile and the link lines alike
    // the casts that trap under WebAssembly are reported (runtimes/python/native-casts.ts)
    CFLAGS: ['-fPIC', '-fvisibility=hidden', `-I${pythonInclude(pythonVersion)}`, '-Wcast-function-type-mismatch'].join(' '),
    LDSHARED: `${clang} ${link.join(' ')}`,
    LDCXXSHARED: `${clang}++ ${link.join(' ')}`,
    LDFLAGS: C_TOOLCHAIN.builtins,
    AR: join(C_TOOLCHAIN.llvmBin, 'llvm-ar'),
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

/** The system libraries a setup.py names (-lm, -lstdc++, ...), whose symbols the runtime's own libc.so and libc++.so hold. */
export const STUB_LIBRARIES = ['m', 'dl', 'pthread', 'rt', 'util', 'stdc++', 'c++', 'c++abi'];

/** Empty archives for them: the linker finds the library, and the symbols stay dynamic imports. */
async function writeStubLibs(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const lib of STUB_LIBRARIES) await writeFile(join(dir, `lib${lib}.a`), '!<arch>\n');
}
