import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exists, fabricks, jsToml, project } from '../helpers.js';
import { Leases } from '../../src/util/lease.js';
import { COMPILED_LAYOUT } from '../../src/home/home.js';

interface Listed {
  artifacts: Array<{ reference: string; kind: string; digest: string; size: number; shared: number; lastUsed: string | null }>;
  total: number;
  unreferenced: { blobs: number; bytes: number };
  compiledCache: { entries: number; bytes: number };
}
interface Collected {
  store: { blobs: Array<{ digest: string; size: number }>; leased: number; partial: Array<{ path: string }>; quarantine: Array<{ path: string }>; temporary: Array<{ path: string }> };
  compiled: { removed: Array<{ digest: string; reason: string }>; leased: number; bytes: number };
  buildRecords: number;
  freed: number;
}
interface Built {
  manifest: string;
  module: { digest: string };
  runtime: { digest: string };
  component: { digest: string };
}

const app = (name: string, main: string) => project({ 'fabricks.toml': jsToml('main.js', `\n[package]\nname = "${name}"\nversion = "1.0.0"\n`), 'main.js': main });
/** A pid no process has: one that just exited. */
const deadPid = () => spawnSync('true').pid!;

describe('fabricks ls, rm and gc on a home of their own', () => {
  let home: string;
  // runs here fill the compiled cache: the runtime once, and a module layer per app
  // the cache of this home alone, not the suite's shared one
  const run = (args: string[], env: Record<string, string> = {}) => fabricks(args, { home, env: { FABRICKS_COMPILED_CACHE: '', ...env } });
  const blob = (digest: string) => join(home, 'store', 'blobs', 'sha256', digest.slice(7));
  const compiledDir = (digest: string) => join(home, 'cache', COMPILED_LAYOUT, digest.slice(7));
  const ls = async () => {
    const r = await run(['ls', '--json']);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Listed;
  };
  const gc = async (...more: string[]) => {
    const r = await run(['gc', '--json', ...more]);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Collected;
  };
  const build = async (dir: string) => {
    const r = await run(['build', dir, '--json', '-q']);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Built;
  };
  const manifestBlobs = async (digest: string) => {
    const m = JSON.parse(await readFile(blob(digest), 'utf8')) as { config: { digest: string }; layers: Array<{ digest: string }> };
    return [digest, m.config.digest, ...m.layers.map((l) => l.digest)];
  };
  let a: { dir: string; built: Built };
  let b: { dir: string; built: Built };
  /**
   * The runtime compiled, as the suite's shared cache holds it (test/global-setup.ts): these
   * tests are about what gc does with entries, and compiling the runtime for this home (a
   * minute on a busy machine) would add nothing to them. run-engine.test.ts compiles for real.
   */
  const seedRuntime = () =>
    cp(join(process.env.FABRICKS_COMPILED_CACHE!, COMPILED_LAYOUT, a.built.runtime.digest.slice(7)), compiledDir(a.built.runtime.digest), { recursive: true });

  beforeAll(async () => {
    // gc removes what this home does not reference: never the suite's shared store
    home = await mkdtemp(join(tmpdir(), 'fabricks-gc-'));
    for (const [name, key] of [['gc-a', 'a'], ['gc-b', 'b']] as const) {
      const dir = await app(name, `console.log("i am ${name}");\n`);
      const built = await build(dir);
      if (key === 'a') a = { dir, built };
      else b = { dir, built };
    }
    await seedRuntime();
  });

  it('ls shows what build stored, each blob counted once in the total', async () => {
    const r = await run(['run', '-q', a.dir]);
    expect(r.stdout).toBe('i am gc-a\n');
    const listed = await ls();
    const byRef = new Map(listed.artifacts.map((x) => [x.reference, x]));
    const la = byRef.get('gc-a:1.0.0')!;
    expect(la).toMatchObject({ kind: 'app', digest: a.built.manifest });
    expect(byRef.get('gc-b:1.0.0')).toMatchObject({ kind: 'app', digest: b.built.manifest });
    expect(byRef.get('fabricks.dev/runtimes/node:0.1')?.kind).toBe('runtime');
    // the runtime layer is shared by both apps and counted once in the total
    expect(la.shared).toBeGreaterThan(10_000_000);
    expect(listed.total).toBeLessThan(listed.artifacts.reduce((n, x) => n + x.size, 0) - la.shared);
    expect(la.lastUsed).not.toBeNull();
    // the runtime both apps share and each app's module layer, compiled by their builds
    expect(listed.compiledCache.entries).toBe(3);
    const human = await run(['ls']);
    expect(human.stdout).toContain('gc-a:1.0.0');
    expect(human.stdout).toContain(a.built.manifest.slice(0, 19));
  });

  it('rm then gc frees the removed app\'s bytes and keeps the runtime another app still uses', async () => {
    const before = await ls();
    const aBlobs = await manifestBlobs(a.built.manifest);
    const rm = await run(['rm', 'gc-a:1.0.0', '--json']);
    expect(rm.status, rm.stderr).toBe(0);
    // rm only untags: the blobs wait for gc
    for (const d of aBlobs) expect(await exists(blob(d))).toBe(true);
    const afterRm = await ls();
    expect(afterRm.artifacts.map((x) => x.reference)).not.toContain('gc-a:1.0.0');
    expect(afterRm.unreferenced.blobs).toBe(3);

    const dry = await gc('--dry-run');
    expect(dry.store.blobs.map((x) => x.digest).sort()).toEqual([a.built.manifest, a.built.module.digest, aBlobs[1]].sort());
    for (const d of aBlobs) expect(await exists(blob(d))).toBe(true);

    const collected = await gc();
    expect(collected.store.blobs.map((x) => x.digest).sort()).toEqual(dry.store.blobs.map((x) => x.digest).sort());
    for (const d of [a.built.manifest, a.built.module.digest, aBlobs[1]!]) expect(await exists(blob(d))).toBe(false);
    // gc-a's compiled module layer, build record and project fingerprint went with it; the runtime's stays
    expect(collected.compiled.removed.map((x) => x.digest)).toEqual([a.built.module.digest]);
    expect(await exists(compiledDir(a.built.module.digest))).toBe(false);
    expect(await exists(compiledDir(a.built.runtime.digest))).toBe(true);
    expect(collected.buildRecords).toBe(2);
    // every blob a reference keeps is still there, whole
    expect(await exists(blob(a.built.runtime.digest))).toBe(true);
    for (const d of await manifestBlobs(b.built.manifest)) expect(await exists(blob(d))).toBe(true);
    const verify = await run(['verify', '--json', '-q']);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, broken: [] });
    expect((await run(['run', '-q', b.dir])).stdout).toBe('i am gc-b\n');
    const after = await ls();
    expect(after.total).toBe(before.total - collected.store.blobs.reduce((n, x) => n + x.size, 0));
    expect(after.unreferenced.blobs).toBe(0);
    // rm of something not stored says so and removes nothing
    const wrong = await run(['rm', 'gc-b:1.0', 'gc-b:1.0.0']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('gc-b:1.0 is not in the local store');
    expect(wrong.stderr).toContain('did you mean gc-b:1.0.0');
    expect((await ls()).artifacts.map((x) => x.reference)).toContain('gc-b:1.0.0');
  });

  it('never removes the files of a run in progress, even of an app removed meanwhile; removes them once it ends', async () => {
    const dir = await app('gc-live', 'process.stdout.write("ready\\n");\nfor await (const chunk of process.stdin) process.stdout.write("got " + String(chunk).trim() + "\\n");\n');
    const built = await build(dir);
    let during: Collected | undefined;
    let gcFailed: unknown;
    let compiledDuring = false;
    const r = await fabricks(['run', '-q', dir], {
      home,
      env: { FABRICKS_COMPILED_CACHE: '' },
      onStdout: (chunk, child) => {
        if (!chunk.includes('ready')) return;
        void (async () => {
          try {
            expect((await run(['rm', 'gc-live:1.0.0'])).status).toBe(0);
            during = await gc('--cache-limit', '0');
            compiledDuring = await exists(join(compiledDir(built.module.digest), 'fabricks.json'));
          } catch (e) {
            gcFailed = e;
          } finally {
            child.stdin!.end('ping\n');
          }
        })();
      },
    });
    expect(gcFailed).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ready\ngot ping\n');
    expect(r.status).toBe(0);
    // the run's manifest, config and module layer were unreferenced, and kept because it used them
    expect(during!.store.leased).toBe(3);
    expect(during!.store.blobs).toEqual([]);
    // its runtime and its module layer, compiled
    expect(during!.compiled.leased).toBe(2);
    expect(compiledDuring).toBe(true);
    // the run is over: its lease went with it
    const after = await gc('--cache-limit', '0');
    expect(after.store.blobs.map((x) => x.digest)).toContain(built.module.digest);
    expect(after.compiled.removed.map((x) => x.digest)).toContain(built.module.digest);
    expect(await exists(blob(built.module.digest))).toBe(false);
  });

  it('removes stale partial downloads, their locks, quarantined blobs and dead temporary files; spares a partial a live process leases', async () => {
    const store = join(home, 'store');
    const partial = join(store, '.fabricks', 'partial');
    const stale = 'a'.repeat(64);
    const live = 'b'.repeat(64);
    await mkdir(join(partial, `${stale}.lock`), { recursive: true });
    await writeFile(join(partial, `${stale}.lock`, 'owner.json'), JSON.stringify({ pid: deadPid(), host: (await import('node:os')).hostname(), since: Date.now() }));
    await writeFile(join(partial, stale), Buffer.alloc(4096, 1));
    await writeFile(join(partial, live), Buffer.alloc(1024, 2));
    await mkdir(join(store, '.fabricks', 'quarantine'), { recursive: true });
    await writeFile(join(store, '.fabricks', 'quarantine', `${'c'.repeat(64)}.123`), 'damaged');
    const temp = join(store, 'blobs', 'sha256', `.tmp-${deadPid()}-0011aabbccdd`);
    await writeFile(temp, 'half a blob');
    const lease = new Leases(join(store, '.fabricks', 'leases'));
    await lease.hold([`blob:${live}`]);
    try {
      const collected = await gc();
      expect(collected.store.partial.map((p) => p.path).sort()).toEqual([join(partial, stale), join(partial, `${stale}.lock`)]);
      expect(collected.store.quarantine).toHaveLength(1);
      expect(collected.store.temporary.map((t) => t.path)).toEqual([temp]);
      expect(collected.freed).toBeGreaterThanOrEqual(4096 + 7 + 11);
      expect(await exists(join(partial, stale))).toBe(false);
      expect(await exists(join(partial, `${stale}.lock`))).toBe(false);
      expect(await exists(temp)).toBe(false);
      expect(await exists(join(partial, live))).toBe(true);
    } finally {
      lease.release();
    }
    expect((await gc()).store.partial.map((p) => p.path)).toEqual([join(partial, live)]);
  });

  it('trims the compiled cache least recently used first, with gc --cache-limit and by itself past FABRICKS_CACHE_LIMIT', async () => {
    const d = { dir: await app('gc-d', 'console.log("i am gc-d");\n') } as { dir: string; built: Built };
    const e = { dir: await app('gc-e', 'console.log("i am gc-e");\n') } as { dir: string; built: Built };
    d.built = await build(d.dir);
    e.built = await build(e.dir);
    await gc('--cache-limit', '0');
    await seedRuntime();
    // used in this order: b, d, e, then b again; the runtime with each
    for (const x of [b, d, e, b]) expect((await run(['run', '-q', x.dir])).status).toBe(0);
    const listed = await ls();
    expect(listed.compiledCache.entries).toBe(4);
    // what the entries take on disk (not fabricks' own small file)
    let onDisk = 0;
    for (const digest of [b.built.runtime.digest, ...[b, d, e].map((x) => x.built.module.digest)]) {
      onDisk += (await stat(join(compiledDir(digest), 'component.cwasm'))).size;
    }
    expect(listed.compiledCache.bytes).toBe(onDisk);
    // room for all but d's module layer, the least recently used: it goes
    const dBytes = (await stat(join(compiledDir(d.built.module.digest), 'component.cwasm'))).size;
    const limit = listed.compiledCache.bytes - dBytes;
    const collected = await gc('--cache-limit', String(limit));
    expect(collected.compiled.removed).toEqual([{ digest: d.built.module.digest, bytes: dBytes, reason: 'over-limit' }]);
    expect(await exists(compiledDir(b.built.module.digest))).toBe(true);
    expect(await exists(compiledDir(e.built.module.digest))).toBe(true);
    // a run that compiles anew trims the cache itself: now e's is the least recently used
    const again = await run(['run', '-q', d.dir], { FABRICKS_CACHE_LIMIT: String(limit) });
    expect(again.stdout).toBe('i am gc-d\n');
    expect(await exists(compiledDir(e.built.module.digest))).toBe(false);
    expect(await exists(compiledDir(b.built.module.digest))).toBe(true);
    expect(await exists(compiledDir(d.built.module.digest))).toBe(true);
    expect(await exists(compiledDir(b.built.runtime.digest))).toBe(true);
    // a limit that is not a size is refused, naming the variable
    const bad = await run(['ls'], { FABRICKS_CACHE_LIMIT: 'lots' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('FABRICKS_CACHE_LIMIT is "lots", not a size');
  });

  afterAll(() => undefined);
});
