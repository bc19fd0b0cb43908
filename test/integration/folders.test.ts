import { beforeAll, describe, expect, inject, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContext } from '../../src/home/context.js';
import { build } from '../../src/app/build.js';
import { EngineProcess, type ComponentFile } from '../../src/engine/process.js';
import type { Grants, Mount, RunOutcome } from '../../src/engine/grants.js';
import { digestHex } from '../../src/oci/digest.js';
import { fabricks, jsToml, project, pyToml } from '../helpers.js';

/**
 * Granted folders through each language's own APIs, on fabricks' engine. What both runtimes do
 * alike (reads and writes, '..', planted and guest-made links, read-only mounts, renames between
 * mounts, no mount at all) is the capability conformance suite's (test/conformance); here are
 * what only one language has: Python's descriptors relative to an open folder, pathlib,
 * os.replace and os.link, the full text of its OSError; JavaScript's fs.promises and existsSync;
 * packed files beside mounts. Each service writes what happened to /results/out.json, a
 * read-write mount the test reads back; then a Python service run by `fabricks run` reports on
 * stdout how its refusals read.
 */

type Outcome = { ok: unknown } | { err: { type?: string; errno?: number; code?: string; message: string } };

const PYTHON = String.raw`
import errno, json, os, pathlib
import fabricks

results = {}
def probe(name, fn):
    try:
        results[name] = {"ok": fn()}
    except BaseException as e:
        results[name] = {"err": {"type": type(e).__name__, "errno": getattr(e, "errno", None), "message": str(e)}}

def rename_trick():
    fd = os.open("/rw/d", os.O_RDONLY | os.O_DIRECTORY)
    os.rename("/rw/d", "/rw/d-moved")
    os.rename("/rw/evil", "/rw/d")
    got = os.open("secret.txt", os.O_RDONLY, dir_fd=fd)
    return os.read(got, 100).decode()

def write_ro_dir_fd():
    fd = os.open("/data", os.O_RDONLY | os.O_DIRECTORY)
    return os.open("via-fd.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd)

probe("rename_trick", rename_trick)
probe("write_ro_dir_fd", write_ro_dir_fd)
probe("pathlib", lambda: sorted(p.name for p in pathlib.Path("/data").iterdir() if p.is_file()))
probe("mkdir_rw", lambda: (os.makedirs("/rw/m/n"), pathlib.Path("/rw/m/n/f.txt").write_text("deep"), pathlib.Path("/rw/m/n/f.txt").read_text())[2])
probe("packed", lambda: fabricks.read_text("conf.json"))
with open("/results/out.json", "w") as f:
    json.dump(results, f)
`;

const JS = String.raw`
import fs from 'node:fs';

const results = {};
async function probe(name, fn) {
  try {
    results[name] = { ok: (await fn()) ?? null };
  } catch (e) {
    results[name] = { err: { type: e?.constructor?.name, code: e?.code, message: String(e?.message ?? e) } };
  }
}

await probe('write_ro_promise', () => fs.promises.writeFile('/data/new.txt', 'x'));
await probe('read_promise', () => fs.promises.readFile('/data/hello.txt', 'utf8'));
await probe('listdir_promise', () => fs.promises.readdir('/data/sub'));
await probe('exists', () => [fs.existsSync('/data/hello.txt'), fs.existsSync('/data/nope'), fs.existsSync('/etc/passwd')]);
await probe('mkdir_rw', async () => { fs.mkdirSync('/rw/m/n', { recursive: true }); await fs.promises.mkdir('/rw/p'); await fs.promises.writeFile('/rw/p/f.txt', 'deep'); return [fs.readdirSync('/rw/m'), await fs.promises.readFile('/rw/p/f.txt', 'utf8')]; });
await probe('packed', () => [fs.readFileSync('conf.json', 'utf8'), fabricks.readText('conf.json')]);
fs.writeFileSync('/results/out.json', JSON.stringify(results));
`;

const READ_ONLY = /the folder \/data is granted read-only; to write to it, set mode = "rw" for it in \[capabilities\.filesystem\] mounts in fabricks\.toml/;
/** The message for a path that '..' or a link leads out of its mount, after the reason. */
const leadsOut = (reason: string) => `${reason}; a service reaches only the folders mounted for it: to reach another one, add it to [capabilities.filesystem] mounts in fabricks.toml`;
const EPERM = 63; // wasi-libc's errno numbers
const EXDEV = 75;

interface Fixture {
  root: string;
  mounts: Mount[];
}

