// node:http's client (request, get, ClientRequest, Agent) over the runtime's fetch, so that an
// outbound request is judged by the same [capabilities.network] connect rules and refused with
// the same message as fetch(). There are no sockets: an Agent only keeps its options, and
// requests through a proxy agent still go straight to their host (which the policy judges).

import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import { FakeSocket, OutgoingHeaders, STATUS_CODES, headerPairs } from './http-common.js';
import { IncomingMessage } from './http-incoming.js';
import { unavailable } from './unavailable.js';
import { abortError } from './abort-error.js';

export class Agent extends EventEmitter {
  constructor(options = {}) {
    super();
    this.options = { path: null, ...options };
    this.keepAlive = Boolean(options.keepAlive);
    this.keepAliveMsecs = options.keepAliveMsecs ?? 1000;
    this.maxSockets = options.maxSockets ?? Infinity;
    this.maxFreeSockets = options.maxFreeSockets ?? 256;
    this.maxTotalSockets = options.maxTotalSockets ?? Infinity;
    this.scheduling = options.scheduling ?? 'lifo';
    this.defaultPort = options.defaultPort ?? 80;
    this.protocol = options.protocol ?? 'http:';
    this.sockets = {};
    this.freeSockets = {};
    this.requests = {};
  }
  getName(options = {}) {
    return `${options.host ?? 'localhost'}:${options.port ?? ''}:${options.localAddress ?? ''}`;
  }
  createConnection() {
    throw unavailable('node:http Agent createConnection()', 'the runtime has no sockets: HTTP requests go through fetch(), to hosts granted in [capabilities.network] connect');
  }
  keepSocketAlive() {
    return true;
  }
  reuseSocket() {}
  destroy() {}
}

export const globalAgent = new Agent();

// Headers the connection owns: wasi:http refuses them from a guest, and fetch sets its own.
// accept-encoding too: a compressed answer would have to be inflated by JavaScript that the
// runtime interprets, slowly; asking for none gets the plain body.
const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'content-length', 'expect', 'accept-encoding', 'http2-settings']);

/** Node's request(url?, options?, callback?) arguments as one options object. */
export function requestOptions(args, defaults) {
  let [a, b, c] = args;
  let options = {};
  if (typeof a === 'string' || a instanceof URL) {
    const u = new URL(String(a));
    options = { protocol: u.protocol, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || undefined, path: `${u.pathname}${u.search}`, ...(u.username ? { auth: `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` } : {}) };
    if (typeof b === 'function') {
      c = b;
      b = undefined;
    }
    if (b) options = { ...options, ...b };
  } else {
    options = { ...(a ?? {}) };
    if (typeof b === 'function') c = b;
  }
  return { options: { ...defaults, ...options }, callback: c };
}

export class ClientRequest extends OutgoingHeaders {
  constructor(options, callback, defaults = { protocol: 'http:', defaultPort: 80 }) {
    // 'close' comes when the response has ended (or the request failed), as Node's does, not
    // when the request's body is written
    super({ autoDestroy: false, emitClose: false });
    if (options.socketPath) throw unavailable(`node:http request to the Unix socket ${options.socketPath}`, 'the runtime has no sockets; reach services over HTTP, granted in [capabilities.network] connect');
    const protocol = options.protocol ?? options.agent?.protocol ?? defaults.protocol;
    if (protocol !== 'http:' && protocol !== 'https:') throw Object.assign(new TypeError(`Protocol "${protocol}" not supported. Expected "${defaults.protocol}"`), { code: 'ERR_INVALID_PROTOCOL' });
    this.protocol = protocol;
    this.method = (options.method ?? 'GET').toUpperCase();
    this.host = options.hostname ?? options.host?.replace(/:\d+$/, '') ?? 'localhost';
    this.port = options.port ? Number(options.port) : (options.defaultPort ?? options.agent?.defaultPort ?? (protocol === 'https:' ? 443 : 80));
    this.path = options.path ?? '/';
    this.agent = options.agent === false ? new Agent() : (options.agent ?? globalAgent);
    this.aborted = false;
    this.destroyed = false;
    this.reusedSocket = false;
    this.maxHeadersCount = null;
    this.headersSent = false;
    this.socket = new FakeSocket({ encrypted: protocol === 'https:' });
    this.connection = this.socket;
    this._chunks = [];
    this._abort = new AbortController();
    for (const [k, v] of headerPairs(options.headers)) this.appendHeader(k, v);
    if (options.auth && !this.hasHeader('authorization')) this.setHeader('authorization', `Basic ${Buffer.from(options.auth).toString('base64')}`);
    if (callback) this.once('response', callback);
    if (options.timeout) this.setTimeout(options.timeout);
    if (options.signal) {
      if (options.signal.aborted) queueMicrotask(() => this.destroy(abortError(options.signal.reason)));
      else options.signal.addEventListener('abort', () => this.destroy(abortError(options.signal.reason)), { once: true });
    }
    queueMicrotask(() => {
      if (this.destroyed) return;
      this.emit('socket', this.socket);
      this.socket.emit('connect');
    });
  }

