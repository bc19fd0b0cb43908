import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fabricks, repoRoot } from '../helpers.js';

/**
 * fs and fs/promises as Node documents them (issue 19, point 4): one program
 * (test/fixtures/fs-node/main.js), built once, runs each case under fabricks with a fresh folder
 * mounted at /data and under node on the host against an equal folder; what they print must be
 * the same, byte for byte, once the host folder's path reads /data. The program prints no inode
 * numbers or times it did not set.
 */

const fixture = join(repoRoot, 'test', 'fixtures', 'fs-node');
const CASES = ['paths', 'handles', 'streams', 'tree', 'meta', 'packed'];

/** The folder every case starts from: files, a binary, a large file, folders and links (one dangling). */
async function seed(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'sub', 'deep'), { recursive: true });
  await mkdir(join(dir, 'empty'));
  await writeFile(join(dir, 'a.txt'), 'alpha\n');
  await writeFile(join(dir, 'b.bin'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  await writeFile(join(dir, 'big.txt'), 'abcdefghij'.repeat(10000));
  await writeFile(join(dir, 'sub', 'c.txt'), 'gamma');
  await writeFile(join(dir, 'sub', 'deep', 'd.txt'), 'delta');
  await symlink('a.txt', join(dir, 'link-a'));
  await symlink('sub', join(dir, 'link-sub'));
  await symlink('link-a', join(dir, 'link-chain'));
  await symlink('nowhere', join(dir, 'dangling'));
}

describe('fs and fs/promises as in Node', () => {
  let root: string;
  let app: string;
  beforeAll(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'fabricks-fs-node-')));
    app = join(root, 'app');
    await cp(fixture, app, { recursive: true });
    await mkdir(join(app, 'data'));
    await mkdir(join(app, 'ro'));
    await writeFile(join(app, 'ro', 'r.txt'), 'read only');
    // node on the host takes the program as a module
    await mkdir(join(root, 'native'));
    await cp(join(app, 'main.js'), join(root, 'native', 'main.mjs'));
    await cp(join(app, 'assets'), join(root, 'native', 'assets'), { recursive: true });
    const built = await fabricks(['build', '-q', app]);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
  }, 600_000);

  for (const name of CASES) {
    it(`${name}: the same output as node on the host`, async () => {
      const guest = join(root, `guest-${name}`);
      const host = join(root, `host-${name}`);
      await seed(guest);
      await seed(host);
      const r = await fabricks(['run', '-q', '--mount', `${guest}:/data`, app, '--', name]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const native = await promisify(execFile)(process.execPath, [join(root, 'native', 'main.mjs'), name], {
        cwd: root,
        env: { ...process.env, BASE: host, PACKED: join(root, 'native') },
      }).catch((e: { stdout: string; stderr: string }) => e);
      expect(native.stderr).toBe('');
      // the program's own files are at the top of the module layer under fabricks
      const expected = native.stdout.split(host).join('/data').split(join(root, 'native')).join('');
      expect(expected.split('\n').length).toBeGreaterThan(12);
      expect(r.stdout.split('\n')).toEqual(expected.split('\n'));
      // and the host folder holds what node's left behind
      const a = await readFile(join(guest, 'a.txt')).catch(() => null);
      const b = await readFile(join(host, 'a.txt')).catch(() => null);
      expect(a).toEqual(b);
    }, 120_000);
  }

  it('a read-only mount refuses every change as EROFS naming the setting; watch and symlinks are refused when called', async () => {
    const guest = join(root, 'guest-sandbox');
    await seed(guest);
    const r = await fabricks(['run', '-q', '--mount', `${guest}:/data`, app, '--', 'sandbox']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const value = (text: string) => (text === 'undefined' ? undefined : (JSON.parse(text) as Record<string, unknown>));
    const lines = new Map(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(': ')), value(l.slice(l.indexOf(': ') + 2))]));
    const readOnly = 'the folder /ro is granted read-only; to write to it, set mode = \\"rw\\" for it in [capabilities.filesystem] mounts in fabricks.toml';
    for (const [label, syscall] of [
      ['writeFileSync threw', 'open'], ['openSync w threw', 'open'], ['mkdirSync threw', 'mkdir'], ['chmodSync threw', 'chmod'],
      ['utimesSync threw', 'utime'], ['truncateSync threw', 'open'], ['accessSync W_OK threw', 'access'], ['rmSync threw', 'rm'],
      ['copyFileSync into threw', 'copyfile'], ['symlinkSync read-only threw', 'symlink'], ['mkdtempSync threw', 'mkdtemp'],
      ['promises.appendFile rejected', 'open'], ['write stream error', 'open'],
    ]) {
      expect(lines.get(label!), label).toMatchObject({ code: 'EROFS', errno: -30, syscall });
      expect(JSON.stringify(lines.get(label!)), label).toContain(readOnly);
    }
    expect(lines.get('writeFileSync threw')?.message).toBe(`EROFS: ${readOnly.replaceAll('\\"', '"')}, open '/ro/r.txt'`);
    // reading is what the mount grants; an fd opened for reading refuses writes as Linux does
    expect(lines.get('accessSync R_OK')).toBeUndefined();
    expect(lines.get('read still works')).toBe('read only');
    expect(lines.get('handle write rejected')).toMatchObject({ code: 'EBADF', syscall: 'write', message: 'EBADF: bad file descriptor, write' });
    expect(await readFile(join(app, 'ro', 'r.txt'), 'utf8')).toBe('read only');
    // the engine lets a service make no symbolic links (one could later be moved to point out of its mount)
    expect(lines.get('symlinkSync threw')).toMatchObject({ code: 'EPERM', syscall: 'symlink', path: 'a.txt', dest: '/data/new-link', message: expect.stringContaining('a service cannot make symbolic links') });
    expect(lines.get('promises.symlink rejected')).toMatchObject({ code: 'EPERM', syscall: 'symlink' });
    for (const name of ['watch', 'watchFile', 'promises.watch']) {
      const label = name === 'promises.watch' ? 'promises.watch rejected' : `${name} threw`;
      expect(lines.get(label), label).toEqual({ name: 'Error', code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', message: `fs.${name} is not available inside a fabricks sandbox: the host does not tell a service when files change; poll with fs.stat instead` });
    }
    expect(r.stdout).toContain('unwatchFile: undefined');
    // nothing outside the mounts: not read, not resolved, not linked to
    expect(lines.get('outside the mounts threw')).toMatchObject({ code: 'ENOENT', syscall: 'open', path: '/etc/passwd', message: expect.stringContaining('no folder is granted at /etc; add a mount for it to [capabilities.filesystem] mounts') });
    expect(lines.get('realpath outside threw')).toMatchObject({ code: 'ENOENT', path: '/etc' });
    expect(lines.get('link out of the mount threw')).toMatchObject({ code: 'ENOENT', syscall: 'link', dest: '/etc/a.txt' });
    expect(r.stdout).not.toContain('root:');
    // the packed files are read-only
    expect(lines.get('write a packed file threw')).toMatchObject({ code: 'EROFS', syscall: 'open', path: '/assets/hello.txt' });
    expect(lines.get('open a packed file for writing threw')).toMatchObject({ code: 'EROFS', syscall: 'open', message: expect.stringContaining('the files packed into the module layer are read-only') });
  }, 120_000);
});
