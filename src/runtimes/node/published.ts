import { readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { FabricksError } from '../../util/errors.js';
import { startStep } from '../../util/progress.js';
import type { Context } from '../../home/context.js';
import type { NpmManifest } from '../../tools/npm.js';
import type { PackageRef, PublishedPackage, PublishedPackages } from '../kind.js';

/** npm's rule for names: lower case, URL-safe, an optional @scope/. */
const NAME_RE = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
/** A version, exactly (semver 2.0): no range, no tag. */
const EXACT_RE = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** `@scope/pkg@1.2.3`, `pkg@^1`, `pkg@latest` or `pkg`: the name, and what follows its last @. */
export function parseNpmRef(body: string): Pick<PackageRef, 'name' | 'spec' | 'exact'> | { error: string } {
  const at = body.indexOf('@', 1);
  const name = at < 0 ? body : body.slice(0, at);
  const spec = at < 0 ? '' : body.slice(at + 1);
  if (!NAME_RE.test(name)) return { error: `"${name}" is not an npm package name (lower case letters, digits, "-", "." and "_", with an optional @scope/)` };
  if (at >= 0 && !spec) return { error: `nothing follows the "@" after ${name}; name a version (${name}@1.2.3), or leave the "@" out for the newest` };
  if (/\s/.test(spec)) return { error: `the version "${spec}" has spaces` };
  return { name, spec, ...(EXACT_RE.test(spec) ? { exact: spec } : {}) };
}

/** The bins of a manifest, by name: a string bin is named after the package (without its scope). */
function bins(m: NpmManifest): Record<string, string> {
  if (typeof m.bin === 'string') return { [m.name.replace(/^@[^/]+\//, '')]: m.bin };
  return m.bin && typeof m.bin === 'object' ? m.bin : {};
}

/** The file `exports` gives for the package itself (import, node or default conditions), if it gives one. */
function exportedMain(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (!exports || typeof exports !== 'object' || Array.isArray(exports)) return undefined;
  const map = exports as Record<string, unknown>;
  const root = Object.keys(map).some((k) => k.startsWith('.')) ? map['.'] : map;
  if (typeof root === 'string') return root;
  if (root && typeof root === 'object' && !Array.isArray(root)) {
    for (const condition of ['import', 'node', 'default', 'require']) {
      const found = exportedMain((root as Record<string, unknown>)[condition]);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The program of a published package: its one bin, the bin named like the package, the one asked
 * for; else (no bin) what `exports` or `main` names. Several bins and none chosen is an error that
 * lists them and says how to choose.
 */
export function npmProgram(m: NpmManifest, ref: Pick<PackageRef, 'program' | 'text'>): { program: string; file: string } {
  const all = bins(m);
  const names = Object.keys(all);
  const pinned = `npm:${m.name}@${m.version}`;
  if (ref.program !== undefined) {
    const file = all[ref.program];
    if (file) return { program: ref.program, file };
    throw new FabricksError('PACKAGE_INVALID', `${ref.text}: ${m.name} ${m.version} has no bin named ${ref.program}`, {
      hint: names.length ? `its bins are ${names.join(', ')}: name one (${pinned}#${names[0]}, or --bin ${names[0]})` : `it has no bins; leave out the #${ref.program} (or --bin) to run its main module`,
    });
  }
  if (names.length === 1) return { program: names[0]!, file: all[names[0]!]! };
  const own = m.name.replace(/^@[^/]+\//, '');
  if (names.length > 1) {
    if (all[own]) return { program: own, file: all[own] };
    throw new FabricksError('PACKAGE_INVALID', `${ref.text}: ${m.name} ${m.version} has ${names.length} bins (${names.join(', ')}) and none is named like the package`, {
      hint: `choose one: ${pinned}#${names[0]}, or --bin ${names[0]}`,
    });
  }
  const main = exportedMain(m.exports) ?? m.main;
  if (main) return { program: own, file: main };
  throw new FabricksError('PACKAGE_INVALID', `${ref.text}: ${m.name} ${m.version} has no program to run: its package.json has no bin, exports or main`, {
    hint: 'it is a library, not a server; check the server\'s README for the package to run',
  });
}

/** The entrypoint in the project: the program's file in node_modules, as a '/'-path without ./ */
function entrypointOf(name: string, file: string, what: string): string {
  const rel = posix.normalize(file.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  if (rel.startsWith('../') || rel.startsWith('/')) throw new FabricksError('PACKAGE_INVALID', `${what}: its program ${file} lies outside the package`);
  return `node_modules/${name}/${rel}`;
}

async function resolveNpm(ref: PackageRef, extra: string[], ctx: Context): Promise<PublishedPackage> {
  if (extra.length) throw new FabricksError('USAGE', `${ref.text}: --with adds Python requirements; an npm package brings its own dependencies`);
  const { npmView } = await import('../../tools/npm.js');
  const m = await npmView(ref.name, ref.spec, ref.text, ctx.signal);
  const integrity = m.dist?.integrity;
  if (!integrity) throw new FabricksError('PACKAGE_INVALID', `${ref.text}: the npm registry gives no integrity for ${m.name} ${m.version}, so its files cannot be checked`);
  const { program, file } = npmProgram(m, ref);
  const manifest = { name: 'fabricks-published', private: true, description: `${m.name} ${m.version}, as published (fabricks build npm:${m.name}@${m.version})`, dependencies: { [m.name]: m.version } };
  return {
    name: m.name,
    version: m.version,
    pinned: `npm:${m.name}@${m.version}`,
    integrity,
    program,
    entrypoint: entrypointOf(m.name, file, ref.text),
    files: [['package.json', JSON.stringify(manifest, null, 2) + '\n']],
  };
}

/** npm install into dir; then the installed package must be the resolved one, with the integrity resolved. */
async function installNpm(pkg: PublishedPackage, dir: string, ctx: Context): Promise<void> {
  const { npmInstall } = await import('../../tools/npm.js');
  const done = startStep(ctx.reporter, 'install', `${pkg.name}@${pkg.version}`, 'npm');
  await npmInstall(dir, pkg.pinned, ctx.signal);
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { version?: string; integrity?: string }> };
  const installed = lock.packages?.[`node_modules/${pkg.name}`];
  if (installed?.version !== pkg.version || installed.integrity !== pkg.integrity) {
    throw new FabricksError('DIGEST_MISMATCH', `${pkg.pinned}: npm installed ${installed ? `${installed.version} with integrity ${installed.integrity}` : 'something else'}, not ${pkg.version} with integrity ${pkg.integrity}`, {
      hint: 'the registry answered differently between two requests; try again',
    });
  }
  if (!(await stat(join(dir, pkg.entrypoint)).then((s) => s.isFile(), () => false))) {
    throw new FabricksError('PACKAGE_INVALID', `${pkg.pinned}: its program ${pkg.program} names ${pkg.entrypoint.slice(`node_modules/${pkg.name}/`.length)}, which the package does not hold`, {
      hint: 'the package is published without its built files; try another version',
    });
  }
  // the lock's packages: the root (''), the package, and its dependencies
  done({ size: Object.keys(lock.packages ?? {}).filter((k) => k !== '' && k !== `node_modules/${pkg.name}`).length });
}

export const npmPackages: PublishedPackages = {
  scheme: 'npm',
  registry: 'the npm registry',
  example: 'npm:@scope/pkg@1.2.3#bin',
  parse: parseNpmRef,
  resolve: resolveNpm,
  install: installNpm,
};
