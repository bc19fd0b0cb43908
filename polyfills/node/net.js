// node:net for bundles: the address checks packages call at load (isIP, isIPv4, isIPv6) work;
// sockets are refused when used, as a WASI component here has none: the network is reached by
// HTTP, to the hosts [capabilities.network] connect grants.
import { EventEmitter } from 'node:events';
import { isIP, isIPv4, isIPv6 } from './ip.js';
import { refuse, refuseClass, unavailable } from './unavailable.js';

export { isIP, isIPv4, isIPv6 };

const WHY = 'the runtime has no TCP sockets; reach other services over HTTP (fetch, http.request) and grant their hosts in [capabilities.network] connect in fabricks.toml';
const extra = { capability: 'network.connect' };

/** Where connect(port, host) / connect({ port, host }) / connect(path) would have gone. */
function target(args) {
  const [a, b] = args;
  if (a && typeof a === 'object') return a.path ?? `${a.host ?? 'localhost'}:${a.port}`;
  if (typeof a === 'string' && !/^\d+$/.test(a)) return a;
  return `${typeof b === 'string' ? b : 'localhost'}:${a}`;
}

/**
 * A socket that never connects: connect() fails as a refused connection does in Node, with an
 * 'error' event after the caller has attached its listeners (database and cache clients handle
 * it there and reject the query), naming where it was going and why.
 */
export class Socket extends EventEmitter {
  /** What a refused connect() says it is (node:tls's TLSSocket says tls). */
  static _refused = ['node:net connect()', WHY];
  connecting = false;
  destroyed = false;
  pending = true;
  readable = false;
  writable = false;
  connect(...args) {
    const [what, why] = this.constructor._refused;
    const err = unavailable(`${what} to ${target(args)}`, why, extra);
    err.syscall = 'connect';
    this.connecting = true;
    setTimeout(() => {
      this.connecting = false;
      this.destroyed = true;
      this.emit('error', err);
      this.emit('close', true);
    }, 0);
    return this;
  }
  write() {
    return false;
  }
  end() {
    return this;
  }
  destroy() {
    this.destroyed = true;
    return this;
  }
}
for (const m of ['setEncoding', 'setNoDelay', 'setKeepAlive', 'setTimeout', 'pause', 'resume', 'ref', 'unref', 'cork', 'uncork']) {
  Socket.prototype[m] = function () {
    return this;
  };
}
export const Stream = Socket;
export const connect = (...args) => new Socket().connect(...args);
export const createConnection = connect;
const LISTEN_WHY = 'the runtime has no TCP sockets; a service answers HTTP through [capabilities.network] listen in fabricks.toml';
export const Server = refuseClass('node:net Server', LISTEN_WHY, { capability: 'network.listen' });
export const createServer = refuse('node:net createServer()', LISTEN_WHY, { capability: 'network.listen' });
export const BlockList = refuseClass('node:net BlockList', WHY, extra);
export const SocketAddress = refuseClass('node:net SocketAddress', WHY, extra);

let autoSelectFamily = true;
let autoSelectFamilyTimeout = 250;
export const getDefaultAutoSelectFamily = () => autoSelectFamily;
export const setDefaultAutoSelectFamily = (v) => void (autoSelectFamily = Boolean(v));
export const getDefaultAutoSelectFamilyAttemptTimeout = () => autoSelectFamilyTimeout;
export const setDefaultAutoSelectFamilyAttemptTimeout = (v) => void (autoSelectFamilyTimeout = Math.max(10, Number(v) || 250));

export default { isIP, isIPv4, isIPv6, Socket, Stream, connect, createConnection, Server, createServer, BlockList, SocketAddress, getDefaultAutoSelectFamily, setDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout, setDefaultAutoSelectFamilyAttemptTimeout };
