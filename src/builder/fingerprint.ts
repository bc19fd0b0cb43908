import { mkdir, readFile, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256 } from '../oci/digest.js';
import { writeAtomic } from '../util/atomic.js';
import { packageRoot } from '../util/paths.js';
import { sameStamp, stampOf, type Stamp } from '../util/stamp.js';
import type { BuildOptions, BuildResult } from './build.js';
import { packableNames } from './never-packed.js';

/**
 * A project's fingerprint: the stamps of everything its last build was made from (fabricks.toml,
 * the lock, every source file, the names in every folder walked, the files the bundle read from node_modules,
 * the dependency files beside the source, app.wasm, the store's index, fabricks' own code) and
 * what that build gave. `fabricks run <project>` (and prepare, inspect) trusts it while every
 * stamp holds, instead of a no-op build: no reading or hashing on a client's spawn, and none of
 * the builder's code loaded (a no-op build of hello-js took 15–25 ms and an engine start).
 * Anything changed, added or removed changes a stamp; then the build runs as ever.
 */
const VERSION = 2;

interface Fingerprint {
  version: number;
  settings: string;
  /** null: the path did not exist (it must still not). */
  inputs: Array<[string, Stamp | null]>;
  /** Each source folder walked and the digest of its names that could be packed. */
  folders: Array<[string, string]>;
  result: BuildResult;
}

/** What a package's build is given besides its folder: none for a project's. */
export const buildVariant = (o: Pick<BuildOptions, 'capabilities' | 'published'>) => (o.capabilities || o.published ? { capabilities: o.capabilities ?? null, published: o.published ?? null } : undefined);

export type Inputs = Array<[string, Stamp | null | undefined]>;

/** Source folders by their names, not their stamps: the build itself writes fabricks.lock and .fabricks/ into one. */
export type Folders = Array<[string, string[]]>;

const namesDigest = (names: string[]) => sha256(names.join('\n'));

async function listing(dir: string): Promise<string | undefined> {
  const names = await readdir(dir, { encoding: 'buffer' }).catch(() => undefined);
  return names && namesDigest(packableNames(names));
}

/** Each path still has its stamp, and one absent then (null or undefined) is still absent. */
async function stampsHold(inputs: Inputs): Promise<boolean> {
  const now = await Promise.all(inputs.map(([p]) => stampOf(p)));
  return inputs.every(([, s], i) => (s == null ? now[i] === undefined : sameStamp(s, now[i])));
}

async function foldersHold(folders: Array<[string, string]>): Promise<boolean> {
  const now = await Promise.all(folders.map(([dir]) => listing(dir)));
  return folders.every(([, d], i) => d === now[i]);
}

/**
 * What decides a build's result besides its files: the creation time SOURCE_DATE_EPOCH fixes,
 * and for a package built by name, the capabilities its flags grant and the package it is.
 */
const settings = (variant: unknown) => JSON.stringify([process.env.SOURCE_DATE_EPOCH ?? null, variant ?? null]);

/** The files beside the source that a runtime's dependency step reads when they exist. */
const DEPENDENCY_FILES = ['requirements.txt', 'pyproject.toml', 'package.json', 'package-lock.json'];

/** fabricks' compiled code that decides what a build makes, and its folders (a file added changes one). */
const CODE_DIRS = ['builder', 'compose', 'runtimes', 'config', 'artifact'];

async function fileOf(cacheDir: string, projectDir: string): Promise<string> {
  return join(cacheDir, 'projects', `${digestHex(sha256(await realpath(projectDir)))}.json`);
}

/** The paths a build reads besides its source files, stamped now: take them before the build reads them. */
export async function stampedBefore(dirs: string[]): Promise<Inputs> {
  const paths: string[] = [];
  for (const dir of new Set(dirs)) for (const name of DEPENDENCY_FILES) paths.push(join(dir, name));
  const dist = join(packageRoot, 'dist');
  for (const dir of CODE_DIRS) {
    paths.push(join(dist, dir));
    const names = await readdir(join(dist, dir), { recursive: true }).catch(() => [] as string[]);
    for (const name of names) if (!name.endsWith('.map') && !name.endsWith('.d.ts')) paths.push(join(dist, dir, name));
  }
  return Promise.all(paths.map(async (p) => [p, await stampOf(p)] as [string, Stamp | undefined]));
}

/**
 * Keeps `result` as the build of `projectDir` made from `before` (stamps taken before they were
 * read) and `folders` (as they were listed; each must still hold now, else something changed
 * during the build and nothing is kept) and `after` (what the build wrote, and checked files
 * whose stamps it knows).
 */
export async function rememberBuild(cacheDir: string, projectDir: string, before: Inputs, folders: Folders, after: Inputs, result: BuildResult, variant?: unknown): Promise<void> {
  if (!(await stampsHold(before))) return;
  const listed = folders.map(([dir, names]) => [dir, namesDigest(names)] as [string, string]);
  if (!(await foldersHold(listed))) return;
  if (after.some(([, s]) => s === null)) return; // a stamp not known: not trusted
  const inputs = [...before, ...after].map(([p, s]) => [p, s ?? null] as [string, Stamp | null]);
  const file = await fileOf(cacheDir, projectDir);
  await mkdir(join(cacheDir, 'projects'), { recursive: true });
  const fingerprint: Fingerprint = { version: VERSION, settings: settings(variant), inputs, folders: listed, result };
  await writeAtomic(file, JSON.stringify(fingerprint));
}

/** The build recorded for `projectDir` while nothing it was made from has changed, else undefined. */
export async function unchangedBuild(cacheDir: string, projectDir: string, variant?: unknown): Promise<BuildResult | undefined> {
  try {
    const fingerprint = JSON.parse(await readFile(await fileOf(cacheDir, projectDir), 'utf8')) as Fingerprint;
    if (fingerprint.version !== VERSION || fingerprint.settings !== settings(variant)) return undefined;
    return (await stampsHold(fingerprint.inputs)) && (await foldersHold(fingerprint.folders)) ? fingerprint.result : undefined;
  } catch {
    return undefined; // none yet, unreadable or of another shape: the build writes it again
  }
}
