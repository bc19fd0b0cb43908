import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, exists, fabricks, project, pyToml } from '../helpers.js';

// Python dependencies with compiled code, built from their source distributions for wasm32-wasi
// by the real toolchain (Debian's rustc-web, lld-22) and linked into the runtime by the real
// componentize-py. rpds-py is the small real PyO3 extension (about a minute to build on 2 cores,
// the standard library for the target included; cargo's compiled crates are shared by the run,
// see global-setup); pydantic-core (3 minutes or more) is left to `npm run bench:native`. C
// extensions are built by their own setuptools with Debian's clang-22 aimed at wasm32-wasip1.

type Lock = { python?: { packages: Array<{ name: string; version: string; sdist?: string; sha256: string; built?: string; wheel?: string }> } };
const lockOf = async (dir: string): Promise<Lock> => {
  const { parse } = await import('smol-toml');
  return parse(await readFile(join(dir, 'fabricks.lock'), 'utf8')) as Lock;
};

const RPDS = 'rpds-py==2026.9.1';
const rpdsMain = [
  'import importlib.metadata',
  'import rpds',
  'm = rpds.HashTrieMap({"a": 1}).insert("b", 2)',
  's = rpds.HashTrieSet([1, 2]).insert(3)',
  'print(type(m).__name__, sorted(m.items()), sorted(s), rpds.List([1, 2]).push_front(0), importlib.metadata.version("rpds-py"))',
  '',
].join('\n');
const rpdsOut = "HashTrieMap [('a', 1), ('b', 2)] [1, 2, 3] List([0, 1, 2]) 2026.9.1\n";

