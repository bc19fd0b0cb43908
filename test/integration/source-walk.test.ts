import { describe, expect, it } from 'vitest';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { events, fabricks, jsToml, project } from '../helpers.js';

const listFiles = 'console.log(JSON.stringify(fabricks.files()));\n';

async function packed(dir: string): Promise<{ files: string[]; stderr: string; status: number | null }> {
  const built = await fabricks(['build', dir, '--progress', 'json']);
  if (built.status !== 0) return { files: [], stderr: built.stderr, status: built.status };
  const run = await fabricks(['run', '-q', dir]);
  expect(run.status, run.stderr).toBe(0);
  return { files: JSON.parse(run.stdout) as string[], stderr: built.stderr, status: 0 };
}

describe('which files are packed', () => {
  it('skips a folder link back into an ancestor with a note, instead of following it 40 levels deep', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "walk-loop"\n'), 'main.js': listFiles, 'd/data.txt': 'x' });
    await symlink('..', join(dir, 'd', 'up'));
    await symlink('.', join(dir, 'd', 'self'));
    const r = await packed(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.files.sort()).toEqual(['d/data.txt', 'main.js', 'main.js.map']);
    const notes = events(r.stderr).filter((e) => e.event === 'note');
    expect(notes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'link-skipped', subject: 'd/up' }),
        expect.objectContaining({ code: 'link-skipped', subject: 'd/self' }),
      ]),
    );
  });

  it('follows a folder link that goes elsewhere in the project', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "walk-alias"\n'), 'main.js': listFiles, 'shared/a.txt': 'a', 'app/keep.txt': 'k' });
    await symlink('../shared', join(dir, 'app', 'shared'));
    const r = await packed(dir);
    expect(r.files.sort()).toEqual(['app/keep.txt', 'app/shared/a.txt', 'main.js', 'main.js.map', 'shared/a.txt']);
  });

  it('takes stars inside braces and long runs of stars in exclude (once a bug exit and a hang)', async () => {
    const exclude = `exclude = ["{*.md,*.txt}", "${'*'.repeat(40)}x", "${'*a'.repeat(400)}b"]\n`;
    const dir = await project({ 'fabricks.toml': jsToml('main.js', `${exclude}\n[package]\nname = "walk-long-globs"\n`), 'main.js': listFiles, 'README.md': '', 'd/notes.txt': '', 'd/keep.json': '', [`${'a'.repeat(60)}/${'a'.repeat(60)}.json`]: '' });
    const started = Date.now();
    const r = await packed(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.files.sort()).toEqual([`${'a'.repeat(60)}/${'a'.repeat(60)}.json`, 'd/keep.json', 'main.js', 'main.js.map']);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('never packs fabricks.toml, fabricks.lock, .git or .fabricks, at any depth', async () => {
    const dir = await project({
      'fabricks.toml': jsToml('main.js', '\n[package]\nname = "walk-never"\n'),
      'main.js': listFiles,
      'sub/fabricks.toml': '[from]\nimage = "x"\n',
      'sub/fabricks.lock': 'secret = 1\n',
      'sub/.git/config': '[core]\n',
      'sub/.fabricks/app.wasm': 'old',
      'sub/ok.txt': 'ok',
    });
    const r = await packed(dir);
    expect(r.files.sort()).toEqual(['main.js', 'main.js.map', 'sub/ok.txt']);
  });

  it('refuses a file name that is not UTF-8, showing its bytes; packs the rest when it is excluded', async () => {
    const dir = await project({ 'fabricks.toml': jsToml('main.js', '\n[package]\nname = "walk-bytes"\n'), 'main.js': listFiles });
    await mkdir(join(dir, 'data'));
    await writeFile(Buffer.concat([Buffer.from(join(dir, 'data', 'caf')), Buffer.from([0xe9]), Buffer.from('.txt')]), 'latin-1 name');
    const refused = await fabricks(['build', dir]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('error: data/caf\\xe9.txt has a name that is not valid UTF-8');
    expect(refused.stderr).toContain('hint: rename it');
    expect(refused.stderr).not.toContain('internal error');

    await writeFile(join(dir, 'fabricks.toml'), jsToml('main.js', 'exclude = ["data"]\n\n[package]\nname = "walk-bytes"\n'));
    const r = await packed(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.files.sort()).toEqual(['main.js', 'main.js.map']);
  });
});
