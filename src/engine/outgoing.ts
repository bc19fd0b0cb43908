/**
 * wasi:http/outgoing-handler behind `[capabilities.network] connect`: the host name as written
 * (with its port) must be granted, and then every address it resolves to; anything else fails
 * with error-code internal-error whose text names the capability to add. That text is the
 * protocol the runtimes rely on to raise a clear error in the guest's language.
 */
import { isIP } from 'node:net';
import * as http from '@bytecodealliance/preview2-shim/http';
import { callExtension } from '@bytecodealliance/preview2-shim/io-worker';
import { addressDenial, nameDenial, NetworkPolicy, requestTarget } from './network-policy.js';

const DNS = new URL('./dns-extension.js', import.meta.url);

interface OutgoingRequest {
  scheme(): { tag: string; val?: string } | undefined;
  authority(): string | undefined;
}

/** A refusal, with the `host:port` it was about (the JavaScript runtime looks it up by that). */
export interface Denial {
  target: string;
  message: string;
}

/** The message a refused connection carries: what was refused, and what to add to grant it. */
export function denialMessage(policy: NetworkPolicy, host: string, port: number): string | undefined {
  const byName = nameDenial(policy, host, port);
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (byName || isIP(name) !== 0) return byName;
  const resolved = callExtension(DNS, 'lookup', { name } as never) as { addresses: string[] } | { error: string };
  // a name that does not resolve fails as it would anyway (a DNS error), with nothing to grant
  if ('error' in resolved) return undefined;
  return addressDenial(policy, name, resolved.addresses, port);
}

export function outgoingHandler(connect: string[], onDenied: (d: Denial) => void): { handle: (request: OutgoingRequest, options: unknown) => unknown } {
  const policy = new NetworkPolicy(connect);
  const shim = (http as unknown as { outgoingHandler: { handle: (r: unknown, o: unknown) => unknown } }).outgoingHandler;
  return {
    handle(request, options) {
      const target = requestTarget(request.scheme(), request.authority());
      if ('error' in target) throw { tag: target.error };
      const { host, port } = target;
      const message = denialMessage(policy, host, port);
      if (message) {
        onDenied({ target: `${host}:${port}`, message });
        throw { tag: 'internal-error', val: message };
      }
      return shim.handle(request, options);
    },
  };
}
