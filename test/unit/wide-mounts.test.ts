import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkWideMounts, wideness } from '../../src/app/wide-mounts.js';
import { FROM_PROJECT, resolveGrants, type GrantedMount } from '../../src/app/grants.js';
import { FabricksError } from '../../src/util/errors.js';

const caps = (mode: 'ro' | 'rw') => ({
  network: { listen: [], connect: [] },
  env: { allow: [], set: {} },
  filesystem: { mounts: [{ guest: '/x', mode }] },
});

async function refusal(mounts: GrantedMount[], home: string): Promise<FabricksError> {
  const e = await checkWideMounts(mounts, false, home).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(FabricksError);
  return e as FabricksError;
}

describe('read-write mounts of /, the home folder or a folder holding it', () => {
  it('are too wide; a folder inside the home folder, or beside it, is not', () => {
    expect(wideness('/', '/home/me')).toMatch(/the root of this machine's file system/);
    expect(wideness('/home/me', '/home/me')).toMatch(/your home folder/);
    expect(wideness('/home', '/home/me')).toMatch(/holds your home folder \/home\/me/);
    expect(wideness('/home/me/project/data', '/home/me')).toBeUndefined();
    expect(wideness('/home/meg', '/home/me')).toBeUndefined();
    expect(wideness('/tmp/out', '/home/me')).toBeUndefined();
    // a home of / (HOME=/ in a container) leaves / the only wide folder
    expect(wideness('/tmp', '/')).toBeUndefined();
  });

  it('are refused from fabricks.toml, --mount and --allow-mount alike, naming the field or flag and --allow-wide-mount', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    const fromToml = resolveGrants(caps('rw'), [{ guest: '/x', host: '/', mode: 'rw' }], {}, {}, '/work');
    const e1 = await refusal(fromToml.mounts, home);
    expect(e1.code).toBe('USAGE');
    expect(e1.message).toBe(`[capabilities.filesystem] mounts in fabricks.toml: the mount at /x would let the service write to /, and / is the root of this machine's file system`);
    expect(e1.hint).toMatch(/set mode = "ro" for it; to grant it anyway for this run, pass --allow-wide-mount/);
    const byMount = resolveGrants(caps('rw'), undefined, {}, { mount: ['/:/x'] }, '/work');
    expect((await refusal(byMount.mounts, home)).message).toMatch(/^--mount \/:\/x: the mount at \/x would let the service write to \//);
    const byAllow = resolveGrants(caps('ro'), [{ guest: '/x', host: '/tmp', mode: 'ro' }], {}, { allowMount: ['/:/y:rw'] }, '/work');
    const e3 = await refusal(byAllow.mounts, home);
    expect(e3.message).toMatch(/^--allow-mount \/:\/y:rw: the mount at \/y/);
    expect(e3.hint).toBe('mount a narrower folder, or read-only (/:/y:ro); to grant it anyway for this run, add --allow-wide-mount');
    // the home folder, and the folder holding it
    expect((await refusal([{ guest: '/h', host: home, mode: 'rw', from: '--allow-mount h' }], home)).message).toMatch(/is your home folder/);
    expect((await refusal([{ guest: '/h', host: join(home, '..'), mode: 'rw', from: '--allow-mount h' }], home)).message).toMatch(/holds your home folder/);
  });

  it('are found through ".." and links: /tmp/.. and a link to / are /', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    const e = await refusal([{ guest: '/x', host: '/tmp/..', mode: 'rw', from: '--allow-mount /tmp/..:/x:rw' }], home);
    expect(e.message).toMatch(/write to \/tmp\/\.\. \(that is \/\), and \/ is the root/);
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-links-'));
    await symlink('/', join(dir, 'root'));
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await symlink(join(home, 'deep', '..'), join(dir, 'to-home'));
    expect((await refusal([{ guest: '/x', host: join(dir, 'root'), mode: 'rw', from: FROM_PROJECT }], home)).message).toMatch(/\(that is \/\)/);
    expect((await refusal([{ guest: '/x', host: join(dir, 'a', 'b', '..', '..', 'root'), mode: 'rw', from: FROM_PROJECT }], home)).message).toMatch(/\(that is \/\)/);
    await mkdir(join(home, 'deep'));
    expect((await refusal([{ guest: '/x', host: join(dir, 'to-home'), mode: 'rw', from: FROM_PROJECT }], home)).message).toMatch(/is your home folder/);
  });

  it('pass when read-only, when narrower, and with --allow-wide-mount (returned, for the run to warn)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-home-'));
    const mounts: GrantedMount[] = [
      { guest: '/ro', host: '/', mode: 'ro', from: FROM_PROJECT },
      { guest: '/in', host: join(home, 'project'), mode: 'rw', from: FROM_PROJECT },
      { guest: '/beside', host: await mkdtemp(join(tmpdir(), 'fabricks-out-')), mode: 'rw', from: FROM_PROJECT },
    ];
    expect(await checkWideMounts(mounts, false, home)).toEqual([]);
    const root: GrantedMount = { guest: '/x', host: '/tmp/..', mode: 'rw', from: '--allow-mount /tmp/..:/x:rw' };
    const allowed = await checkWideMounts([...mounts, root], true, home);
    expect(allowed).toEqual([{ mount: root, real: '/', why: "/ is the root of this machine's file system" }]);
  });
});