describe('Python dependencies with native extensions', () => {
  it(
    'builds a Rust extension from its sdist, links it into a runtime variant that runs it, pins the sdist; a second build takes it from the cache',
    async () => {
      const cache = await mkdtemp(join(tmpdir(), 'fabricks-native-'));
      const env = { FABRICKS_NATIVE_CACHE: cache };
      const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': `${RPDS}\n`, 'main.py': rpdsMain });
      const built = await fabricks(['build', dir, '--json', '--progress', 'json'], { env });
      expect(built.status, built.stderr).toBe(0);
      const progress = events(built.stderr);
      const nativeDone = progress.find((e) => e.event === 'step-done' && e.step === 'native-build');
      expect(nativeDone).toMatchObject({ subject: 'rpds-py 2026.9.1', digest: expect.stringMatching(/^sha256:/) });
      const result = JSON.parse(built.stdout) as { runtime: { ref: string; digest: string; size: number } };
      expect(result.runtime.ref).toMatch(/^fabricks\.dev\/runtimes\/python:3\.14-native-[0-9a-f]{16}$/);

      // the lock pins the base runtime and the sdist (checked by pip on download), and records the built wheel
      const lock = await lockOf(dir);
      const rpds = lock.python!.packages.find((p) => p.name === 'rpds-py')!;
      expect(rpds).toMatchObject({ version: '2026.9.1', sdist: 'rpds_py-2026.9.1.tar.gz', built: (nativeDone as { digest: string }).digest });
      expect(rpds.wheel).toBeUndefined();
      const lockText = await readFile(join(dir, 'fabricks.lock'), 'utf8');
      expect(lockText).not.toContain(result.runtime.digest);

      // the cache entry: the wheel (its digest is the lock's), with the extension for CPython 3.14 on wasm32-wasi
      const [entry] = (await readdir(cache)).filter((f) => /^[0-9a-f]{64}$/.test(f));
      const wheelFile = (await readdir(join(cache, entry!))).find((f) => f.endsWith('.whl'))!;
      expect(wheelFile).toBe('rpds_py-2026.9.1-cp314-cp314-wasi_0_0_0_wasm32.whl');
      const wheel = await readFile(join(cache, entry!, wheelFile));
      expect(`sha256:${createHash('sha256').update(wheel).digest('hex')}`).toBe(rpds.built);
      const { unzipSync } = await import('fflate');
      const files = Object.keys(unzipSync(wheel)).sort();
      expect(files).toContain('rpds/rpds.cpython-314-wasm32-wasi.so');
      expect(files).toContain('rpds_py-2026.9.1.dist-info/METADATA');

      // under the engine: the extension imports and works, and its metadata is there
      const ran = await fabricks(['run', '-q', dir], { env });
      expect(ran.status, ran.stderr).toBe(0);
      expect(ran.stdout).toBe(rpdsOut);

      // another project with the same dependency: nothing is compiled again, the runtime variant is shared
      const other = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': `${RPDS}\n`, 'main.py': `${rpdsMain}print("other")\n` });
      const again = await fabricks(['build', other, '--json', '--progress', 'json'], { env });
      expect(again.status, again.stderr).toBe(0);
      const againEvents = events(again.stderr);
      expect(againEvents.filter((e) => e.event === 'step-start' && (e.step === 'native-build' || e.step === 'runtime-build'))).toEqual([]);
      expect((JSON.parse(again.stdout) as typeof result).runtime).toEqual(result.runtime);
      const ranOther = await fabricks(['run', '-q', other], { env });
      expect(ranOther.status, ranOther.stderr).toBe(0);
      expect(ranOther.stdout).toBe(`${rpdsOut}other\n`);

      // the pinned build of the first project asks pip nothing and is answered from the build cache
      const pinned = await fabricks(['build', dir, '--json', '--progress', 'json'], { env });
      expect(pinned.status, pinned.stderr).toBe(0);
      expect(events(pinned.stderr).filter((e) => e.event === 'step-start' && e.step !== 'build')).toEqual([]);
      expect((JSON.parse(pinned.stdout) as { cached: boolean }).cached).toBe(true);
    },
    900_000,
  );

  it(
    'builds a C extension (MarkupSafe, required by Jinja2) from its sdist with setuptools and clang for wasm32-wasi; the runtime loads its speedups',
    async () => {
      const cache = await mkdtemp(join(tmpdir(), 'fabricks-native-'));
      const env = { FABRICKS_NATIVE_CACHE: cache };
      const main = [
        'import jinja2, markupsafe',
        'from markupsafe import _speedups',
        // markupsafe takes _escape_inner from _speedups when it imports, else from _native
        'print(markupsafe.escape("<a>"), markupsafe._escape_inner.__module__, _speedups.__file__)',
        'print(jinja2.Template("{{ x }}", autoescape=True).render(x="<b>"))',
        '',
      ].join('\n');
      const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'jinja2==3.1.6\nmarkupsafe==3.0.3\n', 'main.py': main });
      const built = await fabricks(['build', dir, '--json', '--progress', 'json'], { env });
      expect(built.status, built.stderr).toBe(0);
      const nativeDone = events(built.stderr).find((e) => e.event === 'step-done' && e.step === 'native-build');
      expect(nativeDone).toMatchObject({ subject: 'MarkupSafe 3.0.3', digest: expect.stringMatching(/^sha256:/) });
      // its C has no cast that traps under WebAssembly
      expect(events(built.stderr).filter((e) => e.event === 'note')).toEqual([]);
      const lock = await lockOf(dir);
      const ms = lock.python!.packages.find((p) => p.name === 'MarkupSafe')!;
      expect(ms).toMatchObject({ sdist: 'markupsafe-3.0.3.tar.gz', built: (nativeDone as { digest: string }).digest });

      // the cache entry: the wheel with the speedups for CPython 3.14 on wasm32-wasi, and none for the build machine
      const [entry] = (await readdir(cache)).filter((f) => /^[0-9a-f]{64}$/.test(f));
      const wheel = await readFile(join(cache, entry!, 'MarkupSafe-3.0.3-cp314-cp314-wasi_0_0_0_wasm32.whl'));
      const { unzipSync } = await import('fflate');
      const files = unzipSync(wheel);
      const so = files['markupsafe/_speedups.cpython-314-wasm32-wasi.so']!;
      // a WebAssembly module (magic and version 1), not a machine-code library
      expect([...so.subarray(0, 8)]).toEqual([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
      expect(Object.keys(files).filter((f) => /x86_64|linux/.test(f))).toEqual([]);
      const info = JSON.parse(await readFile(join(cache, entry!, 'build.json'), 'utf8')) as { kind: string; extension: number };
      expect(info).toMatchObject({ kind: 'setuptools', extension: so.length });

      const ran = await fabricks(['run', '-q', dir], { env });
      expect(ran.status, ran.stderr).toBe(0);
      expect(ran.stdout).toBe('&lt;a&gt; markupsafe._speedups /0/native/markupsafe/_speedups.cpython-314-wasm32-wasi.so\n&lt;b&gt;\n');
    },
    600_000,
  );

  it(
    'builds a C++ extension (ujson, with its double-conversion) that imports libc++ from the runtime',
    async () => {
      const env = { FABRICKS_NATIVE_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-native-')) };
      const main = 'import ujson\nprint(ujson.__file__, ujson.dumps({"a": [1, 2.5, 1e300]}), ujson.loads("[1.25, {\\"b\\": null}]"))\n';
      const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'ujson==5.11.0\n', 'main.py': main });
      const built = await fabricks(['build', dir], { env });
      expect(built.status, built.stderr).toBe(0);
      const ran = await fabricks(['run', '-q', dir], { env });
      expect(ran.status, ran.stderr).toBe(0);
      expect(ran.stdout).toBe(`/0/native/ujson.cpython-314-wasm32-wasi.so {"a":[1,2.5,1e+300]} [1.25, {'b': None}]\n`);
    },
    300_000,
  );

  it('a C extension whose methods are cast to a pointer type with more parameters builds, and the build says which casts trap when called', async () => {
    // xxhash's METH_NOARGS methods take one parameter; CPython calls them with two
    const env = { FABRICKS_NATIVE_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-native-')) };
    const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'xxhash==3.6.0\n', 'main.py': 'import xxhash\n' });
    const r = await fabricks(['build', dir, '--progress', 'json'], { env });
    expect(r.status, r.stderr).toBe(0);
    const [note] = events(r.stderr).filter((e) => e.event === 'note');
    expect(note).toMatchObject({ code: 'native-cast', subject: 'xxhash 3.6.0' });
    expect((note as { detail: string }).detail).toMatch(/^its C code casts 20 functions to a pointer type with more parameters, which traps under WebAssembly when CPython calls it: src\/_xxhash\.c:556:16 \(PyObject \*\(\*\)\(PYXXH32Object \*\) as PyCFunction\)/);
  }, 300_000);

  it('a C extension that does not compile for WebAssembly is NATIVE_BUILD_FAILED with the compiler\'s error line', async () => {
    // psutil's C reads Linux's kernel headers, which WASI does not have
    const env = { FABRICKS_NATIVE_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-native-')) };
    const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'psutil==7.1.0\n', 'main.py': 'import psutil\n' });
    const r = await fabricks(['build', dir], { env });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: building the C extension of psutil 7.1.0 (required by the project) for WebAssembly failed: pip wheel (wasm32-wasi) failed (exit code 1)');
    expect(r.stderr).toContain("  - psutil/_psutil_linux.c:13:10: fatal error: 'linux/ethtool.h' file not found");
    expect(r.stderr).toContain("hint: the lines above are the build's last (setuptools.build_meta, clang for wasm32-wasi)");
    expect(r.stderr).not.toContain('ResolutionImpossible');
    expect(await exists(join(dir, '.fabricks', 'app.wasm'))).toBe(false);
    expect((await readdir(env.FABRICKS_NATIVE_CACHE)).filter((f) => /^[0-9a-f]{64}$/.test(f) || f.startsWith('.build-'))).toEqual([]);
  }, 300_000);

  it('a Rust extension that does not build is NATIVE_BUILD_FAILED with the end of cargo\'s output', async () => {
    // the fault: a cargo setting that makes every crate fail to compile (cargo reads it from the environment)
    const env = { FABRICKS_NATIVE_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-native-')), CARGO_PROFILE_RELEASE_OPT_LEVEL: '9' };
    const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': `${RPDS}\n`, 'main.py': 'import rpds\n' });
    const r = await fabricks(['build', dir, '--verbose'], { env });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: building the Rust extension of rpds-py 2026.9.1 (required by the project) for WebAssembly failed: cargo (wasm32-wasip1) failed (exit code 101)');
    expect(r.stderr).toMatch(/  - .*could not compile `[\w-]+`/);
    expect(r.stderr).toContain('hint: the lines above are cargo\'s last');
    expect(r.stderr).toContain('code: NATIVE_BUILD_FAILED');
    expect(await exists(join(dir, '.fabricks', 'app.wasm'))).toBe(false);
    // nothing half-built is left in the cache
    expect((await readdir(env.FABRICKS_NATIVE_CACHE)).filter((f) => /^[0-9a-f]{64}$/.test(f) || f.startsWith('.build-'))).toEqual([]);
  });
});
