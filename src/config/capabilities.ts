import { isAbsolute, posix, resolve } from 'node:path';
import { parseConnectRule } from './connect-rules.js';
import { isEnvName, isEnvPattern } from './env-names.js';
import { credentialIn, looksSecret } from './secrets.js';

/** A folder the service may see at `guest`; `host` is where it comes from on local runs. */
export interface MountSpec {
  guest: string;
  mode: 'ro' | 'rw';
  /** Absolute; absent when it is given at run time (--mount). */
  host?: string;
}

/** `[capabilities]` as the project declares it: what is not here is denied. */
export interface ProjectCapabilities {
  network: { listen: number[]; connect: string[] };
  env: { allow: string[]; set: Record<string, string> };
  filesystem: { mounts: MountSpec[] };
}

type Table = Record<string, unknown>;
type Add = (field: string, message: string) => void;

const asTable = (v: unknown): Table => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * Stage two of `[capabilities]` (stage one, the types of keys, is the schema check): every
 * entry means something, and every problem is reported with its field.
 */
export function parseCapabilities(raw: unknown, projectDir: string, add: Add): ProjectCapabilities {
  const caps = asTable(raw);
  const network = asTable(caps.network);
  const env = asTable(caps.env);
  const filesystem = asTable(caps.filesystem);

  const listen = Array.isArray(network.listen) ? network.listen.filter((p): p is number => typeof p === 'number') : [];
  for (const port of listen) if (port < 1 || port > 65535) add('[capabilities.network] listen', `port ${port} is not between 1 and 65535`);
  if (new Set(listen).size !== listen.length) add('[capabilities.network] listen', 'names a port twice');

  const connect = strings(network.connect);
  for (const entry of connect) {
    const rule = parseConnectRule(entry);
    if ('error' in rule) add('[capabilities.network] connect', `"${entry}" ${rule.error}`);
  }

  const allow = strings(env.allow);
  for (const name of allow) {
    if (!isEnvPattern(name)) add('[capabilities.env] allow', `"${name}" is not a variable name or pattern (letters, digits, "_", and "*" or "?" in patterns)`);
  }
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(asTable(env.set))) {
    const carried = typeof value === 'string' ? credentialIn(value) : undefined;
    if (!isEnvName(name)) add('[capabilities.env] set', `"${name}" is not a variable name (letters, digits and "_", not starting with a digit)`);
    else if (looksSecret(name)) {
      add('[capabilities.env] set', `${name} looks like a secret, and set values are recorded in the artifact for anyone who pulls it; list it in allow instead, so it comes from the host at run time`);
    } else if (carried) {
      // the same rule as for host values passing a pattern (secrets.ts); the value is never shown
      add('[capabilities.env] set', `the value of ${name} holds ${carried}, and set values are recorded in the artifact for anyone who pulls it; list ${name} in allow instead, so it comes from the host at run time`);
    } else if (typeof value === 'string') set[name] = value;
  }

  const mounts: MountSpec[] = [];
  const seen = new Set<string>();
  const list = Array.isArray(filesystem.mounts) ? filesystem.mounts : [];
  list.forEach((m, i) => {
    const field = '[capabilities.filesystem] mounts';
    const where = `entry ${i + 1}`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) return add(field, `${where} must be a table such as { guest = "/data", host = "./data", mode = "ro" }`);
    const entry = m as Table;
    for (const key of Object.keys(entry)) if (!['guest', 'host', 'mode'].includes(key)) add(field, `${where} has an unknown key "${key}"; a mount has guest, host and mode`);
    const guest = entry.guest;
    if (typeof guest !== 'string' || !guest.startsWith('/')) return add(field, `${where} needs guest, an absolute path in the service such as "/data"`);
    const normal = posix.normalize(guest).replace(/\/+$/, '');
    if (normal === '' || normal !== guest.replace(/\/+$/, '') || guest.split('/').includes('..')) {
      return add(field, `${where}: guest "${guest}" must be a plain absolute path below "/" (no "..", "." or doubled "/")`);
    }
    if (seen.has(normal)) return add(field, `${where}: guest "${guest}" is mounted twice`);
    seen.add(normal);
    const mode = entry.mode ?? 'ro';
    if (mode !== 'ro' && mode !== 'rw') return add(field, `${where}: mode "${String(mode)}" must be "ro" or "rw"`);
    if (entry.host !== undefined && typeof entry.host !== 'string') return add(field, `${where}: host must be a path (relative to this file) or be left out`);
    const host = typeof entry.host === 'string' ? (isAbsolute(entry.host) ? entry.host : resolve(projectDir, entry.host)) : undefined;
    mounts.push({ guest: normal, mode, ...(host ? { host } : {}) });
  });

  return { network: { listen, connect }, env: { allow, set }, filesystem: { mounts } };
}
