import { BlockList, isIP } from 'node:net';
import { parseConnectRule, type ConnectRule } from '../config/connect-rules.js';

/** The ports a rule without a port means for a host name: the web's (http and https). */
const WEB_PORTS = [80, 443];

/** Loopback, private, link-local and unique-local blocks: a name that resolves into one is refused unless a rule names it. */
let internal: BlockList | undefined;
/** Made on first use: a run that never connects out does not pay for it at start-up. */
function internalBlocks(): BlockList {
  if (internal) return internal;
  internal = new BlockList();
  for (const [address, prefix] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['169.254.0.0', 16], ['0.0.0.0', 8], ['100.64.0.0', 10]] as const) internal.addSubnet(address, prefix, 'ipv4');
  for (const [address, prefix] of [['::1', 128], ['fc00::', 7], ['fe80::', 10], ['::', 128]] as const) internal.addSubnet(address, prefix, 'ipv6');
  return internal;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

/**
 * `[capabilities.network] connect`, ready to ask. A connection is allowed when a rule names its
 * host (as written) and port, and, once the name is resolved, every address it resolves to is
 * allowed too: a rule for a host name covers public addresses; an internal address (loopback,
 * private, link-local) only when an address or block rule covers it.
 */
export class NetworkPolicy {
  private readonly rules: ConnectRule[];

  constructor(entries: string[]) {
    this.rules = entries.map(parseConnectRule).filter((r): r is ConnectRule => !('error' in r));
  }

  /** Whether `host:port` may be asked for at all, judged on the name as written. */
  checkName(host: string, port: number): Decision {
    const name = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
    const ip = isIP(name);
    const ok = this.rules.some((r) => {
      if (r.kind === 'host') {
        if (ip !== 0) return false;
        const nameMatches = r.wildcard ? name.endsWith(`.${r.host}`) : name === r.host;
        return nameMatches && (r.port === undefined ? WEB_PORTS.includes(port) : r.port === port);
      }
      return ip !== 0 && inBlock(r, name, ip) && (r.port === undefined || r.port === port);
    });
    return ok ? { allowed: true } : { allowed: false, reason: `network access to ${formatHost(name)}:${port} is not granted` };
  }

  /** Whether an address a granted name resolved to may be reached (a name into a denied block is not). */
  checkAddress(host: string, address: string, port: number): Decision {
    const family = isIP(address);
    if (family === 0) return { allowed: false, reason: `${host} resolved to "${address}", which is not an address` };
    const byRule = this.rules.some((r) => r.kind === 'cidr' && inBlock(r, address, family) && (r.port === undefined || r.port === port));
    if (byRule) return { allowed: true };
    if (internalBlocks().check(address, family === 4 ? 'ipv4' : 'ipv6')) {
      return { allowed: false, reason: `network access to ${host}:${port} is not granted: it resolves to ${address}, an internal address` };
    }
    return { allowed: true };
  }
}

function inBlock(rule: Extract<ConnectRule, { kind: 'cidr' }>, address: string, family: number): boolean {
  if ((rule.family === 4 ? 4 : 6) !== family) return false;
  const list = new BlockList();
  list.addSubnet(rule.address, rule.prefix, rule.family === 4 ? 'ipv4' : 'ipv6');
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const formatHost = (host: string) => (isIP(host) === 6 ? `[${host}]` : host);

/** The sentence a denial ends with: which capability to add, and where. */
export function grantHint(host: string, port: number): string {
  return `add "${formatHost(host)}:${port}" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml`;
}

/** The host and port a request goes to, or the wasi:http error-code it fails with. */
export function requestTarget(scheme: { tag: string; val?: string } | undefined, authority: string | undefined): { host: string; port: number } | { error: string } {
  if (scheme && scheme.tag === 'other') return { error: 'HTTP-protocol-error' };
  const https = !scheme || scheme.tag === 'HTTPS';
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(authority ?? '');
  if (!m) return { error: 'HTTP-request-URI-invalid' };
  return { host: m[1]!.replace(/^\[|\]$/g, '').toLowerCase(), port: m[2] ? Number(m[2]) : https ? 443 : 80 };
}

/** Why `host:port` is refused judged by its name alone, or undefined when the name is granted. */
export function nameDenial(policy: NetworkPolicy, host: string, port: number): string | undefined {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  const byName = policy.checkName(name, port);
  return byName.allowed ? undefined : `${byName.reason}; ${grantHint(name, port)}`;
}

/** Why a granted name is refused once resolved (an address it may not reach), or undefined. */
export function addressDenial(policy: NetworkPolicy, name: string, addresses: string[], port: number): string | undefined {
  for (const address of addresses) {
    const d = policy.checkAddress(name, address, port);
    if (!d.allowed) return `${d.reason}; ${grantHint(address, port)}`;
  }
  return undefined;
}
