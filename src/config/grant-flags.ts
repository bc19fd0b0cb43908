import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { isEnvName } from './env-names.js';
import { parseCapabilities, type MountSpec, type ProjectCapabilities } from './capabilities.js';

/**
 * The capabilities a package built by name is granted, as flags name them: `--connect RULE`,
 * `--env NAME[=VALUE]`, `--mount HOST:GUEST[:ro|rw]` and `--profile FILE` (a TOML file with a
 * [capabilities] table, as in fabricks.toml). Nothing else is granted.
 */
export interface GrantFlags {
  connect?: string[];
  env?: string[];
  mount?: string[];
  profile?: string;
}

/**
 * What a run grants a package from its flags (--connect, --profile, --env, --mount): `fabricks
 * run npm:...` and `mcp add`, which readies the same build the client's `run` will find.
 */
export function packageGrantFlags(f: GrantFlags): GrantFlags {
  return { ...(f.connect ? { connect: f.connect } : {}), ...(f.profile !== undefined ? { profile: f.profile } : {}), env: f.env ?? [], mount: f.mount ?? [] };
}

const FLAG_OF: Record<string, string> = {
  '[capabilities.network] connect': '--connect',
  '[capabilities.network] listen': '--connect',
  '[capabilities.env] allow': '--env',
  '[capabilities.env] set': '--env',
  '[capabilities.filesystem] mounts': '--mount',
};

/** `HOST:GUEST[:ro|rw]` as a mount table (mode ro unless :rw is written, as in fabricks.toml). */
function mountTable(text: string): { guest: string; host: string; mode: string } {
  const parts = text.split(':');
  const mode = parts.length === 3 ? parts[2]! : 'ro';
  if (parts.length < 2 || parts.length > 3 || !parts[0] || (mode !== 'ro' && mode !== 'rw')) {
    throw new FabricksError('USAGE', `--mount ${text}: write it as HOST:GUEST, HOST:GUEST:ro or HOST:GUEST:rw, e.g. ./data:/data:rw`);
  }
  return { host: parts[0], guest: parts[1]!, mode };
}

/** The [capabilities] of a profile file, checked as fabricks.toml's are; mounts' host folders relative to the file. */
export async function readProfile(file: string): Promise<ProjectCapabilities> {
  const abs = resolve(file);
  const shown = relative(process.cwd(), abs) || abs;
  const text = await readFile(abs, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new FabricksError('USAGE', `--profile ${file}: ${e.code === 'ENOENT' ? 'no such file' : `cannot be read (${e.code})`}`, { hint: 'name a TOML file with a [capabilities] table, as in fabricks.toml (docs/capabilities.md)' });
  });
  // the TOML parser and the project's checks load only for a profile (not on every run's start)
  const [{ parse: parseToml, TomlError }, { checkCapabilitiesShape }] = await Promise.all([import('smol-toml'), import('./project.js')]);
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) throw new FabricksError('CONFIG_INVALID', `${shown}:${e.line}:${e.column}: TOML syntax error: ${e.message.split('\n')[0]}`);
    throw e;
  }
  const problems: string[] = [];
  const add = (field: string, message: string) => problems.push(`${shown}: ${field}: ${message}`);
  for (const key of Object.keys(doc)) if (key !== 'capabilities') add(`[${key}]`, 'a profile holds only [capabilities] (and its tables)');
  if (doc.capabilities !== undefined) checkCapabilitiesShape(doc.capabilities, add);
  const caps = problems.length ? undefined : parseCapabilities(doc.capabilities, dirname(abs), add);
  if (!caps || problems.length) throw new FabricksError('CONFIG_INVALID', `${shown} has ${problems.length} problem${problems.length === 1 ? '' : 's'}`, { problems });
  return caps;
}

/**
 * The capabilities the flags grant: the profile's, with each flag's rule, variable and folder
 * added (a --mount replaces the profile's mount at the same guest path). `values`: whether
 * --env may carry a value (at run time; a build records names only).
 */
export async function capabilitiesFromFlags(flags: GrantFlags, cwd: string, options: { values: boolean }): Promise<ProjectCapabilities> {
  const base = flags.profile !== undefined ? await readProfile(flags.profile) : { network: { listen: [], connect: [] }, env: { allow: [], set: {} }, filesystem: { mounts: [] } };
  const names: string[] = [];
  for (const text of flags.env ?? []) {
    const eq = text.indexOf('=');
    const name = eq < 0 ? text : text.slice(0, eq);
    if (!isEnvName(name)) throw new FabricksError('USAGE', `--env ${text}: "${name}" is not a variable name`);
    if (eq >= 0 && !options.values) {
      throw new FabricksError('USAGE', `--env ${text}: a build records which variables the service may read, never their values`, { hint: `pass --env ${name} here, and its value when it runs (fabricks run ... --env ${name}=VALUE, or set ${name} in the environment)` });
    }
    names.push(name);
  }
  const problems: string[] = [];
  const parsed = parseCapabilities(
    { network: { connect: flags.connect ?? [] }, env: { allow: names }, filesystem: { mounts: (flags.mount ?? []).map(mountTable) } },
    cwd,
    (field, message) => problems.push(`${FLAG_OF[field] ?? field}: ${message.replace(/^entry \d+(: |(?= ))/, '')}`),
  );
  if (problems.length) throw new FabricksError('USAGE', problems.length === 1 ? problems[0]! : `the grant flags have ${problems.length} problems`, { problems: problems.length === 1 ? [] : problems });
  const mounts: MountSpec[] = [...base.filesystem.mounts.filter((m) => !parsed.filesystem.mounts.some((f) => f.guest === m.guest)), ...parsed.filesystem.mounts];
  return {
    network: { listen: base.network.listen, connect: [...new Set([...base.network.connect, ...parsed.network.connect])] },
    env: { allow: [...new Set([...base.env.allow, ...parsed.env.allow])], set: base.env.set },
    filesystem: { mounts },
  };
}

/** The first flag given that only a package reference takes (a project's fabricks.toml says what it is granted). */
export function packageOnlyFlag(f: GrantFlags): string | undefined {
  if (f.connect?.length) return `--connect ${f.connect[0]}`;
  if (f.profile !== undefined) return `--profile ${f.profile}`;
  return undefined;
}