  get url() {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    const standard = (this.protocol === 'https:' && this.port === 443) || (this.protocol === 'http:' && this.port === 80);
    return `${this.protocol}//${host}${standard ? '' : `:${this.port}`}${this.path}`;
  }

  flushHeaders() {}
  setNoDelay() {}
  setSocketKeepAlive() {}

  setTimeout(ms, cb) {
    if (cb) this.once('timeout', cb);
    clearTimeout(this._timer);
    // Node's timeout only says that the connection was idle this long; the listener decides
    if (ms > 0) {
      this._timer = setTimeout(() => this.emit('timeout'), ms);
      this._timer.unref?.();
    }
    return this;
  }

  abort() {
    if (this.aborted) return;
    this.aborted = true;
    queueMicrotask(() => this.emit('abort'));
    this.destroy();
  }

  _write(chunk, encoding, cb) {
    this._chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
    cb();
  }

  _final(cb) {
    this.headersSent = true;
    cb();
    this._send();
  }

  _destroy(err, cb) {
    clearTimeout(this._timer);
    this._abort.abort(err ?? abortError());
    this.res?.destroy(err ?? undefined);
    cb(err);
    this._closeOnce();
  }

  _closeOnce() {
    if (this._closed) return;
    this._closed = true;
    queueMicrotask(() => this.emit('close'));
  }

  async _send() {
    const headers = new Headers();
    for (const [k, { value }] of this._headers) {
      if (HOP_BY_HOP.has(k)) continue;
      for (const v of [].concat(value)) headers.append(k, String(v));
    }
    const body = this._chunks.length && this.method !== 'GET' && this.method !== 'HEAD' ? Buffer.concat(this._chunks) : null;
    let response;
    try {
      // Node's client never follows redirects: the caller (follow-redirects, got...) does
      response = await fetch(this.url, { method: this.method, headers, body, redirect: 'manual', signal: this._abort.signal });
    } catch (e) {
      if (this.destroyed) return;
      clearTimeout(this._timer);
      this.destroy(networkError(e, this));
      return;
    }
    clearTimeout(this._timer);
    if (this.destroyed) {
      response.body?.cancel().catch(() => undefined);
      return;
    }
    const res = new IncomingMessage(this.socket);
    res.req = this;
    res.statusCode = response.status;
    res.statusMessage = response.statusText || STATUS_CODES[response.status] || '';
    res.url = '';
    res.setHeaders(response.headers);
    res.bodyFrom(this.method === 'HEAD' ? null : response.body);
    res.on('end', () => this._closeOnce());
    this.res = res;
    // as Node does: a response nobody listens for is read to its end and dropped
    if (!this.emit('response', res)) res.resume();
  }
}

/** fetch's rejection as Node's client error: a denied host keeps its message (naming connect). */
function networkError(e, req) {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err.name === 'AbortError') return abortError(err);
  if (!err.code) err.code = err.cause?.code === 'EACCES' ? 'EACCES' : 'ECONNREFUSED';
  err.syscall ??= 'connect';
  err.address ??= req.host;
  err.port ??= req.port;
  return err;
}

export function request(...args) {
  const { options, callback } = requestOptions(args, {});
  return new ClientRequest(options, callback);
}

export function get(...args) {
  const req = request(...args);
  req.end();
  return req;
}
