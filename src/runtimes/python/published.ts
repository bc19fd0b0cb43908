import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FabricksError } from '../../util/errors.js';
import type { Context } from '../../home/context.js';
import type { PackageRef, PublishedPackage, PublishedPackages } from '../kind.js';

/** PEP 508's name, optional [extras], then a version specifier (or nothing: the newest). */
const REF_RE = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(\[[A-Za-z0-9._,\s-]*\])?(.*)$/;
/** One exact version: `==1.2.3` (not a wildcard, not a list). */
const EXACT_RE = /^===?\s*([A-Za-z0-9][A-Za-z0-9.!+_-]*)$/;

/** The file the app starts from: what pip's launcher for the console script does. */
export const LAUNCHER = '_fabricks_launcher.py';

/** `pkg`, `pkg==1.2.3`, `pkg[extra]>=1.0`: the name (with its extras) and the specifier. */
export function parsePypiRef(body: string): Pick<PackageRef, 'name' | 'spec' | 'exact'> | { error: string } {
  const m = REF_RE.exec(body.trim());
  if (!m) return { error: `"${body}" is not a Python package name (letters, digits, ".", "_" and "-"), optionally followed by a version such as ==1.2.3` };
  const [, name, extras, rest] = m;
  const spec = rest!.trim();
  if (spec && !/^(===?|~=|!=|<=?|>=?)/.test(spec)) return { error: `"${spec}" after ${name} is not a version specifier; write ${name}==1.2.3 (or >=, ~=, ...)` };
  if (spec.includes(';')) return { error: `markers (;) have no place in a package reference: ${body}` };
  const exact = EXACT_RE.exec(spec)?.[1];
  return { name: name! + (extras ? extras.replace(/\s+/g, '') : ''), spec, ...(exact && !exact.includes('*') ? { exact } : {}) };
}

/** The [console_scripts] of an entry_points.txt: script name to `module:attr`. */
export function consoleScripts(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]!.trim();
    else if (section === 'console_scripts') {
      const eq = line.indexOf('=');
      if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  }
  return out;
}

const normal = (name: string) => name.replace(/[-_.]+/g, '-').toLowerCase();

/**
 * The console script to run: the one asked for, the only one, or the one named like the package.
 * Several and none chosen is an error that lists them and says how to choose.
 */
export function pickScript(scripts: Record<string, string>, pkg: { name: string; version: string }, ref: Pick<PackageRef, 'program' | 'text'>): [string, string] {
  const names = Object.keys(scripts);
  const pinned = `pypi:${pkg.name}==${pkg.version}`;
  if (ref.program !== undefined) {
    if (scripts[ref.program]) return [ref.program, scripts[ref.program]!];
    throw new FabricksError('PACKAGE_INVALID', `${ref.text}: ${pkg.name} ${pkg.version} has no console script named ${ref.program}`, {
      hint: names.length ? `its console scripts are ${names.join(', ')}: name one (${pinned}#${names[0]}, or --bin ${names[0]})` : 'it has no console scripts at all',
    });
  }
  if (names.length === 1) return [names[0]!, scripts[names[0]!]!];
  const own = names.find((n) => normal(n) === normal(pkg.name.replace(/\[.*$/, '')));
  if (own) return [own, scripts[own]!];
  if (names.length === 0) {
    throw new FabricksError('PACKAGE_INVALID', `${ref.text}: ${pkg.name} ${pkg.version} has no program to run: its wheel declares no console script ([console_scripts] in entry_points.txt)`, {
      hint: 'it is a library, not a server; check the server\'s README for the package to run (uvx <name>)',
    });
  }
  throw new FabricksError('PACKAGE_INVALID', `${ref.text}: ${pkg.name} ${pkg.version} has ${names.length} console scripts (${names.join(', ')}) and none is named like the package`, {
    hint: `choose one: ${pinned}#${names[0]}, or --bin ${names[0]}`,
  });
}

/** What pip's launcher for `module:attr.path [extras]` runs, as a Python file. */
export function launcher(script: string, value: string, pkg: string): string {
  const m = /^([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_][\w.]*)\s*(?:\[[^\]]*\])?$/.exec(value);
  if (!m) throw new FabricksError('PACKAGE_INVALID', `${pkg}: its console script ${script} = ${value} is not module:function`);
  const [, module, attr] = m;
  const first = attr!.split('.')[0]!;
  return `# the console script ${script} of ${pkg}, as pip's launcher runs it\nimport sys\nfrom ${module} import ${first}\nsys.exit(${attr}())\n`;
}

