import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { classifySdist, crossWheelEntries, wheelEntries, type WheelEntry } from '../../src/runtimes/python/native-wheel.js';
import { compilerLines } from '../../src/runtimes/python/native.js';
import { crossCompileEnv, pythonInclude } from '../../src/tools/clang-wasm.js';
import { packageRoot } from '../../src/util/paths.js';

/** An extracted sdist in a temporary folder. */
async function sdist(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'fabricks-sdist-'));
  for (const [p, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), text);
  }
  return root;
}

const maturin = (tool = '') => `[build-system]\nrequires = ["maturin>=1.9"]\nbuild-backend = "maturin"\n\n[project]\nname = "x"\n${tool}`;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('native extensions: reading an sdist as maturin would', () => {
  it('a Rust-only PyO3 crate (rpds-py): the module is the library, the package __init__ re-exports it', async () => {
    const root = await sdist({
      'pyproject.toml': maturin('\n[tool.maturin]\nfeatures = ["pyo3/extension-module"]\n'),
      'Cargo.toml': '[package]\nname = "rpds-py"\nversion = "1"\n\n[lib]\nname = "rpds"\ncrate-type = ["cdylib"]\n',
      'PKG-INFO': 'Metadata-Version: 2.4\nName: rpds-py\nVersion: 1\n',
    });
    const kind = await classifySdist(root);
    expect(kind).toMatchObject({ kind: 'pyo3', libName: 'rpds', module: 'rpds', features: ['pyo3/extension-module'], crateDir: root });
    if (kind.kind !== 'pyo3') throw new Error('unreachable');
    const entries = new Map(await wheelEntries(root, kind, new Uint8Array([0, 97, 115, 109]), { name: 'rpds-py', version: '1', pythonVersion: '3.14' }));
    expect([...entries.keys()]).toEqual([
      'rpds/__init__.py',
      'rpds/rpds.cpython-314-wasm32-wasi.so',
      'rpds_py-1.dist-info/METADATA',
      'rpds_py-1.dist-info/RECORD',
      'rpds_py-1.dist-info/WHEEL',
    ]);
    expect(text(entries.get('rpds/__init__.py')!)).toContain('from .rpds import *');
    expect(text(entries.get('rpds_py-1.dist-info/WHEEL')!)).toContain('Tag: cp314-cp314-wasi_0_0_0_wasm32');
    expect(text(entries.get('rpds_py-1.dist-info/RECORD')!)).toMatch(/^rpds\/rpds\.cpython-314-wasm32-wasi\.so,sha256=[\w-]+,4$/m);
  });

  it('a mixed project (pydantic-core): python-source and a dotted module name; type stubs are left out', async () => {
    const root = await sdist({
      'pyproject.toml': maturin('\n[tool.maturin]\npython-source = "python"\nmodule-name = "pydantic_core._pydantic_core"\nbindings = "pyo3"\n'),
      'Cargo.toml': '[package]\nname = "pydantic-core"\nversion = "2"\n\n[lib]\nname = "_pydantic_core"\n',
      'python/pydantic_core/__init__.py': 'from ._pydantic_core import *\n',
      'python/pydantic_core/core_schema.py': 'X = 1\n',
      'python/pydantic_core/_pydantic_core/__init__.pyi': '',
      'python/pydantic_core/__pycache__/core_schema.cpython-314.pyc': '',
    });
    const kind = await classifySdist(root);
    expect(kind).toMatchObject({ kind: 'pyo3', libName: '_pydantic_core', module: 'pydantic_core._pydantic_core', pythonSource: 'python' });
    if (kind.kind !== 'pyo3') throw new Error('unreachable');
    const paths = (await wheelEntries(root, kind, new Uint8Array(1), { name: 'pydantic_core', version: '2', pythonVersion: '3.14' })).map(([p]) => p);
    expect(paths.filter((p) => !p.includes('.dist-info/'))).toEqual(['pydantic_core/__init__.py', 'pydantic_core/_pydantic_core.cpython-314-wasm32-wasi.so', 'pydantic_core/core_schema.py']);
  });

  it('a workspace crate named by manifest-path is built from its folder', async () => {
    const root = await sdist({
      'pyproject.toml': maturin('\n[tool.maturin]\nmanifest-path = "crates/py/Cargo.toml"\n'),
      'crates/py/Cargo.toml': '[package]\nname = "jiter-python"\nversion = "1"\n\n[lib]\nname = "jiter"\n',
    });
    expect(await classifySdist(root)).toMatchObject({ kind: 'pyo3', crateDir: join(root, 'crates', 'py'), libName: 'jiter', module: 'jiter' });
  });

  it('takes setuptools builds (setup.py, setuptools.build_meta, an in-tree backend) as C extensions to cross-compile', async () => {
    const setuptools = await sdist({ 'pyproject.toml': '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n', 'setup.py': '' });
    expect(await classifySdist(setuptools)).toEqual({ kind: 'setuptools', backend: 'setuptools.build_meta' });
    const legacy = await sdist({ 'pyproject.toml': '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta:__legacy__"\n' });
    expect(await classifySdist(legacy)).toEqual({ kind: 'setuptools', backend: 'setuptools.build_meta:__legacy__' });
    const setupPy = await sdist({ 'setup.py': 'from setuptools import setup\n' });
    expect(await classifySdist(setupPy)).toEqual({ kind: 'setuptools', backend: 'setup.py' });
    // frozenlist, multidict, yarl: a backend in the sdist that wraps setuptools (and Cython)
    const inTree = await sdist({ 'pyproject.toml': '[build-system]\nrequires = ["setuptools", "Cython"]\nbuild-backend = "pep517_backend.hooks"\nbackend-path = ["packaging"]\n' });
    expect(await classifySdist(inTree)).toEqual({ kind: 'setuptools', backend: 'pep517_backend.hooks' });
  });

  it('says why it cannot build the rest: other build systems, other bindings, no crate', async () => {
    const meson = await sdist({ 'pyproject.toml': '[build-system]\nrequires = ["meson-python"]\nbuild-backend = "mesonpy"\n' });
    expect(await classifySdist(meson)).toEqual({ kind: 'unsupported', reason: 'build-system', why: 'its build backend is mesonpy; fabricks builds C extensions with setuptools and Rust extensions with maturin (PyO3)' });
    const nothing = await sdist({ 'pyproject.toml': '[project]\nname = "x"\n' });
    expect(await classifySdist(nothing)).toEqual({ kind: 'unsupported', reason: 'sdist-unusable', why: expect.stringContaining('neither a build backend in pyproject.toml nor a setup.py') });
    const bin = await sdist({ 'pyproject.toml': maturin('\n[tool.maturin]\nbindings = "bin"\n'), 'Cargo.toml': '[package]\nname = "tool"\n' });
    expect(await classifySdist(bin)).toEqual({ kind: 'unsupported', reason: 'build-system', why: expect.stringContaining('maturin with bin bindings') });
    const noCrate = await sdist({ 'pyproject.toml': maturin() });
    expect(await classifySdist(noCrate)).toEqual({ kind: 'unsupported', reason: 'sdist-unusable', why: expect.stringContaining('no readable Cargo.toml') });
  });
});

