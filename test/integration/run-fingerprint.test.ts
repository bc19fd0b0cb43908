import { describe, expect, it, inject } from 'vitest';
import { stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fabricks, jsToml, project, pyToml } from '../helpers.js';
import { unchangedBuild } from '../../src/builder/fingerprint.js';

// `fabricks run <project>` trusts the project's fingerprint (src/builder/fingerprint.ts) instead
// of a no-op build while every stamp holds; these change what a build reads in each way a stamp
// must catch, and check that the run sees it, and that an unchanged project is answered from it.

const buildCache = () => join(inject('fabricksHome'), 'cache', 'builds');

async function run(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = await fabricks(['run', '-q', dir, ...args], { env });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** Rewrites a file with bytes of the same size and puts its mtime back: only ctime tells. */
async function sneakyWrite(path: string, text: string) {
  const before = await stat(path);
  await writeFile(path, text);
  await utimes(path, before.atime, before.mtime);
}

describe('fabricks run of a project, through its fingerprint', () => {
  it('answers an unchanged JavaScript project from its fingerprint, and sees a changed source file or dependency', async () => {
    const dir = await project({
      'fabricks.toml': jsToml('main.js'),
      'package.json': '{ "type": "module" }\n',
      'main.js': "import { word } from './word.js';\nimport { dep } from 'dep';\nconsole.log(word, dep);\n",
      'word.js': "export const word = 'alpha';\n",
      'node_modules/dep/package.json': '{ "name": "dep", "version": "1.0.0", "main": "index.js" }\n',
      'node_modules/dep/index.js': "exports.dep = 'one';\n",
    });
    expect(await run(dir)).toBe('alpha one');
    const built = await unchangedBuild(buildCache(), dir);
    expect(built?.manifest.digest).toMatch(/^sha256:/);
    expect(await run(dir)).toBe('alpha one');

    await sneakyWrite(join(dir, 'word.js'), "export const word = 'omega';\n");
    expect(await unchangedBuild(buildCache(), dir)).toBeUndefined();
    expect(await run(dir)).toBe('omega one');
    expect((await unchangedBuild(buildCache(), dir))?.manifest.digest).not.toBe(built?.manifest.digest);

    await sneakyWrite(join(dir, 'node_modules', 'dep', 'index.js'), "exports.dep = 'two';\n");
    expect(await run(dir)).toBe('omega two');
  });

  it('sees a Python module added beside the entrypoint, a changed fabricks.toml, and a changed SOURCE_DATE_EPOCH', async () => {
    const dir = await project({
      'fabricks.toml': pyToml('main.py', '\n[capabilities.env]\nallow = []\n'),
      'main.py': "import os\ntry:\n    import extra\n    print(extra.WORD, os.environ.get('GREETING'))\nexcept ImportError:\n    print('none', os.environ.get('GREETING'))\n",
    });
    expect(await run(dir, [], { GREETING: 'hi' })).toBe('none None');
    await writeFile(join(dir, 'extra.py'), "WORD = 'extra'\n");
    expect(await run(dir, [], { GREETING: 'hi' })).toBe('extra None');

    // the variable is allowed now: the run must not take the old build's capabilities
    await writeFile(join(dir, 'fabricks.toml'), pyToml('main.py', '\n[capabilities.env]\nallow = ["GREETING"]\n'));
    expect(await run(dir, ['--env', 'GREETING'], { GREETING: 'hi' })).toBe('extra hi');

    const plain = await unchangedBuild(buildCache(), dir);
    expect(plain).toBeDefined();
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      expect(await unchangedBuild(buildCache(), dir)).toBeUndefined();
    } finally {
      delete process.env.SOURCE_DATE_EPOCH;
    }
    expect((await unchangedBuild(buildCache(), dir))?.manifest).toEqual(plain?.manifest);
  });
});
