import { stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { FabricksError } from '../util/errors.js';

/**
 * A `fabricks run` as an MCP client's server entry: the command that starts fabricks, and the
 * arguments of the run (the reference and the grant flags, as the user gave them).
 */

/** The grant flags `mcp add` passes through to `fabricks run`, in this order. */
export interface McpGrantFlags {
  env?: string[];
  mount?: string[];
  connect?: string[];
  profile?: string;
  allowConnect?: string[];
  allowEnv?: string[];
  allowMount?: string[];
  allowWideMount?: boolean;
  memory?: string;
  timeout?: string;
  requestTimeout?: string;
  concurrency?: string;
}

/** How fabricks is started: the command, and arguments before `run` (node's script, on Windows). */
export interface Launcher {
  command: string;
  prefix: string[];
}

/**
 * The fabricks that is running now, by absolute path: MCP clients started from a desktop
 * (Claude Desktop, VS Code from the Dock) do not get the shell's PATH, so a bare `fabricks`
 * often fails there, and an absolute path also keeps the entry on the fabricks that wrote it.
 * Windows cannot start a `.js` file as a command: there node starts the script. `command`
 * (`--command`) overrides it, e.g. `fabricks` in a project file shared with others.
 */
export function launcher(o: { script: string; node: string; platform: NodeJS.Platform; command?: string | undefined }): Launcher {
  if (o.command !== undefined) {
    if (o.command.trim() === '') throw new FabricksError('USAGE', '--command is empty', { hint: 'give the command that starts fabricks, e.g. fabricks or its full path' });
    return { command: o.command, prefix: [] };
  }
  if (o.platform === 'win32' && /\.[cm]?js$/i.test(o.script)) return { command: o.node, prefix: [o.script] };
  return { command: o.script, prefix: [] };
}

const FABRICKS = /^fabricks(\.[cm]?js|\.cmd|\.exe|\.ps1)?$/i;
const NODE = /^node(\.exe)?$/i;
/** The last part of a path, by either separator (an entry written on Windows, read anywhere). */
const lastPart = (p: string) => p.split(/[\\/]/).pop() ?? p;

/** The arguments after the launcher, if the entry starts fabricks (`fabricks ...`, `/path/bin/fabricks.js ...`, `node .../fabricks.js ...`). */
export function fabricksArgs(entry: unknown): string[] | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const { command, args } = entry as { command?: unknown; args?: unknown };
  if (typeof command !== 'string') return undefined;
  const list = Array.isArray(args) ? args.map(String) : [];
  if (FABRICKS.test(lastPart(command))) return list;
  if (NODE.test(lastPart(command)) && list[0] !== undefined && FABRICKS.test(lastPart(list[0]))) return list.slice(1);
  return undefined;
}

/** `run`'s options that take no value; every other option is followed by its value. */
const RUN_SWITCHES = new Set(['-q', '--quiet', '--allow-wide-mount', '--plain-http', '--verbose']);

/** The reference a fabricks entry runs (the first argument of `run` that is not an option or an option's value). */
export function runReference(args: string[]): string | undefined {
  if (args[0] !== 'run') return undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (!a.startsWith('-')) return a;
    if (!RUN_SWITCHES.has(a) && !a.includes('=')) i++;
  }
  return undefined;
}

/**
 * The reference as the entry will carry it. A client starts the server in a folder of its own
 * choosing, so a project folder becomes an absolute path; anything that is written as a path
 * (`.`, `./x`, `../x`, `/x`, `~/x`) must be a folder. Other references (`name:version`,
 * `registry/repo:tag`, `npm:...`, `pypi:...`) are passed as they are: `fabricks run` checks them.
 */
export async function entryReference(ref: string, cwd: string, home: string): Promise<string> {
  if (ref.trim() === '') throw new FabricksError('USAGE', 'the reference to run is empty', { hint: 'give a project folder, a name:version or a registry reference' });
  const expanded = ref === '~' || ref.startsWith('~/') ? home + ref.slice(1) : ref;
  const path = resolve(cwd, expanded);
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
  if (isDir) return path;
  if (/^(\.{1,2}|~)?([\\/]|$)/.test(ref)) throw new FabricksError('USAGE', `${ref}: no such folder`, { hint: 'give the folder of a project (holding fabricks.toml), or a name:version or registry reference' });
  return ref;
}

/** A server name from the reference: the package or repository's last part, without version or tag. */
export function defaultServerName(ref: string): string {
  let s = ref.replace(/^(npm|pypi):/, '');
  if (ref.startsWith('pypi:')) s = s.split(/[=<>!~[;\s]/)[0]!;
  else if (ref.startsWith('npm:')) s = s.replace(/(?<=.)@[^/]*$/, '');
  else if (isAbsolute(s) || /^[A-Za-z]:[\\/]/.test(s)) s = basename(s);
  else s = s.replace(/@sha256:[0-9a-f]+$/i, '').replace(/:[^/:]*$/, '');
  const name = lastPart(s.replace(/[\\/]+$/, '')).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return name || 'fabricks';
}

/** Mount flags with a relative host folder get it made absolute (the client's folder is not this one). */
function absoluteMount(text: string, cwd: string): string {
  const colon = text.indexOf(':');
  if (colon <= 0) return text;
  const host = text.slice(0, colon);
  return isAbsolute(host) ? text : `${resolve(cwd, host)}${text.slice(colon)}`;
}

/** The flags as the entry passes them: host folders and the profile made absolute. */
export function absoluteGrants(flags: McpGrantFlags, cwd: string): McpGrantFlags {
  return {
    ...flags,
    ...(flags.mount ? { mount: flags.mount.map((v) => absoluteMount(v, cwd)) } : {}),
    ...(flags.allowMount ? { allowMount: flags.allowMount.map((v) => absoluteMount(v, cwd)) } : {}),
    ...(flags.profile !== undefined ? { profile: resolve(cwd, flags.profile) } : {}),
  };
}

/** `run <ref> [grant flags] [-- program args]`, each flag as `run` takes it, paths made absolute. */
export function runArgs(ref: string, given: McpGrantFlags, passthrough: string[], cwd: string): string[] {
  const flags = absoluteGrants(given, cwd);
  const args = ['run', ref];
  const each = (flag: string, values: string[] | undefined) => {
    for (const v of values ?? []) args.push(flag, v);
  };
  each('--env', flags.env);
  each('--mount', flags.mount);
  each('--connect', flags.connect);
  if (flags.profile !== undefined) args.push('--profile', flags.profile);
  each('--allow-connect', flags.allowConnect);
  each('--allow-env', flags.allowEnv);
  each('--allow-mount', flags.allowMount);
  if (flags.allowWideMount) args.push('--allow-wide-mount');
  for (const [flag, value] of [['--memory', flags.memory], ['--timeout', flags.timeout], ['--request-timeout', flags.requestTimeout], ['--concurrency', flags.concurrency]] as const) {
    if (value !== undefined) args.push(flag, value);
  }
  if (passthrough.length) args.push('--', ...passthrough);
  return args;
}
