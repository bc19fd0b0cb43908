import { beforeAll, describe, expect, inject, it } from 'vitest';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContext } from '../../src/home/context.js';
import { build } from '../../src/app/build.js';
import { transpiled, type Transpiled } from '../../src/engine/transpile.js';
import { runComponent, type RunOutcome } from '../../src/engine/run.js';
import { runOnWasmtime, type ComponentFile } from '../../src/engine/wasmtime.js';
import type { Grants } from '../../src/engine/host.js';
import { digestHex } from '../../src/oci/digest.js';
import { folders } from '../../src/engine/folders.js';
import type { Mount } from '../../src/engine/host.js';
import { jsToml, project, pyToml } from '../helpers.js';

/**
 * Granted folders, run on each engine (wasmtime, what fabricks run uses; jco in-process, what
 * serves): a Python and a JavaScript service each try to
 * reach past their mounts (and must not), and use the mounts they are granted. Each service
 * writes what happened to /results/out.json, a read-write mount the test reads back.
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

def write_rw():
    with open("/rw/w.txt", "w") as f:
        f.write("written by python")
    return open("/rw/w.txt").read()

probe("etc_passwd", lambda: open("/etc/passwd").read())
probe("listdir_etc", lambda: os.listdir("/etc"))
probe("dotdot_source", lambda: open("../../etc/passwd").read())
probe("dotdot_mount", lambda: open("/data/../outside/secret.txt").read())
probe("planted_link_dir", lambda: open("/data/escape/secret.txt").read())
probe("planted_link_file", lambda: open("/data/escape-file").read())
probe("guest_symlink", lambda: os.symlink("../outside", "/rw/link"))
probe("rename_trick", rename_trick)
probe("write_ro", lambda: open("/data/new.txt", "w").write("x"))
probe("mkdir_ro", lambda: os.mkdir("/data/newdir"))
probe("write_ro_dir_fd", write_ro_dir_fd)
probe("read", lambda: open("/data/hello.txt").read())
probe("listdir", lambda: sorted(os.listdir("/data/sub")))
probe("pathlib", lambda: sorted(p.name for p in pathlib.Path("/data").iterdir() if p.is_file()))
probe("write_rw", write_rw)
probe("mkdir_rw", lambda: (os.makedirs("/rw/m/n"), pathlib.Path("/rw/m/n/f.txt").write_text("deep"), pathlib.Path("/rw/m/n/f.txt").read_text())[2])
probe("packed", lambda: fabricks.read_text("conf.json"))
probe("env_missing", lambda: os.environ["NOT_GRANTED"])
probe("env_get", lambda: [os.environ.get("NOT_GRANTED"), "NOT_GRANTED" in os.environ, os.environ["GRANTED"]])
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

await probe('etc_passwd', () => fs.readFileSync('/etc/passwd', 'utf8'));
await probe('listdir_etc', () => fs.readdirSync('/etc'));
await probe('dotdot_source', () => fs.readFileSync('../../etc/passwd', 'utf8'));
await probe('dotdot_mount', () => fs.readFileSync('/data/../outside/secret.txt', 'utf8'));
await probe('planted_link_dir', () => fs.readFileSync('/data/escape/secret.txt', 'utf8'));
await probe('planted_link_file', () => fs.readFileSync('/data/escape-file', 'utf8'));
await probe('guest_symlink', () => fs.symlinkSync('../outside', '/rw/link'));
await probe('rename_then_read', () => { fs.renameSync('/rw/d', '/rw/d-moved'); fs.renameSync('/rw/evil', '/rw/d'); return fs.readFileSync('/rw/d/secret.txt', 'utf8'); });
await probe('write_ro', () => fs.writeFileSync('/data/new.txt', 'x'));
await probe('write_ro_promise', () => fs.promises.writeFile('/data/new.txt', 'x'));
await probe('mkdir_ro', () => fs.mkdirSync('/data/newdir'));
await probe('read', () => fs.readFileSync('/data/hello.txt', 'utf8'));
await probe('read_promise', () => fs.promises.readFile('/data/hello.txt', 'utf8'));
await probe('listdir', () => fs.readdirSync('/data/sub'));
await probe('listdir_promise', () => fs.promises.readdir('/data/sub'));
await probe('exists', () => [fs.existsSync('/data/hello.txt'), fs.existsSync('/data/nope'), fs.existsSync('/etc/passwd')]);
await probe('write_rw', () => { fs.writeFileSync('/rw/w.txt', 'written by js'); return fs.readFileSync('/rw/w.txt', 'utf8'); });
await probe('mkdir_rw', async () => { fs.mkdirSync('/rw/m/n', { recursive: true }); await fs.promises.mkdir('/rw/p'); await fs.promises.writeFile('/rw/p/f.txt', 'deep'); return [fs.readdirSync('/rw/m'), await fs.promises.readFile('/rw/p/f.txt', 'utf8')]; });
await probe('packed', () => [fs.readFileSync('conf.json', 'utf8'), fabricks.readText('conf.json')]);
fs.writeFileSync('/results/out.json', JSON.stringify(results));
`;

const READ_ONLY = /the folder \/data is granted read-only; to write to it, set mode = "rw" for it in \[capabilities\.filesystem\] mounts in fabricks\.toml/;
const NOT_GRANTED = /no folder is granted at \/etc; add a mount for it to \[capabilities\.filesystem\] mounts in fabricks\.toml/;
const EROFS = 69; // wasi-libc's errno numbers
const EPERM = 63;

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

type Engine = 'wasmtime' | 'jco';
const ENGINES: Engine[] = ['wasmtime', 'jco'];

/** A built service, ready for either engine: transpiled for jco, its two layers for wasmtime. */
interface Service {
  t: Transpiled;
  layers: [ComponentFile, ComponentFile];
  compiledCacheDir: string;
}

