import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, cp, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers.js';

/**
 * examples/<name>'s node_modules, installed with npm ci from its lock file once per lock file
 * (kept in the temp folder between runs, shared by the tests and the benches, scripts/bench-lib.mjs).
 */
export function exampleNodeModules(name: string): Promise<string> {
  return lockedNodeModules(join(repoRoot, 'examples', name), name);
}

/** The node_modules of `folder`'s package.json and package-lock.json, installed with npm ci once per lock file. */
export async function lockedNodeModules(folder: string, name: string): Promise<string> {
  const lock = await readFile(join(folder, 'package-lock.json'));
  const cache = join(tmpdir(), 'fabricks-test-npm', `${name}-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`);
  const modules = join(cache, 'node_modules');
  if (await access(join(modules, '.package-lock.json')).then(() => true, () => false)) return modules;
  const work = await mkdtemp(join(tmpdir(), 'fabricks-test-npm-'));
  await cp(join(folder, 'package.json'), join(work, 'package.json'));
  await cp(join(folder, 'package-lock.json'), join(work, 'package-lock.json'));
  await promisify(execFile)('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: work });
  await mkdir(cache, { recursive: true });
  // another run may have finished the same install meanwhile: theirs is as good as ours
  await rename(join(work, 'node_modules'), modules).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
  return modules;
}
