import { basename, resolve } from 'node:path';
import { FabricksError } from '../util/errors.js';

/**
 * How the gateway names what its servers offer: `<server>__<name>` for tools and prompts. A
 * server's name has no `__` and does not end in `_`, so the first `__` of a prefixed name is
 * always the seam, whatever the tool's own name holds.
 */
export const SEPARATOR = '__';

/** Letters, digits, `-`, `.` and single `_` inside: what MCP allows in a tool name, less the seam. */
const SERVER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]|_(?!_))*$/;

export function isServerName(name: string): boolean {
  return SERVER_NAME.test(name) && !name.endsWith('_') && name.length <= 64;
}

export function checkServerName(name: string, where: string): string {
  if (!isServerName(name)) {
    throw new FabricksError('USAGE', `${where}: "${name}" is not a server name the gateway can prefix tools with`, {
      hint: 'use letters, digits, "-", "." and single "_" (no "__", at most 64 characters), e.g. --server weather=examples/mcp-weather-js',
    });
  }
  return name;
}

export function prefixed(server: string, name: string): string {
  return `${server}${SEPARATOR}${name}`;
}

/** `<server>__<name>` taken apart, or undefined for a name without the seam. */
export function unprefixed(full: string): { server: string; name: string } | undefined {
  const at = full.indexOf(SEPARATOR);
  if (at <= 0) return undefined;
  return { server: full.slice(0, at), name: full.slice(at + SEPARATOR.length) };
}

/**
 * A server's name when none is given, from what `fabricks run` is pointed at: a folder's name
 * (`examples/mcp-weather-js` -> `mcp-weather-js`), a stored build's name (`weather:1.0` ->
 * `weather`), a pushed artifact's repository (`ghcr.io/you/weather:1.0` -> `weather`); anything
 * a tool name cannot hold becomes `-`.
 */
export function defaultServerName(ref: string, isFolder: boolean): string {
  let base: string;
  if (isFolder) base = basename(resolve(ref));
  else {
    const noDigest = ref.split('@')[0]!;
    const lastPart = noDigest.split('/').at(-1)!;
    base = lastPart.split(':')[0]!;
  }
  const name = base
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/_{2,}/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[_]+$/, '')
    .slice(0, 64);
  return name === '' ? 'server' : name;
}