async function service(toml: string, entry: string, code: string): Promise<Service> {
  const dir = await project({ 'fabricks.toml': toml, [entry]: code, 'conf.json': '{"packed":true}' });
  const ctx = await openContext({ home: inject('fabricksHome'), reporter: () => {} });
  const built = await build(dir, ctx);
  const t = await transpiled(ctx.home.transpileCacheDir, built.component.digest, () => readFile(built.component.path), () => {});
  const layer = (d: typeof built.module.digest) => ({ path: ctx.home.store.blobPath(d), hex: digestHex(d) });
  return { t, layers: [layer(built.runtime.digest), layer(built.module.digest)], compiledCacheDir: ctx.home.compiledCacheDir };
}

function runOn(engine: Engine, svc: Service, grants: Grants): Promise<RunOutcome> {
  if (engine === 'jco') return runComponent(svc.t, grants);
  // the host's timings aside: the outcome is its status (and trap)
  return runOnWasmtime(svc.layers[0], svc.layers[1], grants, { cacheDir: svc.compiledCacheDir, reporter: () => {} }).then(({ phases: _, ...outcome }) => outcome);
}

async function runProbes(engine: Engine, svc: Service): Promise<{ f: Fixture; r: Record<string, Outcome> }> {
  const f = await fixture();
  const outcome = await runOn(engine, svc, { args: ['svc'], env: [['GRANTED', 'yes']], mounts: f.mounts });
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

/** What no escape may leave behind on the host: no secret read, no link made, no file written. */
function expectNothingEscaped(f: Fixture, r: Record<string, Outcome>) {
  expect(JSON.stringify(r)).not.toContain('SECRET');
  expect(existsSync(join(f.root, 'data', 'new.txt'))).toBe(false);
  expect(existsSync(join(f.root, 'data', 'newdir'))).toBe(false);
  expect(existsSync(join(f.root, 'data', 'via-fd.txt'))).toBe(false);
  expect(() => lstatSync(join(f.root, 'rw', 'link'))).toThrow();
}

describe.each(ENGINES)('granted folders, from Python, on %s', (engine) => {
  let f: Fixture;
  let r: Record<string, Outcome>;
  beforeAll(async () => {
    const svc = await service(pyToml('main.py', '\n[package]\nname = "folders-py"\nversion = "1.0.0"\n'), 'main.py', PYTHON);
    ({ f, r } = await runProbes(engine, svc));
  });

  it('cannot reach outside its mounts: /etc, .. out of the source and out of a mount, planted and made links, the rename trick', () => {
    expect(err(r.etc_passwd)).toMatchObject({ type: 'FileNotFoundError', message: expect.stringMatching(NOT_GRANTED) });
    expect(err(r.listdir_etc)).toMatchObject({ type: 'FileNotFoundError', message: expect.stringMatching(NOT_GRANTED) });
    expect(err(r.dotdot_source).type).toBe('FileNotFoundError');
    for (const name of ['dotdot_mount', 'planted_link_dir', 'planted_link_file', 'guest_symlink']) {
      expect(err(r[name]).type, name).toBe('PermissionError');
    }
    // jco's host keeps paths and refuses the link now in the folder's place; wasmtime's
    // descriptor still is the moved folder (as on Linux), which has no secret.txt
    expect(err(r.rename_trick).type).toBe(engine === 'jco' ? 'PermissionError' : 'FileNotFoundError');
    expectNothingEscaped(f, r);
  });

  it('cannot write to a read-only mount, and says which capability to change', () => {
    expect(err(r.write_ro)).toMatchObject({ type: 'PermissionError', errno: EROFS, message: expect.stringMatching(READ_ONLY) });
    expect(err(r.mkdir_ro)).toMatchObject({ type: 'PermissionError', errno: EROFS, message: expect.stringMatching(READ_ONLY) });
    // past the message (relative to an open folder), the host itself refuses: read-only from
    // jco's host, not-permitted from wasmtime's
    expect(err(r.write_ro_dir_fd)).toMatchObject({ errno: engine === 'jco' ? EROFS : EPERM });
    expectNothingEscaped(f, r);
  });

  it('reads, lists, writes and makes folders in its mounts; packed files stay readable', async () => {
    expect(ok(r.read)).toBe('hello');
    expect(ok(r.listdir)).toEqual(['a.txt', 'b.txt']);
    expect(ok(r.pathlib)).toEqual(['hello.txt']);
    expect(ok(r.write_rw)).toBe('written by python');
    expect(await readFile(join(f.root, 'rw', 'w.txt'), 'utf8')).toBe('written by python');
    expect(ok(r.mkdir_rw)).toBe('deep');
    expect(await readFile(join(f.root, 'rw', 'm', 'n', 'f.txt'), 'utf8')).toBe('deep');
    expect(ok(r.packed)).toBe('{"packed":true}');
  });

  it('names the capability for a missing environment variable; get and in work as usual', () => {
    expect(err(r.env_missing)).toMatchObject({
      type: 'KeyError',
      message: 'environment variable NOT_GRANTED is not set for this service; to pass it from the host, add it to [capabilities.env] allow in fabricks.toml',
    });
    expect(ok(r.env_get)).toEqual([null, false, 'yes']);
  });

  it('sees no folder at all without mounts', async () => {
    const bare = await service(pyToml('main.py', '\n[package]\nname = "folders-py-bare"\nversion = "1.0.0"\n'), 'main.py', 'import os, sys\ntry:\n    os.listdir("/data")\nexcept FileNotFoundError as e:\n    sys.exit(0 if "no folder is granted at /data" in str(e) else 4)\nsys.exit(3)\n');
    expect(await runOn(engine, bare, { args: ['svc'], env: [] })).toEqual({ status: 0 });
    expect(await runOn(engine, bare, { args: ['svc'], env: [], mounts: [] })).toEqual({ status: 0 });
  });
});

describe.each(ENGINES)('granted folders, from JavaScript, on %s', (engine) => {
  let f: Fixture;
  let r: Record<string, Outcome>;
  beforeAll(async () => {
    const svc = await service(jsToml('main.js', '\n[package]\nname = "folders-js"\nversion = "1.0.0"\n'), 'main.js', JS);
    ({ f, r } = await runProbes(engine, svc));
  });

  it('cannot reach outside its mounts: /etc, .. out of the source and out of a mount, planted and made links, a link moved into a folder\'s place', () => {
    expect(err(r.etc_passwd)).toMatchObject({ code: 'ENOENT', message: expect.stringMatching(NOT_GRANTED) });
    expect(err(r.listdir_etc)).toMatchObject({ code: 'ENOENT', message: expect.stringMatching(NOT_GRANTED) });
    expect(err(r.dotdot_source).code).toBe('ENOENT');
    for (const name of ['dotdot_mount', 'planted_link_dir', 'planted_link_file', 'guest_symlink', 'rename_then_read']) {
      expect(err(r[name]).code, name).toBe('EPERM');
    }
    expectNothingEscaped(f, r);
  });

  it('cannot write to a read-only mount (a thrown Error, a rejected promise) and says which capability to change', () => {
    for (const name of ['write_ro', 'write_ro_promise', 'mkdir_ro']) {
      expect(err(r[name]), name).toMatchObject({ type: 'Error', code: 'EROFS', message: expect.stringMatching(READ_ONLY) });
    }
    expectNothingEscaped(f, r);
  });

  it('reads, lists, writes and makes folders in its mounts, sync and promises; packed files stay readable', async () => {
    expect(ok(r.read)).toBe('hello');
    expect(ok(r.read_promise)).toBe('hello');
    expect(ok(r.listdir)).toEqual(['a.txt', 'b.txt']);
    expect(ok(r.listdir_promise)).toEqual(['a.txt', 'b.txt']);
    expect(ok(r.exists)).toEqual([true, false, false]);
    expect(ok(r.write_rw)).toBe('written by js');
    expect(await readFile(join(f.root, 'rw', 'w.txt'), 'utf8')).toBe('written by js');
    expect(ok(r.mkdir_rw)).toEqual([['n'], 'deep']);
    expect(await readFile(join(f.root, 'rw', 'p', 'f.txt'), 'utf8')).toBe('deep');
    expect(ok(r.packed)).toEqual(['{"packed":true}', '{"packed":true}']);
  });
});

/**
 * The host side alone, called as a guest would call it: a folder opened, renamed, and an escaping
 * link moved into its place; the old descriptor must not lead through the link.
 */
describe('folders() on the host', () => {
  type D = Record<string, (...a: unknown[]) => unknown>;
  const FOLLOW = { symlinkFollow: true };

  it('keeps a descriptor inside its mount when its folder is swapped for an escaping link', async () => {
    const f = await fixture();
    const fs = folders(f.mounts);
    const [rw] = fs.preopens.getDirectories().find(([, g]) => g === '/rw')! as [D, string];
    const d = rw.openAt(FOLLOW, 'd', { directory: true }, { read: true }) as D;
    rw.renameAt('d', rw, 'd-moved');
    rw.renameAt('evil', rw, 'd');
    expect(() => d.openAt(FOLLOW, 'secret.txt', {}, { read: true })).toThrow();
    expect(() => d.statAt(FOLLOW, 'secret.txt')).toThrow();
    expect(() => d.readDirectory()).toThrow();
  });

  it('refuses .., absolute paths, links and writes on a read-only mount', async () => {
    const f = await fixture();
    const fs = folders(f.mounts);
    const dirs = new Map(fs.preopens.getDirectories().map(([d, g]) => [g, d as D]));
    const data = dirs.get('/data')!;
    const rw = dirs.get('/rw')!;
    expect(() => data.openAt(FOLLOW, '../outside/secret.txt', {}, { read: true })).toThrow();
    expect(() => data.openAt(FOLLOW, '/etc/passwd', {}, { read: true })).toThrow();
    const sub = data.openAt(FOLLOW, 'sub', { directory: true }, { read: true }) as D;
    expect(() => sub.openAt(FOLLOW, '../../outside/secret.txt', {}, { read: true })).toThrow();
    expect(() => rw.symlinkAt('../outside', 'link')).toThrow();
    expect(() => lstatSync(join(f.root, 'rw', 'link'))).toThrow();
    expect(() => data.openAt(FOLLOW, 'new.txt', { create: true }, { write: true })).toThrow();
    expect(() => data.createDirectoryAt('x')).toThrow();
    expect(() => data.unlinkFileAt('hello.txt')).toThrow();
    expect(() => data.renameAt('hello.txt', data, 'moved.txt')).toThrow();
    expect(existsSync(join(f.root, 'data', 'hello.txt'))).toBe(true);
    expect(data.getFlags()).toMatchObject({ write: false });
    expect(rw.getFlags()).toMatchObject({ write: true });
  });
});
