import { beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copySuiteHome, exists, fabricks, project, pyToml } from '../helpers.js';
import { nativeWheelKey } from '../../src/home/native-cache.js';
import { nativeToolchainsId } from '../../src/tools/native-toolchains.js';

// The native wheel cache in the home's lifecycle: listed by ls, leased by the builds that use it,
// trimmed by gc. MarkupSafe is the real compiled package (a C extension: seconds to build), in a
// home of its own whose native cache is its own (not FABRICKS_NATIVE_CACHE, which gc treats as shared).

const WHEEL = 'MarkupSafe-3.0.3-cp314-cp314-wasi_0_0_0_wasm32.whl';
const main = 'import sys, markupsafe\nprint(markupsafe.escape("<a>"), "ready", flush=True)\nprint("got", sys.stdin.readline().strip())\n';

type Item = { key: string; package: string | null; version: string | null; sdist: string | null; sdistSha256: string | null; toolchain: string | null; runtime: string | null; wheel: string | null; digest: string | null; bytes: number; lastUsed: string; current: boolean };
type Listed = { nativeCache: { dir: string; shared: boolean; entries: Item[]; bytes: number; cargoTarget: number; cLibraries: number } };
type Gc = { freed: number; native: { removed: Array<{ key: string; package: string | null; version: string | null; bytes: number; reason: string }>; leased: number; bytes: number; scratch: number; shared: boolean; cLibraries: number } };

