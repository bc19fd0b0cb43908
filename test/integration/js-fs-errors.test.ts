import { beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fabricks, jsToml } from '../helpers.js';

/**
 * The errors fs gives a JavaScript service for what its mounts refuse, through `fabricks run`
 * with real mounts, on both engines (issue 17): Node's shape (code, errno, syscall, path, dest)
 * and a message that names the mount and why, where it said only "operation not permitted", or
 * named the wrong mount for a rename between two.
 */

const PROGRAM = String.raw`
import fs from 'node:fs';
const results = {};
function probe(name, fn) {
  try {
    fn();
    results[name] = 'ok';
  } catch (e) {
    results[name] = { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest, message: e.message };
  }
}
probe('dotdot', () => fs.readFileSync('/data/../etc/passwd'));
probe('dotdot_write', () => fs.writeFileSync('/data/sub/../../tmp/x', 'x'));
probe('link_folder', () => fs.readFileSync('/data/escape/secret.txt'));
probe('link_file', () => fs.statSync('/data/escape-file'));
probe('rename_between', () => fs.renameSync('/data/f.txt', '/other/f.txt'));
probe('rename_to_read_only', () => fs.renameSync('/data/f.txt', '/ro/f.txt'));
probe('rename_in_read_only', () => fs.renameSync('/ro/r.txt', '/ro/s.txt'));
probe('rename_dotdot', () => fs.renameSync('/data/f.txt', '/data/../f.txt'));
probe('rename_ungranted', () => fs.renameSync('/data/f.txt', '/etc/f.txt'));
probe('rename_inside', () => fs.renameSync('/data/f.txt', '/data/sub/g.txt'));
console.log(JSON.stringify(results));
`;

interface Refusal {
  code: string;
  errno: number;
  syscall: string;
  path: string;
  dest?: string;
  message: string;
}

/** Mounts /data and /other (rw, on another file system) and /ro, next to a folder no mount grants, with links planted to it. */
async function setup(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'fabricks-fs-errors-'));
  for (const d of ['app', 'data/sub', 'ro', 'outside']) await mkdir(join(root, d), { recursive: true });
  // a rename from one file system to another cannot be made: /other is in memory
  const other = await mkdtemp('/dev/shm/fabricks-fs-errors-');
  await writeFile(join(root, 'outside', 'secret.txt'), 'SECRET');
  await writeFile(join(root, 'data', 'f.txt'), 'f');
  await writeFile(join(root, 'ro', 'r.txt'), 'r');
  await symlink('../outside', join(root, 'data', 'escape'));
  await symlink('../outside/secret.txt', join(root, 'data', 'escape-file'));
  const mounts = [
    `{ guest = "/data", host = "${join(root, 'data')}", mode = "rw" }`,
    `{ guest = "/other", host = "${other}", mode = "rw" }`,
    `{ guest = "/ro", host = "${join(root, 'ro')}", mode = "ro" }`,
  ];
  await writeFile(join(root, 'app', 'fabricks.toml'), jsToml('main.js', `\n[package]\nname = "fs-errors"\nversion = "1.0.0"\n\n[capabilities.filesystem]\nmounts = [${mounts.join(', ')}]\n`));
  await writeFile(join(root, 'app', 'main.js'), PROGRAM);
  return root;
}

describe('fs errors for what a mount refuses', () => {
  let root: string;
  let r: Record<string, Refusal | 'ok'>;
  beforeAll(async () => {
    root = await setup();
    const run = await fabricks(['run', '-q', join(root, 'app')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    r = JSON.parse(run.stdout) as Record<string, Refusal | 'ok'>;
  });

  it('says that a .. leads out of the mount, in Node\'s shape', () => {
    expect(r.dotdot).toEqual({ code: 'EPERM', errno: -1, syscall: 'open', path: '/data/../etc/passwd', message: "EPERM: operation not permitted ('..' leads out of the mount /data; a service reaches only the folders mounted for it: to reach another one, add it to [capabilities.filesystem] mounts in fabricks.toml), open '/data/../etc/passwd'" });
    expect(r.dotdot_write).toMatchObject({ code: 'EPERM', syscall: 'open', message: "EPERM: operation not permitted ('..' leads out of the mount /data; a service reaches only the folders mounted for it: to reach another one, add it to [capabilities.filesystem] mounts in fabricks.toml), open '/data/sub/../../tmp/x'" });
    expect(existsSync(join(root, 'tmp'))).toBe(false);
  });

  it('names the link planted in the mount that leads out of it', () => {
    expect(r.link_folder).toMatchObject({ code: 'EPERM', syscall: 'open', path: '/data/escape/secret.txt', message: "EPERM: operation not permitted (/data/escape is a symbolic link leading out of the mount /data; a service reaches only the folders mounted for it: to reach another one, add it to [capabilities.filesystem] mounts in fabricks.toml), open '/data/escape/secret.txt'" });
    expect(r.link_file).toMatchObject({ code: 'EPERM', syscall: 'stat', message: "EPERM: operation not permitted (/data/escape-file is a symbolic link leading out of the mount /data; a service reaches only the folders mounted for it: to reach another one, add it to [capabilities.filesystem] mounts in fabricks.toml), stat '/data/escape-file'" });
    expect(JSON.stringify(r)).not.toContain('SECRET');
  });

  it('refuses a rename between two mounts as EXDEV naming both, and says to copy', () => {
    expect(r.rename_between).toEqual({
      code: 'EXDEV',
      errno: -18,
      syscall: 'rename',
      path: '/data/f.txt',
      dest: '/other/f.txt',
      message: "EXDEV: cross-device link not permitted (renames between the mounts /data and /other are not possible; copy instead), rename '/data/f.txt' -> '/other/f.txt'",
    });
    // into a read-only mount: that mount is named, never the read-write one it comes from
    expect(r.rename_to_read_only).toMatchObject({ code: 'EROFS', syscall: 'rename', dest: '/ro/f.txt', message: expect.stringContaining('the folder /ro is granted read-only') });
  });

  it('names the right mount and both paths for the other refused renames', async () => {
    expect(r.rename_in_read_only).toMatchObject({ code: 'EROFS', syscall: 'rename', path: '/ro/r.txt', dest: '/ro/s.txt', message: expect.stringMatching(/^EROFS: the folder \/ro is granted read-only; .*, rename '\/ro\/r\.txt' -> '\/ro\/s\.txt'$/) });
    expect(r.rename_dotdot).toMatchObject({ code: 'EPERM', dest: '/data/../f.txt', message: "EPERM: operation not permitted ('..' leads out of the mount /data; a service reaches only the folders mounted for it: to reach another one, add it to [capabilities.filesystem] mounts in fabricks.toml), rename '/data/f.txt' -> '/data/../f.txt'" });
    expect(r.rename_ungranted).toMatchObject({ code: 'ENOENT', path: '/data/f.txt', dest: '/etc/f.txt', message: expect.stringMatching(/^ENOENT: no folder is granted at \/etc; .*, rename '\/data\/f\.txt' -> '\/etc\/f\.txt'$/) });
    expect(r.rename_inside).toBe('ok');
    expect(await readFile(join(root, 'data', 'sub', 'g.txt'), 'utf8')).toBe('f');
  });
});
