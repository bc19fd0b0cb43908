// node:tls for bundles: TLS connections are refused when used (the runtime has no sockets; the
// host does TLS for https:// requests); the constants packages read at load are there.
import { refuse, refuseClass } from './unavailable.js';
import { Socket } from './net.js';

const WHY = 'the runtime has no TCP sockets, and the host does TLS for it: make https:// requests (fetch, https.request) to hosts granted in [capabilities.network] connect in fabricks.toml';
const extra = { capability: 'network.connect' };

/** Node wraps a stream that is not a net.Socket in one of these; http2-wrapper (got) takes its class at load. */
class JSStreamSocket extends Socket {}

/** A TLS socket that is made (packages make one at load) but whose connect() is refused as a connection is. */
export class TLSSocket extends Socket {
  static _refused = ['node:tls connect()', WHY];
  encrypted = true;
  constructor(socket) {
    super();
    this._handle = { _parentWrap: socket && !(socket instanceof Socket) ? new JSStreamSocket() : undefined };
  }
}

export const connect = (...args) => new TLSSocket().connect(...args);
export const createSecureContext = refuse('node:tls createSecureContext()', WHY, extra);
export const SecureContext = refuseClass('node:tls SecureContext', WHY, extra);
const LISTEN_WHY = 'the runtime has no sockets; a service answers HTTP through [capabilities.network] listen in fabricks.toml, and TLS is the job of what stands in front of it';
export const createServer = refuse('node:tls createServer()', LISTEN_WHY, { capability: 'network.listen' });
export const Server = refuseClass('node:tls Server', LISTEN_WHY, { capability: 'network.listen' });
export const checkServerIdentity = refuse('node:tls checkServerIdentity()', WHY, extra);
export const getCiphers = () => [];
export const rootCertificates = Object.freeze([]);
export const DEFAULT_ECDH_CURVE = 'auto';
export const DEFAULT_MIN_VERSION = 'TLSv1.2';
export const DEFAULT_MAX_VERSION = 'TLSv1.3';
export const DEFAULT_CIPHERS = '';
export const CLIENT_RENEG_LIMIT = 3;
export const CLIENT_RENEG_WINDOW = 600;

export default { connect, TLSSocket, createSecureContext, SecureContext, createServer, Server, checkServerIdentity, getCiphers, rootCertificates, DEFAULT_ECDH_CURVE, DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION, DEFAULT_CIPHERS, CLIENT_RENEG_LIMIT, CLIENT_RENEG_WINDOW };