describe('the native wheel cache in the store lifecycle', () => {
  let home: string;
  let cache: string;
  let dir: string;
  const run = (args: string[]) => fabricks(args, { home, env: { FABRICKS_NATIVE_CACHE: '' } });
  const ls = async () => JSON.parse((await run(['ls', '--json'])).stdout) as Listed;
  const gc = async (...more: string[]) => {
    const r = await run(['gc', '--json', ...more]);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Gc;
  };
  const entries = async () => (await readdir(cache).catch(() => [] as string[])).filter((f) => /^[0-9a-f]{64}$/.test(f)).sort();

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'fabricks-native-home-'));
    await copySuiteHome(home);
    cache = join(home, 'cache', 'native');
    await rm(cache, { recursive: true, force: true });
    dir = await project({ 'fabricks.toml': pyToml('main.py', '\n[package]\nname = "native-cache"\nversion = "1.0.0"\n'), 'requirements.txt': 'markupsafe==3.0.3\n', 'main.py': main });
  });

  it(
    'ls lists each built wheel with its sdist, version, runtime, toolchain and size; gc removes entries of another toolchain, broken ones and leftover scratch, and keeps what a stored app was built with',
    async () => {
      const built = await run(['build', dir, '--json']);
      expect(built.status, built.stderr).toBe(0);
      const [wheel] = (JSON.parse(built.stdout) as { wheels: Array<{ name: string; digest: string; from: string }> }).wheels;
      expect(wheel).toMatchObject({ name: 'MarkupSafe', from: 'built' });
      const [key] = await entries();
      const lock = await readFile(join(dir, 'fabricks.lock'), 'utf8');
      const sdistSha = /sdist = "markupsafe-3\.0\.3\.tar\.gz"\nsha256 = "([0-9a-f]{64})"/.exec(lock)![1]!;
      // the folder is the build's key: the sdist, both toolchains, the CPython
      expect(key).toBe(nativeWheelKey({ sdist: sdistSha, toolchain: nativeToolchainsId(), python: '3.14' }));

      const listed = (await ls()).nativeCache;
      const onDisk = (await readFile(join(cache, key!, WHEEL))).length + (await readFile(join(cache, key!, 'build.json'))).length;
      expect(listed).toMatchObject({ dir: cache, shared: false, bytes: onDisk });
      expect(listed.entries).toEqual([
        {
          key,
          package: 'MarkupSafe',
          version: '3.0.3',
          sdist: 'markupsafe-3.0.3.tar.gz',
          sdistSha256: sdistSha,
          toolchain: nativeToolchainsId(),
          runtime: 'python:3.14',
          wheel: WHEEL,
          digest: wheel!.digest,
          bytes: onDisk,
          lastUsed: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          current: true,
        },
      ]);
      const text = (await run(['ls'])).stdout;
      expect(text).toMatch(/^native wheels [\d,.]+ (bytes|MB) in 1 entries; cargo's compiled crates [\d,.]+ (bytes|MB); C libraries built for WebAssembly [\d,.]+ (bytes|MB)$/m);
      expect(text).toMatch(/^ {2}MarkupSafe 3\.0\.3 +markupsafe-3\.0\.3\.tar\.gz +python:3\.14 +current +[\d,.]+ (bytes|MB) +\d{4}-/m);

      // what an older fabricks left: the same wheel under another toolchain's key, an entry without
      // its wheel, and a killed build's scratch folder
      const oldToolchain = 'rustc-web 1.95.0; lld-21 | clang-21; flags 3';
      const stale = nativeWheelKey({ sdist: sdistSha, toolchain: oldToolchain, python: '3.14' });
      await cp(join(cache, key!), join(cache, stale), { recursive: true });
      const record = JSON.parse(await readFile(join(cache, stale, 'build.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(cache, stale, 'build.json'), JSON.stringify({ ...record, toolchain: oldToolchain }));
      const broken = 'b'.repeat(64);
      await mkdir(join(cache, broken));
      await writeFile(join(cache, broken, 'build.json'), '{');
      await mkdir(join(cache, '.build-killed', 'src'), { recursive: true });
      // C libraries built for WebAssembly (OpenSSL) are counted, and kept as cargo's folder is
      await mkdir(join(cache, 'c-libraries', 'openssl-test', 'lib'), { recursive: true });
      await writeFile(join(cache, 'c-libraries', 'openssl-test', 'lib', 'libcrypto.a'), Buffer.alloc(1234));
      expect((await ls()).nativeCache.cLibraries).toBe(1234);
      const olderList = (await ls()).nativeCache.entries;
      expect(olderList.find((e) => e.key === stale)).toMatchObject({ package: 'MarkupSafe', toolchain: oldToolchain, current: false });
      expect(olderList.find((e) => e.key === broken)).toMatchObject({ package: null, wheel: null, current: false });
      expect((await run(['ls'])).stdout).toContain(`other: ${oldToolchain}`);

      const dry = await gc('--dry-run');
      const reasons = (g: Gc) => Object.fromEntries(g.native.removed.map((x) => [x.key, x.reason]));
      expect(reasons(dry)).toEqual({ [stale]: 'stale', [broken]: 'incomplete' });
      expect(dry.native.scratch).toBe(1);
      expect(await entries()).toEqual([key, stale, broken].sort());
      expect(await exists(join(cache, '.build-killed'))).toBe(true);

      const done = await gc();
      expect(reasons(done)).toEqual({ [stale]: 'stale', [broken]: 'incomplete' });
      expect(done.native).toMatchObject({ scratch: 1, shared: false, bytes: onDisk });
      const staleBytes = done.native.removed.find((x) => x.key === stale)!.bytes;
      expect(staleBytes).toBeGreaterThan((await readFile(join(cache, key!, WHEEL))).length);
      expect(done.freed).toBeGreaterThanOrEqual(staleBytes);
      expect(await entries()).toEqual([key]);
      expect(await exists(join(cache, '.build-killed'))).toBe(false);
      expect(await exists(join(cache, 'c-libraries', 'openssl-test', 'lib', 'libcrypto.a'))).toBe(true);
      expect(done.native.cLibraries).toBe(1234);
    },
    600_000,
  );

  it('gc and ls work on a home nothing was ever stored in', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'fabricks-empty-home-'));
    for (const args of [['gc', '--json'], ['gc', '--dry-run'], ['ls', '--json']]) {
      const r = await fabricks(args, { home: fresh, env: { FABRICKS_NATIVE_CACHE: '' } });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it(
    'a build that uses a wheel leases it: gc keeps it while that fabricks runs, though no stored app needs it, and removes it after',
    async () => {
      const [key] = await entries();
      expect(key).toBeDefined();
      let during: Gc | undefined;
      let failed: unknown;
      // touched: the run builds (from the cache) instead of trusting the project's fingerprint
      await utimes(join(dir, 'main.py'), new Date(), new Date());
      const r = await fabricks(['run', '-q', dir], {
        home,
        env: { FABRICKS_NATIVE_CACHE: '' },
        onStdout: (chunk, child) => {
          if (!chunk.includes('ready')) return;
          void (async () => {
            try {
              // the fault: the records that say which wheels stored apps were built with are gone
              await rm(join(home, 'cache', 'builds'), { recursive: true, force: true });
              during = await gc();
            } catch (e) {
              failed = e;
            } finally {
              child.stdin!.end('ping\n');
            }
          })();
        },
      });
      expect(failed).toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('&lt;a&gt; ready\ngot ping\n');
      expect(during!.native).toMatchObject({ removed: [], leased: 1 });
      expect(await entries()).toEqual([key]);

      // the run is over: nothing leases it, and no stored app was built with it
      const after = await gc();
      expect(after.native.removed).toEqual([{ key, package: 'MarkupSafe', version: '3.0.3', bytes: expect.any(Number), reason: 'unreferenced' }]);
      expect(after.native.leased).toBe(0);
      expect(await entries()).toEqual([]);
      expect((await ls()).nativeCache.entries).toEqual([]);
    },
    600_000,
  );
});
