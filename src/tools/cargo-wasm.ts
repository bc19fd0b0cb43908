import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { ensureTool, runTool } from './run-tool.js';

/**
 * The pinned toolchain that builds Rust (PyO3) extensions for wasm32-wasip1: Debian's rustc-web
 * and cargo-web with rust-web-src (the standard library's sources, for -Zbuild-std) and LLVM 22's
 * wasm-ld. scripts/install-tools installs exactly these; the build uses unstable flags, so a
 * newer compiler is a new toolchain (and a new cache key), not a drop-in.
 */
export const NATIVE_TOOLCHAIN = {
  rustc: '/usr/bin/rustc',
  cargo: '/usr/bin/cargo',
  llvmBin: '/usr/lib/llvm-22/bin',
  /** What `rustc --version` must say. */
  rustcVersion: 'rustc 1.96.0',
  /** Recorded in cache keys: the Debian package versions. */
  id: 'rustc-web 1.96.0+dfsg1-1~deb12u2; lld-22 1:22.1.8-1~deb12u1; flags 1',
} as const;

const INSTALL_HINT =
  'install the pinned toolchain: npm run setup (or scripts/install-tools), which runs apt-get install rustc-web cargo-web rust-web-src lld-22 on Debian 12';

/** The toolchain is there, at its pinned version; else TOOL_MISSING saying how to install it. */
export async function ensureNativeToolchain(): Promise<void> {
  await ensureTool('rustc-web', NATIVE_TOOLCHAIN.rustc, INSTALL_HINT);
  await ensureTool('cargo-web', NATIVE_TOOLCHAIN.cargo, INSTALL_HINT);
  await ensureTool('wasm-ld (lld-22)', join(NATIVE_TOOLCHAIN.llvmBin, 'wasm-ld'), INSTALL_HINT);
  const { stdout } = await runTool('rustc', NATIVE_TOOLCHAIN.rustc, ['--version']);
  if (!stdout.startsWith(`${NATIVE_TOOLCHAIN.rustcVersion} `)) {
    throw new FabricksError('TOOL_MISSING', `${NATIVE_TOOLCHAIN.rustc} is ${stdout.trim()}, not the pinned ${NATIVE_TOOLCHAIN.rustcVersion}`, { hint: INSTALL_HINT });
  }
}

export interface CargoWasmBuild {
  /** The folder holding the crate's Cargo.toml. */
  crateDir: string;
  /** Cargo's target folder (shared between builds: the standard library is built once there). */
  targetDir: string;
  /** Where the PyO3 config file and the empty libc.a go. */
  configDir: string;
  /** CPython version the extension is for, e.g. 3.14. */
  pythonVersion: string;
  /** Cargo features ([tool.maturin] features). */
  features: string[];
  /** More environment for cargo and the crates' build scripts (a C library's location, a compiler for their C code). */
  env?: NodeJS.ProcessEnv;
  /** Archives to link into the extension besides the crates' own (fabricks' WASI compat archive). */
  linkArchives?: string[];
  signal?: AbortSignal | undefined;
}

/**
 * `cargo build --release --target wasm32-wasip1 -Zbuild-std` of a PyO3 crate as a
 * position-independent shared library that componentize-py links into the runtime: undefined
 * symbols (libc, libpython) stay dynamic imports that componentize-py's own libc and libpython
 * resolve, and only PyInit_* is exported (hidden visibility: a trivial module is 130 KB, not
 * 1.17 MB). Runs niced: a build machine is often shared. Returns cargo's stderr (its log).
 */
export async function cargoBuildWasm(b: CargoWasmBuild): Promise<string> {
  await mkdir(b.configDir, { recursive: true });
  const pyo3Config = join(b.configDir, 'pyo3-config.txt');
  await writeFile(
    pyo3Config,
    [
      'implementation=CPython',
      `version=${b.pythonVersion}`,
      'shared=false',
      'abi3=false',
      `lib_name=python${b.pythonVersion}`,
      'pointer_width=32',
      // componentize-py links libpython; the crate's build script must not ask for it
      'suppress_build_script_link_lines=true',
      '',
    ].join('\n'),
  );
  // std links -lc; the real libc is componentize-py's, so an empty archive satisfies the linker
  await writeFile(join(b.configDir, 'libc.a'), '!<arch>\n');
  const rustflags = [
    '-C relocation-model=pic',
    '-C link-self-contained=no',
    '-C linker=wasm-ld',
    '-C link-arg=--experimental-pic',
    '-C link-arg=--shared',
    '-C link-arg=--unresolved-symbols=import-dynamic',
    `-L ${b.configDir}`,
    '-Z default-visibility=hidden',
    ...(b.linkArchives ?? []).map((a) => `-C link-arg=${a}`),
  ].join(' ');
  const env = cargoEnv({
    ...b.env,
    // -Zbuild-std and -Z default-visibility on a stable compiler
    RUSTC_BOOTSTRAP: '1',
    RUSTFLAGS: rustflags,
    PYO3_CONFIG_FILE: pyo3Config,
    CARGO_TARGET_DIR: b.targetDir,
  });
  const args = ['-n', '10', NATIVE_TOOLCHAIN.cargo, 'build', '--release', '--lib', '--target', 'wasm32-wasip1', '-Zbuild-std=std,panic_abort'];
  if (b.features.length) args.push('--features', b.features.join(','));
  const run = await runTool('cargo (wasm32-wasip1)', 'nice', args, { cwd: b.crateDir, env, signal: b.signal });
  return run.stderr;
}

/** Where cargo leaves a crate's library: <target>/wasm32-wasip1/release/<lib name>.wasm. */
export const cargoOutput = (targetDir: string, libName: string) => join(targetDir, 'wasm32-wasip1', 'release', `${libName.replaceAll('-', '_')}.wasm`);

/**
 * `cargo fetch` of a crate's dependencies for wasm32-wasip1, as its Cargo.lock pins them: a crate
 * the registry does not serve fails here, in seconds, before the slow parts of a build (C
 * libraries, the build scripts' Python) are set up; what it downloads the build uses.
 */
export async function cargoFetchWasm(crateDir: string, signal?: AbortSignal): Promise<void> {
  await runTool('cargo fetch (wasm32-wasip1)', NATIVE_TOOLCHAIN.cargo, ['fetch', '--target', 'wasm32-wasip1'], { cwd: crateDir, env: cargoEnv({}), ...(signal ? { signal } : {}) });
}

/** The environment cargo runs in: the pinned toolchain first on PATH, quiet output, and `extra`. */
function cargoEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extra,
    // rustup's compiler may come first on PATH and has no std sources for this target
    PATH: `${NATIVE_TOOLCHAIN.llvmBin}:/usr/bin:${process.env.PATH ?? ''}`,
    RUSTC: NATIVE_TOOLCHAIN.rustc,
    CARGO: NATIVE_TOOLCHAIN.cargo,
    CARGO_TERM_COLOR: 'never',
    CARGO_TERM_PROGRESS_WHEN: 'never',
  };
  delete env.RUSTUP_TOOLCHAIN;
  delete env.CARGO_BUILD_TARGET;
  return env;
}
