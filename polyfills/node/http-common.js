// What node:http's client and server share: status texts, methods, header lists, and the socket
// that stands in for a connection (the runtime has none: requests go through fetch, and the
// engine owns the listening socket).

import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';

export const STATUS_CODES = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked', 424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates', 507: 'Insufficient Storage', 508: 'Loop Detected', 509: 'Bandwidth Limit Exceeded', 510: 'Not Extended', 511: 'Network Authentication Required',
};

export const METHODS = ['ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE'];

export const maxHeaderSize = 16384;

const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;

export function validateHeaderName(name) {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw Object.assign(new TypeError(`Header name must be a valid HTTP token ["${name}"]`), { code: 'ERR_INVALID_HTTP_TOKEN' });
  }
}

export function validateHeaderValue(name, value) {
  if (value === undefined) throw Object.assign(new TypeError(`Invalid value "${value}" for header "${name}"`), { code: 'ERR_HTTP_INVALID_HEADER_VALUE' });
  if (/[^\t\x20-\x7e\x80-\xff]/.test(String(value))) throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), { code: 'ERR_INVALID_CHAR' });
}

/** Node's message.headers from a Headers object: lower-case names, set-cookie as an array. */
export function nodeHeaders(headers) {
  const out = {};
  const raw = [];
  headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    out[name] = value;
    raw.push(name, value);
  });
  const cookies = headers.getSetCookie?.() ?? [];
  if (cookies.length) {
    out['set-cookie'] = cookies;
    for (const c of cookies) raw.push('set-cookie', c);
  }
  return { headers: out, rawHeaders: raw };
}

/** Headers set as Node takes them (a value may be an array or a number) as [name, value] pairs. */
export function headerPairs(headers) {
  const pairs = [];
  if (!headers) return pairs;
  if (Array.isArray(headers)) {
    // [[k, v], ...] or the flat [k, v, k, v] of rawHeaders
    if (headers.length && Array.isArray(headers[0])) for (const [k, v] of headers) pairs.push([k, v]);
    else for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([headers[i], headers[i + 1]]);
  } else if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    headers.forEach((v, k) => pairs.push([k, v]));
  } else {
    for (const k of Object.keys(headers)) if (headers[k] !== undefined) pairs.push([k, headers[k]]);
  }
  const flat = [];
  for (const [k, v] of pairs) {
    if (Array.isArray(v)) for (const one of v) flat.push([k, String(one)]);
    else flat.push([k, String(v)]);
  }
  return flat;
}

/** The connection a message would have in Node: here only its addresses, and no-op controls. */
export class FakeSocket extends EventEmitter {
  constructor({ remoteAddress = '127.0.0.1', remotePort = 0, localPort = 0, encrypted = false } = {}) {
    super();
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.remoteFamily = 'IPv4';
    this.localAddress = '127.0.0.1';
    this.localPort = localPort;
    this.encrypted = encrypted;
    this.readable = true;
    this.writable = true;
    this.destroyed = false;
    this.connecting = false;
    this.bytesRead = 0;
    this.bytesWritten = 0;
  }
  address() {
    return { address: this.localAddress, family: 'IPv4', port: this.localPort };
  }
  setTimeout(_ms, cb) {
    if (cb) this.once('timeout', cb);
    return this;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  cork() {}
  uncork() {}
  pause() {
    return this;
  }
  resume() {
    return this;
  }
  end() {
    return this;
  }
  destroy() {
    if (!this.destroyed) {
      this.destroyed = true;
      this.readable = false;
      this.writable = false;
      this.emit('close', false);
    }
    return this;
  }
  destroySoon() {
    return this.destroy();
  }
}

/**
 * The headers of an outgoing message, as Node's OutgoingMessage keeps them for both a client's
 * request and a server's response: by lower-cased name, each with the name as it was given.
 */
export class OutgoingHeaders extends Writable {
  constructor(options) {
    super(options);
    this._headers = new Map();
  }
  setHeader(name, value) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    this._headers.set(name.toLowerCase(), { name, value });
    return this;
  }
  appendHeader(name, value) {
    const had = this._headers.get(String(name).toLowerCase());
    if (!had) return this.setHeader(name, value);
    had.value = [].concat(had.value, value);
    return this;
  }
  getHeader(name) {
    return this._headers.get(String(name).toLowerCase())?.value;
  }
  hasHeader(name) {
    return this._headers.has(String(name).toLowerCase());
  }
  removeHeader(name) {
    this._headers.delete(String(name).toLowerCase());
  }
  getHeaders() {
    const out = Object.create(null);
    for (const [k, { value }] of this._headers) out[k] = value;
    return out;
  }
  getHeaderNames() {
    return [...this._headers.keys()];
  }
  getRawHeaderNames() {
    return [...this._headers.values()].map((h) => h.name);
  }
}