describe('native extensions: a wheel setuptools built here, for the runtime', () => {
  const bytes = (t: string) => new TextEncoder().encode(t);
  it('renames the build machine\'s extension suffixes for CPython 3.14 on wasm32-wasi, keeps the rest, and writes its own WHEEL and RECORD', () => {
    const host: WheelEntry[] = [
      ['markupsafe/__init__.py', bytes('x')],
      ['markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so', bytes('\0asm')],
      ['markupsafe/_speedups.c', bytes('c')],
      ['yaml/_yaml.abi3.so', bytes('\0asm')],
      ['top.so', bytes('\0asm')],
      ['MarkupSafe-3.0.3.dist-info/METADATA', bytes('Metadata-Version: 2.4\nName: MarkupSafe\n')],
      ['MarkupSafe-3.0.3.dist-info/licenses/LICENSE.txt', bytes('BSD')],
      ['MarkupSafe-3.0.3.dist-info/WHEEL', bytes('Tag: cp311-cp311-linux_x86_64\n')],
      ['MarkupSafe-3.0.3.dist-info/RECORD', bytes('')],
    ];
    const { entries, extensions } = crossWheelEntries(host, { name: 'MarkupSafe', version: '3.0.3', pythonVersion: '3.14' });
    const files = new Map(entries);
    expect([...files.keys()]).toEqual([
      'MarkupSafe-3.0.3.dist-info/METADATA',
      'MarkupSafe-3.0.3.dist-info/RECORD',
      'MarkupSafe-3.0.3.dist-info/WHEEL',
      'MarkupSafe-3.0.3.dist-info/licenses/LICENSE.txt',
      'markupsafe/__init__.py',
      'markupsafe/_speedups.c',
      'markupsafe/_speedups.cpython-314-wasm32-wasi.so',
      'top.cpython-314-wasm32-wasi.so',
      'yaml/_yaml.cpython-314-wasm32-wasi.so',
    ]);
    expect(extensions.map(([p]) => p)).toEqual(['markupsafe/_speedups.cpython-314-wasm32-wasi.so', 'yaml/_yaml.cpython-314-wasm32-wasi.so', 'top.cpython-314-wasm32-wasi.so']);
    expect(text(files.get('MarkupSafe-3.0.3.dist-info/WHEEL')!)).toContain('Tag: cp314-cp314-wasi_0_0_0_wasm32');
    const record = text(files.get('MarkupSafe-3.0.3.dist-info/RECORD')!);
    expect(record).toMatch(/^markupsafe\/_speedups\.cpython-314-wasm32-wasi\.so,sha256=[\w-]+,4$/m);
    expect(record).not.toContain('x86_64');
  });

  it('a build that fell back to pure Python (PyYAML without libyaml) gives a wheel without extensions', () => {
    const { entries, extensions } = crossWheelEntries([['yaml/__init__.py', bytes('')], ['PyYAML-6.0.3.dist-info/METADATA', bytes('')]], { name: 'PyYAML', version: '6.0.3', pythonVersion: '3.14' });
    expect(extensions).toEqual([]);
    expect(entries.map(([p]) => p)).toContain('PyYAML-6.0.3.dist-info/WHEEL');
  });
});

