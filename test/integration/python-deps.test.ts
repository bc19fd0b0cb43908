import { describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { events, exists, fabricks, project, pyToml } from '../helpers.js';

// Real resolutions and downloads from the Python package index, through the machine's pip.
const wheels = () => join(inject('fabricksHome'), 'cache', 'wheels');
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
type Lock = { python?: { packages: Array<{ name: string; version: string; wheel: string; sha256: string }> } };
const lockOf = async (dir: string): Promise<Lock> => {
  const { parse } = await import('smol-toml');
  return parse(await readFile(join(dir, 'fabricks.lock'), 'utf8')) as Lock;
};

describe('Python dependencies', () => {
  it('resolves requirements.txt to pure-Python wheels, pins them in fabricks.lock, and packs them importable with their metadata', async () => {
    const dir = await project({
      'fabricks.toml': pyToml(),
      'requirements.txt': '# dates\npython-dateutil==2.9.0.post0\n',
      'main.py': [
        'import importlib.metadata',
        'import dateutil.parser',
        'print(dateutil.parser.isoparse("2026-11-24T05:00:00").isoformat(), importlib.metadata.version("six"), importlib.metadata.version("python-dateutil"))',
        '',
      ].join('\n'),
    });
    const built = await fabricks(['build', dir, '--progress', 'json']);
    expect(built.status, built.stderr).toBe(0);
    expect(events(built.stderr)).toContainEqual(expect.objectContaining({ event: 'step-done', step: 'dependencies', size: 2 }));
    const lock = await lockOf(dir);
    expect(lock.python?.packages.map((p) => [p.name, p.version])).toEqual([
      ['python-dateutil', '2.9.0.post0'],
      ['six', expect.any(String)],
    ]);
    for (const p of lock.python!.packages) {
      expect(p.wheel).toMatch(/-none-any\.whl$/);
      expect(await sha(join(wheels(), p.wheel))).toBe(p.sha256);
    }
    const ran = await fabricks(['run', '-q', dir]);
    expect(ran.status, ran.stderr).toBe(0);
    const six = lock.python!.packages.find((p) => p.name === 'six')!;
    expect(ran.stdout).toBe(`2026-11-24T05:00:00 ${six.version} 2.9.0.post0\n`);

    // pinned: the next build asks pip nothing and is answered from the build cache
    const again = await fabricks(['build', dir, '--json', '--progress', 'json']);
    expect(again.status, again.stderr).toBe(0);
    expect(events(again.stderr).filter((e) => e.event === 'step-start' && e.step === 'dependencies')).toEqual([]);
    expect((JSON.parse(again.stdout) as { cached: boolean }).cached).toBe(true);

    // a damaged cached wheel is not packed: it is fetched again and checked against the pin
    const damaged = join(wheels(), six.wheel);
    await writeFile(damaged, 'not a wheel');
    await writeFile(join(dir, 'main.py'), 'import six\nprint(six.__version__)\n');
    const restored = await fabricks(['run', '-q', dir]);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toBe(`${six.version}\n`);
    expect(await sha(damaged)).toBe(six.sha256);
  });

  it('a module of the project wins over a dependency of the same name; [project] dependencies in pyproject.toml are read', async () => {
    const dir = await project({
      'fabricks.toml': pyToml(),
      'pyproject.toml': '[project]\nname = "mine"\nversion = "1"\ndependencies = ["six==1.17.0"]\n',
      'six.py': 'WHOSE = "the project\'s own six"\n',
      'main.py': 'import importlib.metadata\nimport six\nprint(six.WHOSE, importlib.metadata.version("six"))\n',
    });
    const ran = await fabricks(['run', '-q', dir]);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toBe("the project's own six 1.17.0\n");
    expect((await lockOf(dir)).python?.packages.map((p) => p.name)).toEqual(['six']);
  });

  it('a compiled dependency with no wheel for the runtime\'s CPython fails the build, naming it, what requires it, and the versions that would do; nothing is written', async () => {
    const dir = await project({
      'fabricks.toml': pyToml(),
      'pyproject.toml': '[project]\nname = "compiled"\nversion = "1"\ndependencies = ["pydantic==2.10.6"]\n',
      'main.py': 'import pydantic\n',
    });
    const r = await fabricks(['build', dir]);
    expect(r.status).toBe(1);
    // pydantic 2.10.6 pins pydantic-core 2.27.2, which predates CPython 3.14 (no wheel of it, and PyO3 0.22 does not build for 3.14)
    expect(r.stderr).toContain('error: the Python package pydantic-core==2.27.2 (required by pydantic) has no wheel for CPython 3.14 on the package index, pure-Python or compiled');
    expect(r.stderr).toMatch(/hint: that version predates Python 3\.14; the versions with a 3\.14 wheel are [\d.]+, .*: require one of those, or a newer pydantic that does/);
    expect(r.stderr).not.toContain('ResolutionImpossible');
    expect(await exists(join(dir, 'fabricks.lock'))).toBe(false);
    expect(await exists(join(dir, '.fabricks', 'app.wasm'))).toBe(false);
  });

  it('requirements that conflict fail with the conflict pip found, not ResolutionImpossible alone', async () => {
    const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'pydantic==2.12.0\npydantic-core==2.41.0\n', 'main.py': 'import pydantic\n' });
    const r = await fabricks(['build', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: the Python requirements conflict: no set of versions satisfies them all');
    expect(r.stderr).toContain('  - The user requested pydantic-core==2.41.0');
    expect(r.stderr).toContain('  - pydantic 2.12.0 depends on pydantic-core==2.41.1');
    expect(r.stderr).toContain('hint: loosen or change the requirements named above so that they agree');
  });

  it('a wheel that does not match its pinned hash fails the build, naming the package', async () => {
    const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'six==1.17.0\n', 'main.py': 'import six\n' });
    expect((await fabricks(['build', '-q', dir])).status).toBe(0);
    const lockFile = join(dir, 'fabricks.lock');
    const lock = await lockOf(dir);
    const six = lock.python!.packages[0]!;
    // the lock now pins other bytes than the index serves, and the cache does not have them
    await writeFile(lockFile, (await readFile(lockFile, 'utf8')).replace(six.sha256, '0'.repeat(64)));
    await writeFile(join(dir, 'main.py'), 'import six\nprint(1)\n');
    await rm(join(wheels(), six.wheel), { force: true });
    const r = await fabricks(['build', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the wheel of six 1.17.0 does not match the hash in fabricks.lock');
  });

  it('refuses requirement options that would make the build depend on more than the file', async () => {
    const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'six==1.17.0\n-r other.txt\n', 'main.py': 'print(1)\n' });
    const r = await fabricks(['build', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/requirements\.txt:2: "-r other\.txt" is not supported/);
  });
});