async function resolvePypi(ref: PackageRef, extra: string[], ctx: Context, pythonVersion: string): Promise<PublishedPackage> {
  const bare = ref.name.replace(/\[.*$/, '');
  const [{ projectVersions, downloadChecked }, { resolveRequirements }] = await Promise.all([import('../../tools/package-index.js'), import('../../tools/pip.js')]);
  const versions = await projectVersions(bare, ctx.signal);
  if (!versions) throw new FabricksError('NOT_FOUND', `${ref.text}: the package index has no package ${bare}`, { hint: 'check the spelling of the name, as the server\'s README gives it (uvx <name>, pip install <name>)' });
  if (ref.exact && !versions.includes(ref.exact)) {
    throw new FabricksError('NOT_FOUND', `${ref.text}: ${bare} has no version ${ref.exact} on the package index`, {
      hint: versions.length ? `its newest versions: ${versions.slice(-5).join(', ')}; name one, e.g. pypi:${bare}==${versions[versions.length - 1]}` : `${bare} has no releases`,
    });
  }
  // pip picks the version (the newest that a spec and the runtime's Python allow) and its wheel
  const scratch = await mkdtemp(join(ctx.home.scratchDir, '.resolve-'));
  let wheel;
  try {
    const file = join(scratch, 'requirement.txt');
    await writeFile(file, `${ref.name}${ref.spec}\n`);
    [wheel] = await resolveRequirements(file, { pythonVersion }, join(scratch, 'target'), ctx.signal, { noDeps: true });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  if (!wheel?.sha256) throw new FabricksError('PACKAGE_INVALID', `${ref.text}: the package index gives no sha256 for ${bare}'s wheel, so its files cannot be checked`);
  const filename = decodeURIComponent(new URL(wheel.url).pathname.split('/').pop() ?? 'package.whl');
  const bytes = await downloadChecked({ filename, url: wheel.url, sha256: wheel.sha256 }, ctx.signal);
  const { unzipSync } = await import('fflate');
  const entries = unzipSync(bytes, { filter: (f) => /^[^/]+\.dist-info\/entry_points\.txt$/.test(f.name) });
  const text = Object.values(entries)[0];
  const pkg = { name: ref.name, version: wheel.version };
  const [program, value] = pickScript(text ? consoleScripts(new TextDecoder().decode(text)) : {}, pkg, ref);
  const pinned = `pypi:${ref.name}==${wheel.version}`;
  return {
    name: ref.name,
    version: wheel.version,
    pinned,
    integrity: `sha256:${wheel.sha256}`,
    program,
    entrypoint: LAUNCHER,
    files: [
      ['requirements.txt', [`${ref.name}==${wheel.version}`, ...extra].join('\n') + '\n'],
      [LAUNCHER, launcher(program, value, pinned)],
    ],
  };
}

/** PyPI (or the index pip is configured with); the build resolves and fetches the requirements itself, each wheel checked against its hash. */
export function pypiPackages(pythonVersion: () => string): PublishedPackages {
  return {
    scheme: 'pypi',
    registry: 'the package index',
    example: 'pypi:pkg==1.2.3#script',
    parse: parsePypiRef,
    resolve: (ref, extra, ctx) => resolvePypi(ref, extra, ctx, pythonVersion()),
  };
}