describe('native extensions: the compiler for wasm32-wasi', () => {
  it('setuptools gets clang aimed at wasm32-wasip1 with only wasi-libc\'s, fabricks\' and CPython 3.14\'s headers, and wasm-ld making a PIC shared object with dynamic imports', () => {
    const env = crossCompileEnv('3.14', '/stubs', { PATH: '/usr/bin', CPPFLAGS: '-I/usr/include', HOME: '/h' });
    const ours = join(packageRoot, 'build-tools', 'wasi-include');
    expect(env.CC).toBe(`/usr/lib/llvm-22/bin/clang --target=wasm32-wasip1 -nostdlibinc -isystem /usr/include/wasm32-wasi -isystem ${ours} -B/usr/lib/wasm32-wasi -L/usr/lib/wasm32-wasi`);
    expect(env.CFLAGS).toBe(
      `-fPIC -fvisibility=hidden -I${pythonInclude('3.14')} -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS -include ${ours}/fabricks-wasi.h -Wcast-function-type-mismatch`,
    );
    expect(env.CFLAGS).toMatch(/-I\/.*\/cpython-3\.14\.0-wasm32-wasi\/include\/python3\.14 /);
    expect(env.LDSHARED).toBe('/usr/lib/llvm-22/bin/clang --target=wasm32-wasip1 -shared -nostdlib -fuse-ld=lld -Wl,--experimental-pic -Wl,--no-entry -Wl,--unresolved-symbols=import-dynamic -L/stubs');
    expect(env.CXX).toBe(`/usr/lib/llvm-22/bin/clang++ --target=wasm32-wasip1 -nostdlibinc -nostdinc++ -isystem /usr/lib/llvm-22/include/wasm32-wasi/c++/v1 -isystem /usr/include/wasm32-wasi -isystem ${ours} -fno-exceptions -B/usr/lib/wasm32-wasi -L/usr/lib/wasm32-wasi`);
    // the compiler runtime, and fabricks' compat archive (dup() failing with ENOTSUP)
    expect(env.LDFLAGS).toBe('/usr/lib/llvm-22/lib/clang/22/lib/wasi/libclang_rt.builtins-wasm32.a /stubs/libfabricks-wasi.a');
    expect(env.AR).toBe('/usr/lib/llvm-22/bin/llvm-ar');
    // the host's flags would bring its own headers
    expect(env.CPPFLAGS).toBeUndefined();
    expect(env.HOME).toBe('/h');
  });

  it('picks the compiler\'s own error out of pip\'s log, after the probes that fail on purpose', () => {
    const log = [
      '2026-12-06T01:33:36,329   wasm-ld-22: error: cannot open crt1.o: No such file or directory',
      '2026-12-06T01:33:37,857   src/c/_cffi_backend.c:13:10: fatal error: \'dlfcn.h\' file not found',
      '2026-12-06T01:33:37,978   1 error generated.',
      "2026-12-06T01:33:37,989   error: Command '['/usr/lib/llvm-22/bin/clang', '-c']' failed with exit code 1",
      '2026-12-06T01:33:38,049   ERROR: Failed building wheel for cffi',
    ].join('\n');
    expect(compilerLines(log)).toEqual(["src/c/_cffi_backend.c:13:10: fatal error: 'dlfcn.h' file not found"]);
    expect(compilerLines('a\nwasm-ld-22: error: undefined symbol: foo\nb\n')).toEqual(['wasm-ld-22: error: undefined symbol: foo']);
    expect(compilerLines('one\ntwo\n')).toEqual(['one', 'two']);
  });
});