/** data (ro) with a link planted to a folder outside, rw with a folder and another such link. */
async function fixture(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'fabricks-folders-'));
  for (const d of ['data/sub', 'outside', 'rw/d', 'results']) await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'outside', 'secret.txt'), 'SECRET');
  await writeFile(join(root, 'data', 'hello.txt'), 'hello');
  await writeFile(join(root, 'data', 'sub', 'a.txt'), 'a');
  await writeFile(join(root, 'data', 'sub', 'b.txt'), 'b');
  await symlink('../outside', join(root, 'data', 'escape'));
  await symlink('../outside/secret.txt', join(root, 'data', 'escape-file'));
  await symlink('../outside', join(root, 'rw', 'evil'));
  return {
    root,
    mounts: [
      { guest: '/data', host: join(root, 'data'), mode: 'ro' },
      { guest: '/rw', host: join(root, 'rw'), mode: 'rw' },
      { guest: '/results', host: join(root, 'results'), mode: 'rw' },
    ],
  };
}

/** A built service: its two layers, as the engine runs them. */
interface Service {
  layers: [ComponentFile, ComponentFile];
  compiledCacheDir: string;
}

async function service(toml: string, entry: string, code: string): Promise<Service> {
  const dir = await project({ 'fabricks.toml': toml, [entry]: code, 'conf.json': '{"packed":true}' });
  const ctx = await openContext({ home: inject('fabricksHome'), reporter: () => {} });
  const built = await build(dir, ctx);
  const layer = (d: typeof built.module.digest) => ({ path: ctx.home.store.blobPath(d), hex: digestHex(d) });
  return { layers: [layer(built.runtime.digest), layer(built.module.digest)], compiledCacheDir: ctx.home.compiledCacheDir };
}

function runOn(svc: Service, grants: Grants): Promise<RunOutcome> {
  // the engine's timings aside: the outcome is its status (and trap)
  return EngineProcess.start()
    .run(svc.layers[0], svc.layers[1], grants, { cacheDir: svc.compiledCacheDir, reporter: () => {} })
    .then(({ phases: _, ...outcome }) => outcome);
}

async function runProbes(svc: Service): Promise<{ f: Fixture; r: Record<string, Outcome> }> {
  const f = await fixture();
  const outcome = await runOn(svc, { args: ['svc'], env: [['GRANTED', 'yes']], mounts: f.mounts });
  expect(outcome).toEqual({ status: 0 });
  const r = JSON.parse(await readFile(join(f.root, 'results', 'out.json'), 'utf8')) as Record<string, Outcome>;
  return { f, r };
}

const err = (o: Outcome | undefined) => {
  expect(o, JSON.stringify(o)).toHaveProperty('err');
  return (o as { err: { type?: string; errno?: number; code?: string; message: string } }).err;
};
const ok = (o: Outcome | undefined) => {
  expect(o, JSON.stringify(o)).toHaveProperty('ok');
  return (o as { ok: unknown }).ok;
};

/** What no escape may leave behind on the host: no secret read, no file written in the read-only mount. */
function expectNothingEscaped(f: Fixture, r: Record<string, Outcome>) {
  expect(JSON.stringify(r)).not.toContain('SECRET');
  expect(existsSync(join(f.root, 'data', 'new.txt'))).toBe(false);
  expect(existsSync(join(f.root, 'data', 'via-fd.txt'))).toBe(false);
}

describe('granted folders, from Python', () => {
  let f: Fixture;
  let r: Record<string, Outcome>;
  beforeAll(async () => {
    const svc = await service(pyToml('main.py', '\n[package]\nname = "folders-py"\nversion = "1.0.0"\n'), 'main.py', PYTHON);
    ({ f, r } = await runProbes(svc));
  });

  it('a folder held open and then moved, a link put in its place: reads through the descriptor find the moved folder', () => {
    // the descriptor still is the moved folder (as on Linux), which has no secret.txt
    expect(err(r.rename_trick).type).toBe('FileNotFoundError');
    expectNothingEscaped(f, r);
  });

  it('a write relative to a descriptor of a read-only mount: the engine itself refuses it (not-permitted)', () => {
    // past the runtime's message (relative to an open folder), the engine's own error
    expect(err(r.write_ro_dir_fd)).toMatchObject({ errno: EPERM });
    expectNothingEscaped(f, r);
  });

  it('pathlib lists and writes, os.makedirs makes folders; packed files stay readable', async () => {
    expect(ok(r.pathlib)).toEqual(['hello.txt']);
    expect(ok(r.mkdir_rw)).toBe('deep');
    expect(await readFile(join(f.root, 'rw', 'm', 'n', 'f.txt'), 'utf8')).toBe('deep');
    expect(ok(r.packed)).toBe('{"packed":true}');
  });

  it('sees no folder at all without mounts, whether the job has none or an empty list', async () => {
    const bare = await service(pyToml('main.py', '\n[package]\nname = "folders-py-bare"\nversion = "1.0.0"\n'), 'main.py', 'import os, sys\ntry:\n    os.listdir("/data")\nexcept FileNotFoundError as e:\n    sys.exit(0 if "no folder is granted at /data" in str(e) else 4)\nsys.exit(3)\n');
    expect(await runOn(bare, { args: ['svc'], env: [] })).toEqual({ status: 0 });
    expect(await runOn(bare, { args: ['svc'], env: [], mounts: [] })).toEqual({ status: 0 });
  });
});

