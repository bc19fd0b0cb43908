import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { displayPath } from '../util/paths.js';
import type { Context } from '../home/context.js';
import { CONFIG_FILE } from '../config/project.js';
import { capabilitiesFromFlags, type GrantFlags } from '../config/grant-flags.js';
import { parsePackageRef } from '../runtimes/package-ref.js';
import { appIdentity, resolvePackage, type PackageOptions } from './package.js';
import { projectToml } from './package-toml.js';

export interface InitResult {
  dir: string;
  /** The files written, fabricks.toml last. */
  files: string[];
  pinned: string;
  integrity: string;
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
