import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, fabricks, jsToml, project } from '../helpers.js';

const sha = async (path: string) => `sha256:${createHash('sha256').update(await readFile(path)).digest('hex')}`;

/** Flips one bit at `where` (a fraction of the file), keeping its size (and so passing any size check). */
async function flipBit(path: string, where: number): Promise<void> {
  const size = (await stat(path)).size;
  const fh = await open(path, 'r+');
  try {
    const at = Math.floor(size * where);
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0]! ^= 0x10;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

describe('a damaged store', () => {
  let home: string;
  let dir: string;
  const blob = (digest: string) => join(home, 'store', 'blobs', 'sha256', digest.slice(7));
  const run = (args: string[]) => fabricks(args, { home });
  let built: { runtime: { digest: string; size: number }; module: { digest: string }; component: { digest: string } };

  beforeAll(async () => {
    // a home of its own: these tests damage it
    home = await mkdtemp(join(tmpdir(), 'fabricks-damaged-'));
    dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "damaged"\nversion = "1.0.0"\n'), 'main.js': 'console.log("intact");\n' });
    const r = await run(['build', dir, '--json', '-q']);
    expect(r.status, r.stderr).toBe(0);
    built = JSON.parse(r.stdout);
  });

  it('finds a flipped bit in the runtime before composing from it, and the build restores the runtime', async () => {
    await flipBit(blob(built.runtime.digest), 0.5);
    await writeFile(join(dir, 'main.js'), 'console.log("rebuilt on a good runtime");\n');
    const r = await run(['build', dir, '--json', '--progress', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const seen = events(r.stderr);
    expect(seen).toContainEqual(expect.objectContaining({ event: 'note', code: 'damaged-blob', subject: built.runtime.digest }));
    expect(seen).toContainEqual(expect.objectContaining({ event: 'step-done', step: 'runtime-build', digest: built.runtime.digest }));
    expect(await sha(blob(built.runtime.digest))).toBe(built.runtime.digest);
    expect((await readdir(join(home, 'store', '.fabricks', 'quarantine'))).some((n) => n.startsWith(built.runtime.digest.slice(7)))).toBe(true);
    const out = await run(['run', '-q', dir]);
    expect(out.stdout).toBe('rebuilt on a good runtime\n');
  });

  it('runtime build --force replaces a damaged runtime blob with good bytes', async () => {
    await flipBit(blob(built.runtime.digest), 0.25);
    const r = await run(['runtime', 'build', 'node', '--force', '--json', '-q']);
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { digest: string };
    expect(printed.digest).toBe(built.runtime.digest);
    expect(await sha(blob(printed.digest))).toBe(printed.digest);
  });

  it('builds again, rather than "up to date", when the module layer is deleted or damaged, and restores it', async () => {
    const ok = JSON.parse((await run(['build', dir, '--json', '-q'])).stdout) as { cached: boolean; module: { digest: string } };
    expect(ok.cached).toBe(true);
    await rm(blob(ok.module.digest));
    const afterDelete = JSON.parse((await run(['build', dir, '--json', '-q'])).stdout) as { cached: boolean };
    expect(afterDelete.cached).toBe(false);
    expect(await sha(blob(ok.module.digest))).toBe(ok.module.digest);

    await flipBit(blob(ok.module.digest), 0.5);
    const afterFlip = JSON.parse((await run(['build', dir, '--json', '-q'])).stdout) as { cached: boolean };
    expect(afterFlip.cached).toBe(false);
    expect(await sha(blob(ok.module.digest))).toBe(ok.module.digest);
  });

  it('fabricks verify hashes every blob, moves a damaged one aside and says how to restore it', async () => {
    const healthy = await run(['verify', '--json', '-q']);
    expect(healthy.status, healthy.stderr).toBe(0);
    expect(JSON.parse(healthy.stdout)).toMatchObject({ ok: true, damaged: [], index: 'ok', broken: [] });

    const current = JSON.parse((await run(['build', dir, '--json', '-q'])).stdout) as { module: { digest: string } };
    // a flip that keeps size and mtime is still found: verify hashes whatever earlier checks said
    const { mtime } = await stat(blob(current.module.digest));
    await flipBit(blob(current.module.digest), 0.75);
    const { utimes } = await import('node:fs/promises');
    await utimes(blob(current.module.digest), mtime, mtime);
    const r = await run(['verify', '--json', '-q']);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; damaged: string[]; broken: Array<{ reference: string; restore: string }> };
    expect(report.damaged).toEqual([current.module.digest]);
    expect(report.broken).toEqual([expect.objectContaining({ reference: 'damaged:1.0.0', restore: expect.stringContaining('fabricks build') })]);
    const human = await run(['verify']);
    expect(human.stdout).toMatch(/damaged:1\.0\.0 lacks 1 blob: restore it with fabricks build/);

    expect((await run(['build', dir, '-q'])).status).toBe(0);
    expect((await run(['verify', '-q'])).status).toBe(0);
  });

  it('a truncated index.json is reported as damaged, not as "not in the store", and verify --repair clears the way', async () => {
    const index = join(home, 'store', 'index.json');
    const good = await readFile(index);
    await truncate(index, Math.floor(good.length / 2));
    for (const args of [['run', 'damaged:1.0.0'], ['inspect', 'damaged:1.0.0'], ['runtime', 'list']]) {
      const r = await run(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`error: ${index} is not a valid OCI index`);
      expect(r.stderr).not.toMatch(/not in the local store|not built yet/);
    }
    const check = await run(['verify', '--json', '-q']);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: false, index: 'damaged' });
    const repair = await run(['verify', '--repair', '--json', '-q']);
    expect(JSON.parse(repair.stdout)).toMatchObject({ index: 'moved-aside' });
    const rebuilt = await run(['build', dir, '-q']);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect((await run(['run', '-q', 'damaged:1.0.0'])).status).toBe(0);
  });
});