/** Refusals a Python service explains, reported on stdout. */
const REFUSALS = String.raw`
import json, os

results = {}
def probe(name, fn):
    try:
        results[name] = {"ok": fn()}
    except OSError as e:
        results[name] = {"err": {"type": type(e).__name__, "errno": e.errno, "message": str(e)}}

with open("/rw/a.txt", "w") as f:
    f.write("stays")
probe("dotdot_write", lambda: open("/rw/../data/new.txt", "w").write("x"))
probe("rename", lambda: os.rename("/rw/a.txt", "/other/a.txt"))
probe("replace", lambda: os.replace("/rw/a.txt", "/other/a.txt"))
probe("hard_link", lambda: os.link("/rw/a.txt", "/other/b.txt"))
print(json.dumps(results))
`;

const mountsToml = (mounts: Mount[]) =>
  `\n[capabilities.filesystem]\nmounts = [\n${mounts.map((m) => `  { guest = "${m.guest}", host = "${m.host}", mode = "${m.mode}" },`).join('\n')}\n]\n`;

describe('folder refusals through fabricks run, from Python', () => {
  it("names the mount and the reason: '..' out of a read-write mount towards a read-only one; os.rename, os.replace and os.link between two mounts, in CPython's OSError form", async () => {
    const f = await fixture();
    // on another file system than the other mounts, so that no engine can rename across
    const other = await mkdtemp('/dev/shm/fabricks-folders-');
    try {
      const mounts: Mount[] = [...f.mounts, { guest: '/other', host: other, mode: 'rw' }];
      const dir = await project({ 'fabricks.toml': pyToml('main.py', mountsToml(mounts)), 'main.py': REFUSALS });
      const run = await fabricks(['run', '-q', dir]);
      expect(run.status, run.stderr).toBe(0);
      const r = JSON.parse(run.stdout) as Record<string, Outcome>;
      // the way out is what is refused, not the read-only mount it would lead into
      expect(err(r.dotdot_write)).toMatchObject({ type: 'PermissionError', errno: EPERM, message: expect.stringContaining(leadsOut("'..' leads out of the mount /rw")) });
      // a rename across two file systems fails as between devices
      const code = EXDEV;
      for (const name of ['rename', 'replace']) {
        expect(err(r[name]), name).toEqual({
          type: 'OSError',
          errno: code,
          message: `[Errno ${code}] renames between mounts /rw and /other are not possible: copy instead (shutil.move does): '/rw/a.txt' -> '/other/a.txt'`,
        });
      }
      expect(err(r.hard_link)).toEqual({
        type: 'OSError',
        errno: code,
        message: `[Errno ${code}] hard links between mounts /rw and /other are not possible: copy instead: '/rw/a.txt' -> '/other/b.txt'`,
      });
      expect(await readFile(join(f.root, 'rw', 'a.txt'), 'utf8')).toBe('stays');
      expect(await readdir(other)).toEqual([]);
      expectNothingEscaped(f, r);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('granted folders, from JavaScript', () => {
  let f: Fixture;
  let r: Record<string, Outcome>;
  beforeAll(async () => {
    const svc = await service(jsToml('main.js', '\n[package]\nname = "folders-js"\nversion = "1.0.0"\n'), 'main.js', JS);
    ({ f, r } = await runProbes(svc));
  });

  it('fs.promises: a write to a read-only mount is a rejected promise that says which capability to change', () => {
    expect(err(r.write_ro_promise)).toMatchObject({ type: 'Error', code: 'EROFS', message: expect.stringMatching(READ_ONLY) });
    expectNothingEscaped(f, r);
  });

  it('reads, lists and makes folders with fs.promises; existsSync sees mounts only; packed files stay readable', async () => {
    expect(ok(r.read_promise)).toBe('hello');
    expect(ok(r.listdir_promise)).toEqual(['a.txt', 'b.txt']);
    expect(ok(r.exists)).toEqual([true, false, false]);
    expect(ok(r.mkdir_rw)).toEqual([['n'], 'deep']);
    expect(await readFile(join(f.root, 'rw', 'p', 'f.txt'), 'utf8')).toBe('deep');
    expect(ok(r.packed)).toEqual(['{"packed":true}', '{"packed":true}']);
  });
});
