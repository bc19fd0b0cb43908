/**
 * Interim (branch h-http): the least of some Node modules that HTTP packages import when they
 * load (node-fetch: zlib, net.isIP, punycode; axios: zlib, assert, net, tls, tty; Express:
 * net.isIP, async_hooks, diagnostics_channel, querystring; fetch-blob: stream/web, worker_threads; got: dns), so that they load until the modules' own rows land (issue 19 point 3
 * has other owners for them). node-modules.ts spreads these first: a real row of the same name
 * replaces its interim one, and this file can then go.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const refused = (what: string) => `function () { throw Object.assign(new Error('node:${what} is not available inside a fabricks sandbox'), { code: 'ERR_NOT_SUPPORTED' }); }`;

const NET = `
const v4 = /^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$/;
const isIPv4 = (s) => v4.test(String(s));
const isIPv6 = (s) => { s = String(s); if (!s.includes(':')) return false; try { new URL('http://[' + s + ']'); return true; } catch { return false; } };
const isIP = (s) => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0);
class Socket {}
const refused = ${refused('net connect()')};
module.exports = { isIP, isIPv4, isIPv6, Socket, Server: class Server {}, connect: refused, createConnection: refused, createServer: refused };`;

const TLS = `class TLSSocket {}
const refused = ${refused('tls connect()')};
module.exports = { TLSSocket, connect: refused, createServer: refused, createSecureContext: refused, rootCertificates: [], DEFAULT_MIN_VERSION: 'TLSv1.2', DEFAULT_MAX_VERSION: 'TLSv1.3' };`;

const ZLIB = `const refused = ${refused('zlib')};
const constants = { Z_NO_FLUSH: 0, Z_PARTIAL_FLUSH: 1, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, BROTLI_OPERATION_PROCESS: 0, BROTLI_OPERATION_FLUSH: 1, BROTLI_OPERATION_FINISH: 2, ZSTD_e_continue: 0, ZSTD_e_flush: 1, ZSTD_e_end: 2 };
module.exports = { constants, ...constants, createGunzip: refused, createInflate: refused, createInflateRaw: refused, createBrotliDecompress: refused, createUnzip: refused, createGzip: refused, createDeflate: refused, gzipSync: refused, gunzipSync: refused, inflateSync: refused, deflateSync: refused };`;

const ASSERT = `class AssertionError extends Error { constructor(o) { super(o && o.message || 'Assertion failed'); this.code = 'ERR_ASSERTION'; } }
function assert(value, message) { if (!value) throw message instanceof Error ? message : new AssertionError({ message }); }
assert.ok = assert;
assert.equal = (a, b, m) => assert(a == b, m || a + ' == ' + b);
assert.strictEqual = (a, b, m) => assert(Object.is(a, b), m || a + ' === ' + b);
assert.notEqual = (a, b, m) => assert(a != b, m);
assert.notStrictEqual = (a, b, m) => assert(!Object.is(a, b), m);
assert.fail = (m) => { throw new AssertionError({ message: m }); };
assert.AssertionError = AssertionError;
assert.strict = assert;
module.exports = assert;`;

const TTY = `module.exports = { isatty: () => false, ReadStream: class ReadStream {}, WriteStream: class WriteStream {} };`;

const ASYNC_HOOKS = `class AsyncResource { constructor(type) { this.type = type; } runInAsyncScope(fn, thisArg, ...args) { return fn.apply(thisArg, args); } bind(fn) { return fn.bind(this); } emitDestroy() { return this; } asyncId() { return 1; } triggerAsyncId() { return 0; } static bind(fn) { return fn; } }
class AsyncLocalStorage { run(store, fn, ...args) { const prev = this._store; this._store = store; try { return fn(...args); } finally { this._store = prev; } } getStore() { return this._store; } enterWith(store) { this._store = store; } exit(fn, ...args) { return this.run(undefined, fn, ...args); } disable() { this._store = undefined; } }
module.exports = { AsyncResource, AsyncLocalStorage, createHook: () => ({ enable() { return this; }, disable() { return this; } }), executionAsyncId: () => 1, triggerAsyncId: () => 0 };`;

const STREAM_WEB = `const g = globalThis;
module.exports = { ReadableStream: g.ReadableStream, ReadableStreamDefaultReader: g.ReadableStreamDefaultReader, WritableStream: g.WritableStream, TransformStream: g.TransformStream, ByteLengthQueuingStrategy: g.ByteLengthQueuingStrategy, CountQueuingStrategy: g.CountQueuingStrategy, TextEncoderStream: g.TextEncoderStream, TextDecoderStream: g.TextDecoderStream, CompressionStream: g.CompressionStream, DecompressionStream: g.DecompressionStream };`;

const WORKER_THREADS = `module.exports = { isMainThread: true, parentPort: null, workerData: null, threadId: 0, resourceLimits: {}, MessageChannel: globalThis.MessageChannel, MessagePort: globalThis.MessagePort, BroadcastChannel: globalThis.BroadcastChannel, Worker: class Worker { constructor() { (${refused('worker_threads Worker')})(); } } };`;

const DIAGNOSTICS_CHANNEL = `class Channel { constructor(name) { this.name = name; this.hasSubscribers = false; } publish() {} subscribe() {} unsubscribe() { return false; } bindStore() {} unbindStore() {} runStores(_d, fn, thisArg, ...args) { return fn.apply(thisArg, args); } }
const channels = new Map();
const channel = (name) => { if (!channels.has(name)) channels.set(name, new Channel(name)); return channels.get(name); };
const tracingChannel = (name) => { const c = {}; for (const k of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) c[k] = channel('tracing:' + name + ':' + k); return Object.assign(c, { hasSubscribers: false, subscribe() {}, unsubscribe() {}, traceSync: (fn, _ctx, thisArg, ...a) => fn.apply(thisArg, a), tracePromise: (fn, _ctx, thisArg, ...a) => fn.apply(thisArg, a), traceCallback: (fn, _p, _ctx, thisArg, ...a) => fn.apply(thisArg, a) }); };
module.exports = { channel, tracingChannel, hasSubscribers: () => false, subscribe() {}, unsubscribe() { return false; }, Channel };`;

const QUERYSTRING = `const decode = (s) => { try { return decodeURIComponent(s.replace(/\\+/g, ' ')); } catch { return s; } };
function parse(str, sep = '&', eq = '=') { const out = Object.create(null); if (typeof str !== 'string' || !str) return out; for (const part of str.split(sep)) { if (!part) continue; const i = part.indexOf(eq); const k = decode(i < 0 ? part : part.slice(0, i)); const v = i < 0 ? '' : decode(part.slice(i + eq.length)); if (k in out) out[k] = [].concat(out[k], v); else out[k] = v; } return out; }
const escape = (s) => encodeURIComponent(s);
function stringify(obj, sep = '&', eq = '=') { if (!obj || typeof obj !== 'object') return ''; return Object.keys(obj).flatMap((k) => [].concat(obj[k]).map((v) => escape(k) + eq + escape(typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : ''))).join(sep); }
module.exports = { parse, stringify, decode: parse, encode: stringify, escape, unescape: decode };`;

// got's cacheable-lookup names these at load; lookups by name are the host's, through fetch
const DNS = `const literal = (h) => (/^\\d+(\\.\\d+){3}$/.test(h) ? 4 : h.includes(':') ? 6 : h === 'localhost' ? 4 : 0);
function answer(hostname, options) {
  const family = literal(hostname);
  if (!family) throw Object.assign(new Error('getaddrinfo ENOTFOUND ' + hostname + ': the fabricks runtime resolves names only for the requests it makes (fetch, http)'), { code: 'ENOTFOUND', hostname, syscall: 'getaddrinfo' });
  const address = hostname === 'localhost' ? '127.0.0.1' : hostname;
  return options && options.all ? [{ address, family }] : { address, family };
}
function lookup(hostname, options, cb) { if (typeof options === 'function') { cb = options; options = {}; } let r; try { r = answer(hostname, options); } catch (e) { queueMicrotask(() => cb(e)); return; } queueMicrotask(() => (Array.isArray(r) ? cb(null, r) : cb(null, r.address, r.family))); }
class Resolver { setServers() {} getServers() { return []; } cancel() {} }
for (const m of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'resolveMx', 'resolveNs', 'resolveTxt', 'resolveSrv', 'reverse']) Resolver.prototype[m] = function () { return Promise.reject(Object.assign(new Error('dns ' + m + '() is not available in the fabricks runtime'), { code: 'ENOTIMP' })); };
const promises = { lookup: async (h, o) => answer(h, typeof o === 'number' ? {} : o), Resolver };
module.exports = { lookup, promises, Resolver, V4MAPPED: 8, ADDRCONFIG: 1024, ALL: 16, NOTFOUND: 'ENOTFOUND', setDefaultResultOrder() {}, getDefaultResultOrder: () => 'verbatim' };`;

type Support = { file: string } | { code: string };

export const INTERIM_MODULES: Record<string, () => Support> = {
  net: () => ({ code: NET }),
  tls: () => ({ code: TLS }),
  zlib: () => ({ code: ZLIB }),
  assert: () => ({ code: ASSERT }),
  tty: () => ({ code: TTY }),
  async_hooks: () => ({ code: ASYNC_HOOKS }),
  'stream/web': () => ({ code: STREAM_WEB }),
  worker_threads: () => ({ code: WORKER_THREADS }),
  diagnostics_channel: () => ({ code: DIAGNOSTICS_CHANNEL }),
  querystring: () => ({ code: QUERYSTRING }),
  dns: () => ({ code: DNS }),
  punycode: () => ({ file: require.resolve('punycode/punycode.js') }),
};
