import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rustBuildNeeds } from '../../src/runtimes/python/native-rust-env.js';

// What a Rust extension's build needs besides cargo, read from the sdist as cryptography's and
// pydantic-core's are laid out.
const lock = (...names: string[]) => names.map((n) => `[[package]]\nname = "${n}"\nversion = "1.0.0"\n`).join('\n');

describe('native extensions: what a Rust build needs', () => {
  it('a crate under a workspace (cryptography): the workspace\'s Cargo.lock says it links OpenSSL and compiles C; its build requirements other than maturin are for its build scripts\' Python', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fabricks-rust-env-'));
    await mkdir(join(root, 'src', 'rust'), { recursive: true });
    await writeFile(join(root, 'Cargo.lock'), lock('cc', 'openssl-sys', 'pyo3'));
    await writeFile(join(root, 'pyproject.toml'), '[build-system]\nrequires = ["maturin>=1.14.1,<2", "cffi>=2.0.0; platform_python_implementation != \'PyPy\'", "setuptools"]\nbuild-backend = "maturin"\n');
    expect(await rustBuildNeeds(root, join(root, 'src', 'rust'))).toEqual({
      compilesC: true,
      libraries: ['openssl'],
      pythonRequires: ["cffi>=2.0.0; platform_python_implementation != 'PyPy'", 'setuptools'],
    });
  });

  it('a plain PyO3 crate (pydantic-core) needs nothing more', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fabricks-rust-env-'));
    await writeFile(join(root, 'Cargo.lock'), lock('pyo3', 'serde'));
    await writeFile(join(root, 'pyproject.toml'), '[build-system]\nrequires = ["maturin>=1.9.4,<2"]\nbuild-backend = "maturin"\n');
    expect(await rustBuildNeeds(root, root)).toEqual({ compilesC: false, libraries: [], pythonRequires: [] });
  });
});
