import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { displayPath } from '../util/paths.js';
import type { Context } from '../home/context.js';
import { CONFIG_FILE } from '../config/project.js';
import { capabilitiesFromFlags, type GrantFlags } from '../config/grant-flags.js';
import { parsePackageRef } from '../runtimes/package-ref.js';
import { BUILTIN_REGISTRY, BUILTIN_RUNTIMES } from '../runtimes/catalogue.js';
import { appIdentity, resolvePackage, type PackageOptions } from './package.js';
import { projectToml } from './package-toml.js';

export interface InitResult {
  dir: string;
  /** The files written, fabricks.toml last. */
  files: string[];
  /** The package it was made from, pinned, and its checksum ('' for plain init). */
  pinned: string;
  integrity: string;
  /** The package's program (plain init: the entrypoint). */
  program: string;
  /** What `fabricks build` there will tag. */
  reference: string;
}

const exists = (p: string) => access(p).then(() => true, () => false);

/**
 * `fabricks init --from npm:...|pypi:...`: a project for the user to keep, in `dir`: fabricks.toml
 * (the package's program as entrypoint, granted what the flags name), the registry's files
 * (package.json with node_modules installed, or requirements.txt and the launcher). Nothing that
 * is there already is overwritten, and a failed init takes back what it wrote.
 */
export async function initFrom(text: string, dirArg: string, options: PackageOptions & { grants?: GrantFlags }, ctx: Context): Promise<InitResult> {
  const dir = resolve(dirArg);
  const target = parsePackageRef(text, options.program);
  const capabilities = await capabilitiesFromFlags(options.grants ?? {}, process.cwd(), { values: false });
  if (await exists(join(dir, CONFIG_FILE))) {
    throw new FabricksError('USAGE', `${displayPath(join(dir, CONFIG_FILE))} already exists; fabricks init does not overwrite it`, { hint: 'build it as it is (fabricks build), remove it first, or pass --dir to write the project elsewhere' });
  }
  const pkg = await resolvePackage(target, options.with ?? [], ctx);
  const taken = [];
  for (const [name] of pkg.files) if (await exists(join(dir, name))) taken.push(name);
  if (taken.length) throw new FabricksError('USAGE', `${displayPath(dir)} already has ${taken.join(' and ')}; fabricks init does not overwrite it`, { hint: 'run it in an empty folder, or pass --dir' });
  await mkdir(dir, { recursive: true });
  const before = new Set(await readdir(dir));
  try {
    for (const [name, content] of pkg.files) await writeFile(join(dir, name), content, { flag: 'wx' });
    await target.packages.install?.(pkg, dir, ctx);
    // last, and only if still absent: a failed init leaves no fabricks.toml that a retry would refuse
    await writeFile(join(dir, CONFIG_FILE), projectToml(target, pkg, appIdentity(pkg), dir, capabilities), { flag: 'wx' });
  } catch (e) {
    // what this init wrote goes (the files, what the installer made); what was there stays
    for (const name of await readdir(dir)) if (!before.has(name)) await rm(join(dir, name), { recursive: true, force: true });
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FabricksError('USAGE', `${displayPath(dir)}: a file init writes appeared meanwhile; fabricks init does not overwrite it`);
    throw e;
  }
  const files = (await readdir(dir)).filter((n) => !before.has(n) && n !== CONFIG_FILE).sort();
  const app = appIdentity(pkg);
  return { dir, files: [...files, CONFIG_FILE], pinned: pkg.pinned, integrity: pkg.integrity, program: pkg.program, reference: `${app.name}:${app.version}` };
}

/** The files plain `fabricks init` looks for, in this order, with each runtime's extensions. */
const ENTRY_NAMES = ['main', 'index', 'app', 'server'];

/**
 * Plain `fabricks init`: fabricks.toml for the code already in `dir`, on the runtime whose file
 * kinds its entrypoint has (the one named, else main, index, app or server with a runtime's
 * extension), granted nothing. Never overwrites a fabricks.toml.
 */
export async function initProject(dirArg: string, options: { entrypoint?: string } = {}): Promise<InitResult> {
  const dir = resolve(dirArg);
  const file = join(dir, CONFIG_FILE);
  if (await exists(file)) throw new FabricksError('USAGE', `${displayPath(file)} already exists; fabricks init does not overwrite it`, { hint: 'edit it, or remove it first' });
  const runtimes = BUILTIN_RUNTIMES.filter((r, i, all) => all.findLastIndex((x) => x.kind === r.kind) === i);
  const candidates = options.entrypoint !== undefined ? [options.entrypoint] : ENTRY_NAMES.flatMap((n) => runtimes.flatMap((r) => r.kind.extensions.map((e) => `${n}${e}`)));
  const found: Array<{ entry: string; runtime: (typeof runtimes)[number] }> = [];
  for (const entry of candidates) {
    const runtime = runtimes.find((r) => r.kind.extensions.includes(extname(entry)));
    if (runtime && (await exists(join(dir, entry)))) found.push({ entry, runtime });
  }
  if (options.entrypoint !== undefined && !found.length) {
    throw new FabricksError('USAGE', `--entrypoint ${options.entrypoint}: ${(await exists(join(dir, options.entrypoint))) ? 'no runtime runs a file of that kind' : `no such file in ${displayPath(dir)}`}`, {
      hint: `name a file whose extension one of the runtimes runs (${runtimes.flatMap((r) => r.kind.extensions).join(', ')})`,
    });
  }
  const first = found[0];
  if (!first) {
    throw new FabricksError('USAGE', `cannot tell which file in ${displayPath(dir)} starts the program (none of ${ENTRY_NAMES.join(', ')} with a runtime's extension)`, {
      hint: 'name it: fabricks init --entrypoint FILE, or start from a published package: fabricks init --from npm:... | pypi:...',
    });
  }
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'app';
  const toml = ['[package]', `name = ${JSON.stringify(name)}`, 'version = "0.1.0"', '', '[from]', `image = ${JSON.stringify(`${BUILTIN_REGISTRY}/${first.runtime.repository}`)}`, '', '[source]', `entrypoint = ${JSON.stringify(first.entry)}`, '', '# granted nothing: see docs/capabilities.md for [capabilities]', ''].join('\n');
  await writeFile(file, toml, { flag: 'wx' });
  return { dir, files: [CONFIG_FILE], pinned: '', integrity: '', program: first.entry, reference: `${name}:0.1.0` };
}
