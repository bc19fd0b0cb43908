// Network denials. StarlingMonkey's fetch reports every host error as "an error occurred while
// using the host API"; when the engine refused the connection ([capabilities.network] connect),
// it puts the denial in this instance's environment under `FABRICKS_DENIED host:port`
// (docs/host-protocol.md), and fetch rejects with its message instead (a TypeError, as fetch's
// network errors are).

import { getEnvironment } from './host.js';

const DENIED = 'FABRICKS_DENIED ';
const deniedSeen = new Map();

export function deniedError(input) {
  let url;
  try {
    url = new URL(input instanceof Request ? input.url : String(input));
  } catch {
    return undefined;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  // an IPv6 address in brackets, as the engine writes it
  const key = `${DENIED}${url.hostname.toLowerCase()}:${port}`;
  const found = getEnvironment().find(([k]) => k === key);
  if (!found) return undefined;
  let denied;
  try {
    denied = JSON.parse(found[1]).denied;
  } catch {
    denied = { message: found[1] };
  }
  // each denial is taken once: an instance serving request after request keeps its environment,
  // and a later failure of a request to the same place is not this denial
  if (typeof denied.seq === 'number') {
    if (denied.seq <= (deniedSeen.get(key) ?? 0)) return undefined;
    deniedSeen.set(key, denied.seq);
  }
  const error = new TypeError(denied.message);
  error.cause = { code: 'EACCES', capability: denied.capability, target: denied.target, rule: denied.rule };
  return error;
}

export const withoutDenials = (env) => env.filter(([k]) => !k.startsWith(DENIED));
