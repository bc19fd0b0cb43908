import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { classifySdist, wheelEntries } from '../../src/runtimes/python/native-wheel.js';

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

  it('says why it cannot build the rest: C extensions, other bindings, no crate', async () => {
    const setuptools = await sdist({ 'pyproject.toml': '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n' });
    expect(await classifySdist(setuptools)).toEqual({ kind: 'unsupported', why: expect.stringContaining('builds a C extension (its build backend is setuptools.build_meta)') });
    const setupPy = await sdist({ 'setup.py': 'from setuptools import setup\n' });
    expect(await classifySdist(setupPy)).toEqual({ kind: 'unsupported', why: expect.stringContaining('builds a C extension (it builds with setup.py)') });
    const bin = await sdist({ 'pyproject.toml': maturin('\n[tool.maturin]\nbindings = "bin"\n'), 'Cargo.toml': '[package]\nname = "tool"\n' });
    expect(await classifySdist(bin)).toEqual({ kind: 'unsupported', why: expect.stringContaining('maturin with bin bindings') });
    const noCrate = await sdist({ 'pyproject.toml': maturin() });
    expect(await classifySdist(noCrate)).toEqual({ kind: 'unsupported', why: expect.stringContaining('no readable Cargo.toml') });
  });
});
