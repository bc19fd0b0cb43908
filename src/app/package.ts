import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../oci/digest.js';
import { FabricksError } from '../util/errors.js';
import type { Context } from '../home/context.js';
import type { ProjectCapabilities } from '../config/capabilities.js';
import { capabilitiesFromFlags, type GrantFlags } from '../config/grant-flags.js';
import { parsePackageRef, type PackageTarget } from '../runtimes/package-ref.js';
import type { PublishedPackage } from '../runtimes/kind.js';
import type { BuildResult } from '../builder/build.js';
import { buildVariant, unchangedBuild } from '../builder/fingerprint.js';
import type { BuildOptions } from './build.js';
import type { PrepareResult } from './prepare.js';
import { projectToml } from './package-toml.js';

/** How a package is chosen and installed beside its reference: --bin, --with. */
export interface PackageOptions {
  /** The program to run (as #name in the reference). */
  program?: string;
  /** More requirements installed beside it (Python: e.g. mcp==1.30.0). */
  with?: string[];
}

/** A published package resolved and installed as a fabricks project in the cache. */
export interface PackageProject {
  target: PackageTarget;
  pkg: PublishedPackage;
  /** The project folder: $FABRICKS_HOME/cache/packages/<scheme>/<name>-<version>-<key>. */
  dir: string;
  /** It came from the cache: nothing was resolved or installed. */
  cached: boolean;
}

/** The record of an installed package, written last into its folder (a folder without one is not an install). */
const RECORD = join('.fabricks', 'published.json');

/** The app a package builds into: its name made a fabricks name (@scope/pkg: scope-pkg), its version a tag. */
export function appIdentity(pkg: Pick<PublishedPackage, 'name' | 'version'>): { name: string; version: string } {
  const name = pkg.name
    .replace(/\[.*$/, '')
    .toLowerCase()
    .replace(/^@/, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return { name: name || 'package', version: pkg.version.replace(/[^\w.-]/g, '-') };
}

/** $FABRICKS_HOME/cache/packages: one folder per scheme, one per install. */
export const packagesDir = (ctx: Context) => join(ctx.home.root, 'cache', 'packages');

function cacheDir(ctx: Context, scheme: string, name: string, version: string, options: PackageOptions): string {
  const key = sha256(JSON.stringify({ scheme, name, version, program: options.program ?? null, with: options.with ?? [] })).slice('sha256:'.length, 'sha256:'.length + 12);
  const slug = name.replace(/^@/, '').replace(/[^A-Za-z0-9._-]+/g, '+');
  return join(packagesDir(ctx), scheme, `${slug}-${version.replace(/[^\w.+-]/g, '_')}-${key}`);
}

export async function readRecord(dir: string): Promise<PublishedPackage | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, RECORD), 'utf8')) as PublishedPackage;
  } catch {
    return undefined;
  }
}

/**
 * Resolves a package reference to one version, and installs it as a project (fabricks.toml, the
 * registry's files, the program's launcher) in the cache, once: an install is written into a
 * temporary folder and renamed into place whole, so an interrupted one leaves nothing that a
 * later run would take for an install. A reference that names one exact version is answered from
 * the cache without asking the registry.
 */
export async function packageProject(text: string, options: PackageOptions, ctx: Context): Promise<PackageProject> {
  const target = parsePackageRef(text, options.program);
  const { ref, packages } = target;
  const chosen = { ...options, ...(ref.program !== undefined ? { program: ref.program } : {}) };
  if (ref.exact !== undefined) {
    const dir = cacheDir(ctx, ref.scheme, ref.name, ref.exact, chosen);
    const pkg = await readRecord(dir);
    if (pkg) return { target, pkg, dir, cached: true };
  }
  const pkg = await resolvePackage(target, options.with ?? [], ctx);
  const dir = cacheDir(ctx, ref.scheme, pkg.name, pkg.version, chosen);
  if (await readRecord(dir)) return { target, pkg, dir, cached: true };

  const parent = join(dir, '..');
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, '.install-'));
  try {
    await writeProject(tmp, target, pkg);
    await packages.install?.(pkg, tmp, ctx);
    await mkdir(join(tmp, '.fabricks'), { recursive: true });
    await writeFile(join(tmp, RECORD), JSON.stringify(pkg, null, 2) + '\n');
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      // another fabricks installed the same package meanwhile: its install is as good as this one
      if ((e.code === 'ENOTEMPTY' || e.code === 'EEXIST') && (await readRecord(dir))) return;
      throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { target, pkg, dir, cached: false };
}

