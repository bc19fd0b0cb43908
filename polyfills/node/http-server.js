// node:http's server side: createServer(handler).listen(port) is served by the runtime through
// [capabilities.network] listen (guest/node/bootstrap/node-listen.js), the way it serves
// `export default { fetch }`: each request arrives as a Fetch Request and becomes an
// IncomingMessage; the ServerResponse becomes a Fetch Response as soon as its head is sent,
// with a body that streams what is written after (server-sent events work).

import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import { FakeSocket, OutgoingHeaders, STATUS_CODES, headerPairs } from './http-common.js';
import { IncomingMessage } from './http-incoming.js';

// the runtime's own Response, kept before a framework replaces the global (@hono/node-server does)
const NativeResponse = globalThis.Response;
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export class ServerResponse extends OutgoingHeaders {
  constructor(req) {
    super();
    this.req = req;
    this.socket = req?.socket ?? null;
    this.statusCode = 200;
    this.statusMessage = undefined;
    this.headersSent = false;
    this.sendDate = true;
    this.chunkedEncoding = false;
    this.shouldKeepAlive = true;
    this.useChunkedEncodingByDefault = true;
    this.strictContentLength = false;
    // set by the server: (response) => void, called once with the Fetch Response
    this._respond = () => {};
    this._controller = undefined;
    this._ending = false;
  }

  get connection() {
    return this.socket;
  }
  get finished() {
    return this.writableEnded;
  }

  setHeader(name, value) {
    if (this.headersSent) throw Object.assign(new Error('Cannot set headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    return super.setHeader(name, value);
  }
  setHeaders(headers) {
    for (const [k, v] of headerPairs(headers)) this.setHeader(k, v);
    return this;
  }
  removeHeader(name) {
    if (this.headersSent) throw Object.assign(new Error('Cannot remove headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    super.removeHeader(name);
  }

  writeHead(statusCode, reason, headers) {
    if (this.headersSent) throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    if (typeof reason !== 'string') {
      headers = reason;
      reason = undefined;
    }
    const code = Number(statusCode);
    if (!Number.isInteger(code) || code < 100 || code > 999) throw Object.assign(new RangeError(`Invalid status code: ${statusCode}`), { code: 'ERR_HTTP_INVALID_STATUS_CODE' });
    this.statusCode = code;
    if (reason !== undefined) this.statusMessage = reason;
    // headers given here join those set before, and win over them (as in Node)
    const given = headerPairs(headers);
    for (const [k] of given) this._headers.delete(k.toLowerCase());
    for (const [k, v] of given) this.appendHeader(k, v);
    this._headWritten = true;
    return this;
  }
  writeContinue() {}
  writeProcessing() {}
  writeEarlyHints() {}
  addTrailers() {}
  setTimeout(_ms, cb) {
    if (cb) this.on('timeout', cb);
    return this;
  }

  /** Sends the head now, with a body that streams what is written from here on. */
  flushHeaders() {
    if (this.headersSent) return;
    this._sendHead(true);
  }

  _fetchHeaders() {
    const headers = new Headers();
    for (const { name, value } of this._headers.values()) for (const v of [].concat(value)) headers.append(name, String(v));
    return headers;
  }

  _sendHead(streaming, bytes) {
    this.headersSent = true;
    const status = this.statusCode;
    const init = { status, statusText: this.statusMessage ?? STATUS_CODES[status] ?? '', headers: this._fetchHeaders() };
    if (NULL_BODY.has(status) || this.req?.method === 'HEAD') {
      this._respond(new NativeResponse(null, init));
      return;
    }
    if (!streaming) {
      this._respond(new NativeResponse(bytes ?? null, init));
      return;
    }
    const body = new ReadableStream({
      start: (controller) => {
        this._controller = controller;
      },
      // the client went away while the body was being sent
      cancel: () => {
        this._controller = undefined;
        this.destroy();
      },
    });
    this._respond(new NativeResponse(body, init));
  }

  end(chunk, encoding, cb) {
    this._ending = true;
    return super.end(chunk, encoding, cb);
  }

  _write(chunk, encoding, cb) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    if (!this.headersSent) {
      // the whole body in one end(): a plain response with its length
      if (this._ending) {
        this._single = bytes;
        cb();
        return;
      }
      this._sendHead(true);
    }
    if (this.req?.method !== 'HEAD' && !NULL_BODY.has(this.statusCode)) this._controller?.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    cb();
  }

  _final(cb) {
    if (!this.headersSent) this._sendHead(false, this._single ?? new Uint8Array(0));
    else {
      try {
        this._controller?.close();
      } catch {
        // the client has gone
      }
    }
    cb();
  }

  _destroy(err, cb) {
    if (!this.headersSent) {
      // destroyed before answering: the engine answers 500 for a handler that gives nothing
      this.headersSent = true;
      this._fail?.(err ?? new Error('the response was destroyed before it was sent'));
    } else if (this._controller) {
      try {
        if (err) this._controller.error(err);
        else this._controller.close();
      } catch {
        // already closed
      }
    }
    cb(err);
  }
}

export class Server extends EventEmitter {
  constructor(options, listener) {
    super();
    if (typeof options === 'function') {
      listener = options;
      options = {};
    }
    this.options = options ?? {};
    if (listener) this.on('request', listener);
    this.listening = false;
    this.timeout = 0;
    this.keepAliveTimeout = 5000;
    this.headersTimeout = 60000;
    this.requestTimeout = 300000;
    this.maxHeadersCount = null;
    this.maxRequestsPerSocket = 0;
    this._port = undefined;
    this._handler = (request) => this._handle(request);
  }

  listen(...args) {
    const cb = typeof args.at(-1) === 'function' ? args.pop() : undefined;
    const [first] = args;
    const port = typeof first === 'object' && first !== null ? first.port : first;
    const n = port === undefined || port === null || port === '' ? 0 : Number(port);
    if (cb) this.once('listening', cb);
    try {
      globalThis.__fabricksListen.listen(this._handler, n);
    } catch (e) {
      // as Node reports EACCES and EADDRINUSE: an 'error' event (uncaught when nobody listens)
      queueMicrotask(() => this.emit('error', e));
      return this;
    }
    this.listening = true;
    this._port = n || 8080;
    queueMicrotask(() => this.emit('listening'));
    return this;
  }

  address() {
    return this.listening ? { address: '127.0.0.1', family: 'IPv4', port: this._port } : null;
  }

  close(cb) {
    globalThis.__fabricksListen.unlisten(this._handler);
    const was = this.listening;
    this.listening = false;
    queueMicrotask(() => {
      this.emit('close');
      cb?.(was ? undefined : Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' }));
    });
    return this;
  }
  closeAllConnections() {}
  closeIdleConnections() {}
  getConnections(cb) {
    queueMicrotask(() => cb(null, 0));
    return this;
  }
  setTimeout(ms, cb) {
    this.timeout = ms;
    if (cb) this.on('timeout', cb);
    return this;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  [Symbol.asyncDispose]() {
    return new Promise((r) => this.close(() => r()));
  }

  /** One request: its IncomingMessage and ServerResponse, and a promise of the Fetch Response. */
  async _handle(request) {
    const url = new URL(request.url);
    const body = request.method === 'GET' || request.method === 'HEAD' ? null : Buffer.from(await request.arrayBuffer());
    const socket = new FakeSocket({ localPort: this._port, encrypted: url.protocol === 'https:' });
    const req = new IncomingMessage(socket);
    req.method = request.method;
    req.url = `${url.pathname}${url.search}`;
    req.setHeaders(request.headers);
    if (!req.headers.host) {
      req.headers.host = url.host;
      req.rawHeaders.push('Host', url.host);
    }
    if (body) {
      // the runtime has read the whole body already; frameworks that look for it take it here
      req.rawBody = body;
      if (body.length) req.push(body);
    }
    req.push(null);
    const res = new ServerResponse(req);
    return new Promise((resolve, reject) => {
      res._respond = resolve;
      res._fail = reject;
      res.on('close', () => socket.destroy());
      try {
        this.emit('request', req, res);
      } catch (e) {
        if (!res.headersSent) reject(e);
        else res.destroy(e);
      }
    });
  }
}

export function createServer(options, listener) {
  return new Server(options, listener);
}
