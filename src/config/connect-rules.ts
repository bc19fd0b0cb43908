import { isIP } from 'node:net';

/**
 * One entry of `[capabilities.network] connect`, parsed: a host name (exact, or `*.` for any
 * subdomain), an IP address, or a CIDR block, with a port or not. A host without a port means
 * the web's default ports (80 and 443); an address or block without one means any port.
 */
export type ConnectRule =
  | { kind: 'host'; host: string; wildcard: boolean; port?: number }
  | { kind: 'cidr'; address: string; prefix: number; family: 4 | 6; port?: number };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The rule an entry says, or why it says none (for the config error). */
export function parseConnectRule(entry: string): ConnectRule | { error: string } {
  const text = entry.trim().toLowerCase();
  if (text !== entry.toLowerCase() || text === '') return { error: 'has spaces around it or is empty' };
  if (/^[a-z]+:\/\//.test(text) || text.includes('/') && !/^[0-9a-f.:[\]]+\/\d+(:\d+)?$/.test(text)) {
    return { error: 'is a URL or path; write a host, host:port or CIDR block (api.example.com, api.example.com:443, 10.0.0.0/8)' };
  }
  let rest = text;
  let port: number | undefined;
  // [v6]:port, v4:port, host:port, block:port; a bare IPv6 address has several colons
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const [h, p] = rest.split(':');
    if (!/^\d+$/.test(p!)) return { error: `has a port "${p}" that is not a number` };
    rest = h!;
    port = Number(p);
  }
  if (port !== undefined && (port < 1 || port > 65535)) return { error: `has port ${port}, not between 1 and 65535` };
  const withPort = port !== undefined ? { port } : {};
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const address = rest.slice(0, slash);
    const prefix = Number(rest.slice(slash + 1));
    const family = isIP(address);
    if (family === 0) return { error: `is a block whose address "${address}" is not an IP address` };
    const max = family === 4 ? 32 : 128;
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return { error: `has a prefix length that is not between 0 and ${max}` };
    return { kind: 'cidr', address, prefix, family: family as 4 | 6, ...withPort };
  }
  const family = isIP(rest);
  if (family !== 0) return { kind: 'cidr', address: rest, prefix: family === 4 ? 32 : 128, family: family as 4 | 6, ...withPort };
  const wildcard = rest.startsWith('*.');
  const host = wildcard ? rest.slice(2) : rest;
  if (host.includes('*')) return { error: 'may only start with "*." (any subdomain); "*" elsewhere is not a host pattern' };
  if (!host.split('.').every((l) => LABEL.test(l))) return { error: 'is not a host name (letters, digits and "-", between dots)' };
  return { kind: 'host', host, wildcard, ...withPort };
}
