import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { FabricksError } from '../util/errors.js';
import { checkServerName, defaultServerName } from './naming.js';

/** One server behind the gateway: what `fabricks run` is pointed at, and with which flags. */
export interface ServerSpec {
  name: string;
  ref: string;
  /** `fabricks run` options, as given: the server's grants and limits. */
  runArgs: string[];
  /** The program's own arguments (after `--`). */
  args: string[];
  /** Where it was named, for messages. */
  from: string;
}

/** What a gateway.toml holds besides its servers. */
export interface GatewayFile {
  servers: ServerSpec[];
  allowTool: string[];
  denyTool: string[];
}

/**
 * `[servers.NAME]` fields and the `fabricks run` flag each one becomes: the same words as the
 * flags, so that what widens (`allow-*`) reads as widening here too.
 */
const LIST_FIELDS: Record<string, string> = {
  env: '--env',
  mount: '--mount',
  'allow-connect': '--allow-connect',
  'allow-env': '--allow-env',
  'allow-mount': '--allow-mount',
};
const STRING_FIELDS: Record<string, string> = { memory: '--memory', 'request-timeout': '--request-timeout' };
const FIELDS = ['ref', 'args', 'allow-wide-mount', ...Object.keys(LIST_FIELDS), ...Object.keys(STRING_FIELDS)];

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Reads a gateway.toml: `[servers.NAME]` tables (`ref`, and the `fabricks run` flags as fields),
 * and top-level `allow-tool` / `deny-tool` lists. A `ref` that names a folder is taken relative
 * to the file. Every problem is reported at once, each naming its field.
 */
export async function readGatewayFile(file: string): Promise<GatewayFile> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new FabricksError('NOT_FOUND', `--config ${file}: cannot read it (${e.code ?? e.message})`, { hint: 'name a gateway.toml with [servers.NAME] tables (docs/mcp.md, "Many servers as one")', cause: e });
  });
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new FabricksError('CONFIG_INVALID', `${file} is not valid TOML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const problems: string[] = [];
  for (const key of Object.keys(doc)) if (!['servers', 'allow-tool', 'deny-tool'].includes(key)) problems.push(`${key}: not a gateway setting (servers, allow-tool, deny-tool)`);
  for (const key of ['allow-tool', 'deny-tool']) if (doc[key] !== undefined && !isStringList(doc[key])) problems.push(`${key}: must be a list of tool patterns`);
  const servers: ServerSpec[] = [];
  const table = doc.servers ?? {};
  if (typeof table !== 'object' || Array.isArray(table)) problems.push('servers: must be tables, [servers.NAME]');
  else {
    for (const [name, value] of Object.entries(table as Record<string, unknown>)) {
      const where = `servers.${name}`;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`${where}: must be a table with ref = "..."`);
        continue;
      }
      const s = value as Record<string, unknown>;
      try {
        checkServerName(name, where);
      } catch (e) {
        problems.push(`${where}: ${(e as FabricksError).hint ?? 'not a server name'}`);
      }
      for (const key of Object.keys(s)) if (!FIELDS.includes(key)) problems.push(`${where}.${key}: not a server setting (${FIELDS.join(', ')})`);
      if (typeof s.ref !== 'string' || s.ref === '') {
        problems.push(`${where}.ref: required, the folder, name:version or registry reference to run`);
        continue;
      }
      const runArgs: string[] = [];
      for (const [key, flag] of Object.entries(LIST_FIELDS)) {
        if (s[key] === undefined) continue;
        if (!isStringList(s[key])) problems.push(`${where}.${key}: must be a list of strings, as ${flag} takes them`);
        else for (const v of s[key]) runArgs.push(flag, v);
      }
      for (const [key, flag] of Object.entries(STRING_FIELDS)) {
        if (s[key] === undefined) continue;
        if (typeof s[key] !== 'string') problems.push(`${where}.${key}: must be a string, as ${flag} takes it`);
        else runArgs.push(flag, s[key]);
      }
      if (s['allow-wide-mount'] !== undefined) {
        if (typeof s['allow-wide-mount'] !== 'boolean') problems.push(`${where}.allow-wide-mount: must be true or false`);
        else if (s['allow-wide-mount']) runArgs.push('--allow-wide-mount');
      }
      if (s.args !== undefined && !isStringList(s.args)) problems.push(`${where}.args: must be a list of strings`);
      try {
        checkRef(s.ref, `${where}.ref`);
      } catch (e) {
        problems.push(`${where}.ref: ${(e as FabricksError).message}`);
        continue;
      }
      const folder = resolve(dirname(file), s.ref);
      servers.push({ name, ref: (await isDir(folder)) ? folder : s.ref, runArgs, args: isStringList(s.args) ? s.args : [], from: `${file} [${where}]` });
    }
  }
  if (problems.length > 0) throw new FabricksError('CONFIG_INVALID', `${file} has ${problems.length} problem(s)`, { problems, hint: 'see docs/mcp.md, "Many servers as one"' });
  return { servers, allowTool: (doc['allow-tool'] as string[] | undefined) ?? [], denyTool: (doc['deny-tool'] as string[] | undefined) ?? [] };
}

/** A reference `fabricks run` takes as one, never as a flag. */
function checkRef(ref: string, where: string): void {
  if (ref === '' || ref.startsWith('-')) throw new FabricksError('USAGE', `${where}: "${ref}" is not a folder, name:version or registry reference`, { hint: 'a folder that starts with "-" can be given as ./-name' });
}

/** A server named on the command line: `REF` (named after it) or `NAME=REF` (--server). */
export async function serverFromArgument(arg: string, from: string): Promise<ServerSpec> {
  const eq = arg.indexOf('=');
  const named = from === '--server';
  if (named && eq <= 0) throw new FabricksError('USAGE', `--server ${arg}: expected NAME=REF`, { hint: 'e.g. --server weather=examples/mcp-weather-js' });
  const ref = named ? arg.slice(eq + 1) : arg;
  checkRef(ref, from === '--server' ? `--server ${arg}` : `argument ${arg}`);
  const folder = await isDir(ref);
  const name = named ? checkServerName(arg.slice(0, eq), `--server ${arg}`) : defaultServerName(ref, folder);
  return { name, ref: folder ? resolve(ref) : ref, runArgs: [], args: [], from: named ? `--server ${arg}` : `argument ${arg}` };
}

/** Every server once: two with one name would hide each other's tools. */
export function checkUniqueNames(servers: ServerSpec[]): void {
  const seen = new Map<string, ServerSpec>();
  const problems: string[] = [];
  for (const s of servers) {
    const other = seen.get(s.name);
    if (other) problems.push(`"${s.name}": from ${other.from} and from ${s.from}`);
    else seen.set(s.name, s);
  }
  if (problems.length > 0) throw new FabricksError('USAGE', 'two servers have the same name', { problems, hint: 'name them apart with --server NAME=REF, or [servers.NAME] in a --config file' });
  if (servers.length === 0) throw new FabricksError('USAGE', 'no servers to serve', { hint: 'name them: fabricks mcp serve examples/mcp-weather-js examples/mcp-weather-python, --server NAME=REF, or --config gateway.toml' });
}
