import { isAbsolute, resolve } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { allowedVariable, isEnvName, matchedByPattern } from '../config/env-names.js';
import { secretReason } from '../config/secrets.js';
import type { MountSpec } from '../config/capabilities.js';
import { parseConnectRule } from '../config/connect-rules.js';
import type { Capabilities } from '../artifact/app.js';
import type { Limits, Mount } from '../engine/grants.js';
import { parseConcurrency, parseDuration, parseMemory } from '../config/limits.js';

/**
 * What `fabricks run` may add to what the artifact grants. `env` and `mount` fill in or narrow;
 * `allowEnv` and `allowMount` widen, explicitly, and each widening is reported.
 */
export interface RunFlags {
  /** NAME=VALUE (a value for a variable the artifact allows) or NAME (take it from the host). */
  env?: string[];
  /** NAME[=VALUE]: a variable the artifact does not allow, granted for this run. */
  allowEnv?: string[];
  /** HOST:GUEST[:ro]: the host folder for a mount the artifact declares (ro narrows it). */
  mount?: string[];
  /** HOST:GUEST[:ro|rw]: a folder the artifact does not declare, granted for this run. */
  allowMount?: string[];
  /** [ADDR:]PORT: where to serve a service that asks to listen (the port it asks for, mapped). */
  listen?: string;
  /** [ADDR:]PORT: serve a service whose artifact does not ask to listen, for this run. */
  allowListen?: string;
  /** A `connect` rule the artifact does not grant, for this run. */
  allowConnect?: string[];
  /** [limits] for this run: memory per instance (a size), a run's and a request's time (durations), requests at once. */
  memory?: string;
  timeout?: string;
  requestTimeout?: string;
  concurrency?: string;
  /** Let a read-write mount of /, of the home folder or of a folder holding it through (wide-mounts.ts). */
  allowWideMount?: boolean;
}

/** A granted folder, and what gave its host folder: the fabricks.toml field or the flag, as written. */
export interface GrantedMount extends Mount {
  from: string;
}

/** `from` of a mount whose host folder the project's fabricks.toml gives. */
export const FROM_PROJECT = '[capabilities.filesystem] mounts in fabricks.toml';

export interface RunGrants {
  env: Array<[string, string]>;
  mounts: GrantedMount[];
  /** Outbound rules: the artifact's `connect`, and --allow-connect's. */
  connect: string[];
  /** Where to serve wasi:http, when the service listens. */
  listen?: { host: string; port: number };
  /** What the flags granted beyond the artifact, in words ("env API_TOKEN", "mount /tmp/x at /x (rw)"). */
  widened: string[];
}

function splitAssignment(flag: string, text: string): [string, string | undefined] {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  if (!isEnvName(name)) throw new FabricksError('USAGE', `${flag} ${text}: "${name}" is not a variable name`);
  return [name, eq < 0 ? undefined : text.slice(eq + 1)];
}

function parseMountFlag(flag: string, text: string, cwd: string): { host: string; guest: string; mode?: 'ro' | 'rw'; from: string } {
  const parts = text.split(':');
  const mode = parts.length === 3 ? parts[2] : undefined;
  if (parts.length < 2 || parts.length > 3 || (mode !== undefined && mode !== 'ro' && mode !== 'rw') || !parts[1]!.startsWith('/')) {
    throw new FabricksError('USAGE', `${flag} ${text}: write it as HOST:GUEST or HOST:GUEST:ro, e.g. ./data:/data:ro`);
  }
  const host = isAbsolute(parts[0]!) ? parts[0]! : resolve(cwd, parts[0]!);
  return { host, guest: parts[1]!.replace(/\/+$/, '') || '/', ...(mode ? { mode: mode as 'ro' | 'rw' } : {}), from: `${flag} ${text}` };
}

/**
 * The grants of one run: the host environment filtered by `allow` (secrets, by name or value,
 * only when named exactly), `set` values over it, and each declared mount given its host folder (from
 * the project's fabricks.toml, or --mount). Flags may fill in and narrow; only the --allow-*
 * flags widen, and what they widen is listed.
 */
