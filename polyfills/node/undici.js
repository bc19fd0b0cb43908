// `undici` for bundles (a package override: packages that import it get this): its fetch and the
// Web classes are the runtime's own, its request() goes through that fetch, so the same
// [capabilities.network] connect rules judge it. Dispatchers (Agent, Pool, ProxyAgent...) keep
// their options and change nothing: there are no connections to pool.

import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { Buffer } from 'node:buffer';
import { nodeHeaders } from './http-common.js';
import { refuse } from './unavailable.js';

export const fetch = (...args) => globalThis.fetch(...args);
export const Headers = globalThis.Headers;
export const Request = globalThis.Request;
export const Response = globalThis.Response;
export const FormData = globalThis.FormData;
export const File = globalThis.File;
export const WebSocket = globalThis.WebSocket;

export class Dispatcher extends EventEmitter {
  constructor(options = {}) {
    super();
    this.options = options;
    this.closed = false;
    this.destroyed = false;
  }
  request(options, callback) {
    return callbackOr(request(new URL(options.path ?? '/', options.origin), options), callback);
  }
  dispatch() {
    refuse('undici dispatch()', 'the runtime has no connections to dispatch on: use request() or fetch()')();
  }
  close(callback) {
    this.closed = true;
    return callbackOr(Promise.resolve(), callback);
  }
  destroy(err, callback) {
    this.destroyed = true;
    return callbackOr(Promise.resolve(), typeof err === 'function' ? err : callback);
  }
  compose() {
    return this;
  }
}
export class Agent extends Dispatcher {}
export class Pool extends Dispatcher {
  constructor(origin, options) {
    super(options);
    this.origin = origin;
  }
  request(options, callback) {
    return super.request({ origin: this.origin, ...options }, callback);
  }
}
export class Client extends Pool {}
export class BalancedPool extends Pool {}
export class ProxyAgent extends Dispatcher {}
export class EnvHttpProxyAgent extends Dispatcher {}
export class RetryAgent extends Dispatcher {}
export class MockAgent extends Dispatcher {}

let globalDispatcher = new Agent();
export const setGlobalDispatcher = (d) => {
  globalDispatcher = d;
};
export const getGlobalDispatcher = () => globalDispatcher;

class BodyReadable extends Readable {
  constructor(stream) {
    super();
    this._reader = stream?.getReader();
  }
  _read() {
    if (!this._reader) return void this.push(null);
    this._reader.read().then(({ done, value }) => this.push(done ? null : Buffer.from(value.buffer, value.byteOffset, value.byteLength)), (e) => this.destroy(e));
  }
  async bytes() {
    const chunks = [];
    for await (const c of this) chunks.push(c);
    return new Uint8Array(Buffer.concat(chunks));
  }
  async arrayBuffer() {
    const b = await this.bytes();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  }
  async text() {
    return new TextDecoder().decode(await this.bytes());
  }
  async json() {
    return JSON.parse(await this.text());
  }
  async blob() {
    return new Blob([await this.bytes()]);
  }
  async dump() {
    this._reader?.cancel().catch(() => undefined);
  }
}

function callbackOr(promise, callback) {
  if (!callback) return promise;
  promise.then((r) => callback(null, r), (e) => callback(e));
  return undefined;
}

/** undici.request(url, { method, headers, body, signal }): { statusCode, headers, body }. */
export async function request(url, options = {}) {
  const target = typeof url === 'string' || url instanceof URL ? new URL(String(url)) : new URL(url.path ?? '/', url.origin);
  if (options.query) for (const [k, v] of Object.entries(options.query)) target.searchParams.append(k, String(v));
  const headers = new Headers();
  const given = options.headers ?? {};
  const pairs = Array.isArray(given) ? given.reduce((acc, v, i) => (i % 2 ? acc : acc.concat([[v, given[i + 1]]])), []) : Object.entries(given);
  for (const [k, v] of pairs) if (v !== undefined) for (const one of [].concat(v)) headers.append(k, String(one));
  let body = options.body ?? null;
  // a string goes as bytes: undici sets no content-type of its own, fetch would
  if (typeof body === 'string') body = Buffer.from(body);
  if (body instanceof Readable || (body && typeof body[Symbol.asyncIterator] === 'function' && !(body instanceof ReadableStream))) {
    const chunks = [];
    for await (const c of body) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    body = Buffer.concat(chunks);
  }
  const response = await globalThis.fetch(target.href, { method: options.method ?? 'GET', headers, body, redirect: 'manual', ...(options.signal ? { signal: options.signal } : {}) });
  const { headers: h } = nodeHeaders(response.headers);
  return { statusCode: response.status, statusText: response.statusText, headers: h, trailers: {}, opaque: options.opaque ?? null, context: {}, body: new BodyReadable(response.body) };
}

export const stream = refuse('undici stream()', 'the runtime has no connections to stream on: use request() or fetch()');
export const pipeline = stream;
export const connect = stream;
export const upgrade = stream;

export const errors = {
  UndiciError: class UndiciError extends Error {},
  ConnectTimeoutError: class ConnectTimeoutError extends Error {},
  HeadersTimeoutError: class HeadersTimeoutError extends Error {},
  BodyTimeoutError: class BodyTimeoutError extends Error {},
  ResponseStatusCodeError: class ResponseStatusCodeError extends Error {},
  InvalidArgumentError: class InvalidArgumentError extends Error {},
  RequestAbortedError: class RequestAbortedError extends Error {},
  SocketError: class SocketError extends Error {},
  NotSupportedError: class NotSupportedError extends Error {},
};

export default { Agent, BalancedPool, Client, Dispatcher, EnvHttpProxyAgent, File, FormData, Headers, MockAgent, Pool, ProxyAgent, Request, Response, RetryAgent, WebSocket, connect, errors, fetch, getGlobalDispatcher, pipeline, request, setGlobalDispatcher, stream, upgrade };