/**
 * The registry's answer for a reference, with progress on stderr (the version it resolved to is
 * shown); every error names the reference it is about.
 */
export async function resolvePackage(target: PackageTarget, extra: string[], ctx: Context): Promise<PublishedPackage> {
  const { ref, packages } = target;
  const started = Date.now();
  ctx.reporter({ event: 'step-start', step: 'resolve', subject: ref.text });
  try {
    const pkg = await packages.resolve(ref, extra, ctx);
    ctx.reporter({ event: 'step-done', step: 'resolve', subject: pkg.pinned, ms: Date.now() - started, tool: `${pkg.program}; ${pkg.integrity.slice(0, 20)}...` });
    return pkg;
  } catch (e) {
    if (e instanceof FabricksError && e.code !== 'INTERRUPTED' && !e.message.startsWith(ref.text)) {
      throw new FabricksError(e.code, `${ref.text}: ${e.message}`, { hint: e.hint, cause: e, problems: e.problems, status: e.status });
    }
    throw e;
  }
}

/** The project's files: fabricks.toml, and the registry's (package.json; requirements.txt and the launcher). */
export async function writeProject(dir: string, target: PackageTarget, pkg: PublishedPackage, capabilities?: ProjectCapabilities): Promise<void> {
  for (const [name, text] of pkg.files) await writeFile(join(dir, name), text);
  await writeFile(join(dir, 'fabricks.toml'), projectToml(target, pkg, appIdentity(pkg), dir, capabilities));
}

export interface PackageBuildResult extends BuildResult {
  package: { ref: string; pinned: string; version: string; integrity: string; program: string; dir: string; installed: boolean };
}

/**
 * The package's build as its last one left it, granted the same, when nothing it was built from
 * has changed since (builder/fingerprint.ts): what a client's spawn of `fabricks run npm:...`
 * finds, without a no-op build. Undefined: build it (buildPackage).
 */
export async function unchangedPackageBuild(text: string, options: PackageOptions & { grants?: GrantFlags; values?: boolean }, ctx: Context): Promise<PackageBuildResult | undefined> {
  const capabilities = await capabilitiesFromFlags(options.grants ?? {}, process.cwd(), { values: options.values === true });
  const project = await packageProject(text, options, ctx);
  const { pkg } = project;
  const published = { package: pkg.pinned, integrity: pkg.integrity };
  const built = await unchangedBuild(ctx.home.buildCacheDir, project.dir, buildVariant({ capabilities, published }));
  return built && { ...built, package: packageShown(text, project, false) };
}

/** The package a build was of, as build and run show it. */
const packageShown = (ref: string, { pkg, dir }: PackageProject, installed: boolean): PackageBuildResult['package'] => ({ ref, pinned: pkg.pinned, version: pkg.version, integrity: pkg.integrity, program: pkg.program, dir, installed });

/**
 * `fabricks build npm:...`: the package installed in the cache (once), built by the builder as
 * any project is, granted exactly what the flags name (`values`: --env may carry values, at run
 * time).
 */
export async function buildPackage(text: string, options: PackageOptions & { grants?: GrantFlags; values?: boolean; build?: BuildOptions }, ctx: Context): Promise<PackageBuildResult & { prepared: PrepareResult }> {
  const capabilities = await capabilitiesFromFlags(options.grants ?? {}, process.cwd(), { values: options.values === true });
  const project = await packageProject(text, options, ctx);
  // the builder loads only when something is built (not for a spawn its fingerprint answers)
  const { build } = await import('./build.js');
  const built = await build(project.dir, ctx, { ...options.build, capabilities, published: { package: project.pkg.pinned, integrity: project.pkg.integrity } });
  return { ...built, package: packageShown(text, project, !project.cached) };
}

/** The stored build of a package, building it (granted nothing) when there is none yet: for inspect. */
export async function storedPackageReference(text: string, options: PackageOptions, ctx: Context): Promise<string> {
  const { pkg } = await packageProject(text, options, ctx);
  const { name, version } = appIdentity(pkg);
  const reference = `${name}:${version}`;
  const present = await ctx.home.store.resolve(reference).then(() => true, () => false);
  if (!present) await buildPackage(text, options, ctx);
  return reference;
}