export function resolveGrants(
  caps: Capabilities,
  projectMounts: MountSpec[] | undefined,
  hostEnv: NodeJS.ProcessEnv,
  flags: RunFlags,
  cwd: string,
): RunGrants {
  const widened: string[] = [];
  const env = new Map<string, string>();
  for (const [name, value] of Object.entries(hostEnv)) {
    if (value !== undefined && allowedVariable(caps.env.allow, name, value)) env.set(name, value);
  }
  for (const [name, value] of Object.entries(caps.env.set)) env.set(name, value);
  for (const text of flags.env ?? []) {
    const [name, value] = splitAssignment('--env', text);
    const v = value ?? hostEnv[name];
    if (!allowedVariable(caps.env.allow, name, v) && !(name in caps.env.set)) {
      const secret = matchedByPattern(caps.env.allow, name) ? secretReason(name, v) : undefined;
      throw new FabricksError(
        'USAGE',
        secret
          ? `--env ${name}: the service is not granted ${name}: only a pattern in [capabilities.env] allow matches it, and ${secret}, which a pattern never lets through`
          : `--env ${name}: the service is not granted ${name} ([capabilities.env] allow does not let it through)`,
        { hint: `add "${name}" to [capabilities.env] allow in fabricks.toml, or pass --allow-env ${name} to grant it for this run only` },
      );
    }
    if (v !== undefined) env.set(name, v);
  }
  for (const text of flags.allowEnv ?? []) {
    const [name, value] = splitAssignment('--allow-env', text);
    const v = value ?? hostEnv[name];
    if (v === undefined) throw new FabricksError('USAGE', `--allow-env ${name}: ${name} is not set here; pass --allow-env ${name}=VALUE`);
    env.set(name, v);
    if (!allowedVariable(caps.env.allow, name, v)) widened.push(`env ${name}`);
  }

  const given = new Map((flags.mount ?? []).map((t) => {
    const m = parseMountFlag('--mount', t, cwd);
    return [m.guest, m] as const;
  }));
  const mounts: GrantedMount[] = [];
  for (const declared of caps.filesystem.mounts) {
    const flag = given.get(declared.guest);
    given.delete(declared.guest);
    const host = flag?.host ?? projectMounts?.find((m) => m.guest === declared.guest)?.host;
    if (!host) {
      throw new FabricksError('USAGE', `the service needs a folder at ${declared.guest} (${declared.mode}), and nothing says which host folder it is`, {
        hint: `pass --mount HOST:${declared.guest}${declared.mode === 'ro' ? ':ro' : ''}`,
      });
    }
    if (flag?.mode === 'rw' && declared.mode === 'ro') {
      throw new FabricksError('USAGE', `--mount ${flag.host}:${declared.guest}:rw would let the service write to ${declared.guest}, which it is granted read-only`, {
        hint: `set mode = "rw" for it in [capabilities.filesystem] mounts, or pass --allow-mount ${flag.host}:${declared.guest}:rw to grant it for this run only`,
      });
    }
    mounts.push({ guest: declared.guest, host, mode: flag?.mode ?? declared.mode, from: flag?.from ?? FROM_PROJECT });
  }
  for (const [guest, flag] of given) {
    throw new FabricksError('USAGE', `--mount ${flag.host}:${guest}: the service declares no folder at ${guest}`, {
      hint: `add { guest = "${guest}" } to [capabilities.filesystem] mounts, or pass --allow-mount ${flag.host}:${guest}${flag.mode ? `:${flag.mode}` : ':ro'} to grant it for this run only`,
    });
  }
  for (const text of flags.allowMount ?? []) {
    const m = parseMountFlag('--allow-mount', text, cwd);
    const mode = m.mode ?? 'ro';
    const existing = mounts.findIndex((x) => x.guest === m.guest);
    if (existing >= 0) mounts.splice(existing, 1);
    mounts.push({ guest: m.guest, host: m.host, mode, from: m.from });
    widened.push(`mount ${m.host} at ${m.guest} (${mode})`);
  }
  const connect = [...caps.network.connect];
  for (const rule of flags.allowConnect ?? []) {
    const parsed = parseConnectRule(rule);
    if ('error' in parsed) throw new FabricksError('USAGE', `--allow-connect ${rule}: the rule ${parsed.error}`);
    connect.push(rule);
    widened.push(`connect ${rule}`);
  }
  const listen = resolveListen(caps.network.listen, flags, widened);
  return { env: [...env.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), mounts, connect, ...(listen ? { listen } : {}), widened };
}

/** [ADDR:]PORT, loopback when no address is given. Port 0 picks a free port. */
function parseListen(flag: string, text: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new FabricksError('USAGE', `${flag} ${text}: write it as PORT or ADDRESS:PORT, e.g. 8080 or 0.0.0.0:8080`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/**
 * Where a service serves: the port its artifact asks for on loopback, or what --listen maps it
 * to; a service that does not ask to listen serves only with --allow-listen, a widening.
 */
function resolveListen(declared: number[], flags: RunFlags, widened: string[]): { host: string; port: number } | undefined {
  if (flags.allowListen !== undefined) {
    const at = parseListen('--allow-listen', flags.allowListen);
    if (declared.length === 0) widened.push(`listen on ${at.host}:${at.port}`);
    return at;
  }
  if (flags.listen !== undefined) {
    if (declared.length === 0) {
      throw new FabricksError('USAGE', `--listen ${flags.listen}: the service does not ask to listen ([capabilities.network] listen is empty)`, {
        hint: `add listen = [PORT] to [capabilities.network] in fabricks.toml, or pass --allow-listen ${flags.listen} to grant it for this run only`,
      });
    }
    return parseListen('--listen', flags.listen);
  }
  return declared.length > 0 ? { host: '127.0.0.1', port: declared[0]! } : undefined;
}

/** Memory one instance may hold when neither [limits] nor --memory says. */
export const DEFAULT_MEMORY = 512 * 1024 ** 2;
/** How long a request may take when neither [limits] nor --request-timeout says. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

/**
 * The limits of one run: a flag over the artifact's [limits], over the defaults (memory always;
 * a request's time when serving; a run has no time limit unless one is set, as a server over
 * stdio runs for as long as its client).
 */
export function resolveLimits(declared: Limits, flags: RunFlags, serving: boolean): Limits {
  const out: Limits = { memory: DEFAULT_MEMORY, ...declared };
  if (serving && out.requestTimeoutMs === undefined) out.requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
  if (flags.memory !== undefined) out.memory = parseMemory(flags.memory, '--memory');
  if (flags.timeout !== undefined) out.timeoutMs = parseDuration(flags.timeout, '--timeout');
  if (flags.requestTimeout !== undefined) out.requestTimeoutMs = parseDuration(flags.requestTimeout, '--request-timeout');
  if (flags.concurrency !== undefined) out.concurrency = parseConcurrency(flags.concurrency, '--concurrency');
  return out;
}
