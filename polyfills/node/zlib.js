// node:zlib for bundles: Node's API (sync, callback, promisified and stream forms) over pako,
// a port of zlib itself: its output is byte for byte what Node 20's zlib gives, flush modes and
// dictionaries included. Brotli decoding is the `brotli` package's decoder (HTTP clients such as
// node-fetch ask servers for br); Brotli encoding is absent, as on a Node built without it, so
// that libraries which look for it (Express's compression: 'createBrotliCompress' in zlib)
// choose gzip (docs/javascript.md). Bundles get this module through zlib-module.js.
import * as pako from 'pako';
import { decompress as brotliDecode } from 'brotli/decompress';
import { Buffer } from 'node:buffer';
import { Transform } from 'node:stream';
import * as unenvConstants from 'unenv/node/internal/zlib/constants';
import { unavailable } from './unavailable.js';

export const constants = Object.freeze({ ...unenvConstants });
// the constants Node also has on the module itself (deprecated, still read: node-fetch's Z_SYNC_FLUSH)
export const {
  Z_NO_FLUSH, Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH, Z_BLOCK, Z_OK, Z_STREAM_END, Z_NEED_DICT, Z_ERRNO, Z_STREAM_ERROR, Z_DATA_ERROR, Z_MEM_ERROR, Z_BUF_ERROR,
  Z_VERSION_ERROR, Z_NO_COMPRESSION, Z_BEST_SPEED, Z_BEST_COMPRESSION, Z_DEFAULT_COMPRESSION, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED, Z_DEFAULT_STRATEGY, ZLIB_VERNUM,
  DEFLATE, INFLATE, GZIP, GUNZIP, DEFLATERAW, INFLATERAW, UNZIP, Z_MIN_WINDOWBITS, Z_MAX_WINDOWBITS, Z_DEFAULT_WINDOWBITS, Z_MIN_CHUNK, Z_MAX_CHUNK, Z_DEFAULT_CHUNK,
  Z_MIN_MEMLEVEL, Z_MAX_MEMLEVEL, Z_DEFAULT_MEMLEVEL, Z_MIN_LEVEL, Z_MAX_LEVEL, Z_DEFAULT_LEVEL,
} = constants;
const LEGACY = { Z_NO_FLUSH, Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH, Z_BLOCK, Z_OK, Z_STREAM_END, Z_NEED_DICT, Z_ERRNO, Z_STREAM_ERROR, Z_DATA_ERROR, Z_MEM_ERROR, Z_BUF_ERROR, Z_VERSION_ERROR, Z_NO_COMPRESSION, Z_BEST_SPEED, Z_BEST_COMPRESSION, Z_DEFAULT_COMPRESSION, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED, Z_DEFAULT_STRATEGY, ZLIB_VERNUM, DEFLATE, INFLATE, GZIP, GUNZIP, DEFLATERAW, INFLATERAW, UNZIP, Z_MIN_WINDOWBITS, Z_MAX_WINDOWBITS, Z_DEFAULT_WINDOWBITS, Z_MIN_CHUNK, Z_MAX_CHUNK, Z_DEFAULT_CHUNK, Z_MIN_MEMLEVEL, Z_MAX_MEMLEVEL, Z_DEFAULT_MEMLEVEL, Z_MIN_LEVEL, Z_MAX_LEVEL, Z_DEFAULT_LEVEL };

export const codes = Object.freeze({
  Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3, Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6,
  0: 'Z_OK', 1: 'Z_STREAM_END', 2: 'Z_NEED_DICT', '-1': 'Z_ERRNO', '-2': 'Z_STREAM_ERROR', '-3': 'Z_DATA_ERROR', '-4': 'Z_MEM_ERROR', '-5': 'Z_BUF_ERROR', '-6': 'Z_VERSION_ERROR',
});

// Node's messages where zlib's (pako's) differ
const MESSAGES = { 2: 'Missing dictionary', '-5': 'unexpected end of file' };

function zlibError(status, message) {
  const e = new Error(MESSAGES[status] ?? message ?? codes[status]);
  e.errno = status;
  e.code = codes[status];
  return e;
}

function bytesOf(data, encoding) {
  if (typeof data === 'string') return Buffer.from(data, encoding);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const e = new TypeError(`The "buffer" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received ${data === null ? 'null' : typeof data}`);
  e.code = 'ERR_INVALID_ARG_TYPE';
  throw e;
}

// how each mode sets up pako: deflating or inflating, and the wrapper (windowBits' sign and range)
const MODES = {
  Deflate: { deflate: true, wrap: 'zlib' },
  Inflate: { deflate: false, wrap: 'zlib' },
  Gzip: { deflate: true, wrap: 'gzip' },
  Gunzip: { deflate: false, wrap: 'gzip' },
  DeflateRaw: { deflate: true, wrap: 'raw' },
  InflateRaw: { deflate: false, wrap: 'raw' },
  Unzip: { deflate: false, wrap: 'auto' },
};

/** One zlib stream: bytes in with a flush mode, output chunks out; errors are Node's. */
class Engine {
  constructor(mode, opts) {
    const { deflate, wrap } = MODES[mode];
    const bits = opts.windowBits ?? Z_DEFAULT_WINDOWBITS;
    const windowBits = wrap === 'raw' ? -bits : wrap === 'gzip' ? bits + 16 : wrap === 'auto' ? bits + 32 : bits;
    const dictionary = opts.dictionary === undefined ? undefined : bytesOf(opts.dictionary);
    const common = { windowBits, chunkSize: opts.chunkSize ?? Z_DEFAULT_CHUNK, ...(dictionary ? { dictionary } : {}) };
    this.deflate = deflate;
    this.z = deflate
      ? new pako.Deflate({ ...common, level: opts.level ?? Z_DEFAULT_COMPRESSION, memLevel: opts.memLevel ?? Z_DEFAULT_MEMLEVEL, strategy: opts.strategy ?? Z_DEFAULT_STRATEGY })
      : new pako.Inflate(common);
    this.out = [];
    this.z.onData = (chunk) => this.out.push(chunk);
    this.z.onEnd = () => {};
    this.ended = false;
  }
  /** Returns the output this input gives now; inflating, output is handed out as it comes. */
  write(bytes, flush) {
    if (this.ended) return [];
    const mode = !this.deflate && flush === Z_NO_FLUSH ? Z_SYNC_FLUSH : flush;
    this.z.push(bytes, mode);
    if (this.z.ended) {
      this.ended = true;
      if (this.z.err) throw zlibError(this.z.err, this.z.msg);
    }
    const out = this.out;
    this.out = [];
    return out;
  }
}

function processSync(mode, buffer, opts = {}) {
  const engine = new Engine(mode, opts);
  const chunks = engine.write(bytesOf(buffer), opts.finishFlush ?? Z_FINISH);
  const result = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  if (opts.maxOutputLength !== undefined && result.length > opts.maxOutputLength) {
    const e = new RangeError(`Cannot create a Buffer larger than ${opts.maxOutputLength} bytes`);
    e.code = 'ERR_BUFFER_TOO_LARGE';
    throw e;
  }
  return opts.info ? { buffer: result, engine } : result;
}

function processAsync(mode, buffer, opts, callback) {
  if (typeof opts === 'function') [opts, callback] = [{}, opts];
  if (typeof callback !== 'function') {
    const e = new TypeError('The "callback" argument must be of type function');
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  let result, error;
  try {
    result = processSync(mode, buffer, opts);
  } catch (e) {
    error = e;
  }
  process.nextTick(() => (error ? callback(error) : callback(null, result)));
}

/** Node's zlib stream classes: a Transform over one Engine. */
class ZlibBase extends Transform {
  constructor(mode, opts = {}) {
    super({ ...opts, objectMode: false, readableObjectMode: false, writableObjectMode: false });
    this._mode = mode;
    this._opts = opts;
    this._flushMode = opts.flush ?? Z_NO_FLUSH;
    this._finishFlushMode = opts.finishFlush ?? Z_FINISH;
    this._engine = new Engine(mode, opts);
    this._flushes = new WeakMap(); // empty chunks written by flush(), and the mode each asks for
    this.bytesWritten = 0;
  }
  _pushOut(chunks) {
    for (const c of chunks) this.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  }
  _transform(chunk, encoding, callback) {
    try {
      const bytes = bytesOf(chunk, encoding);
      // as Node's: the last chunk of an ended stream is written with the finishing flush
      const last = this.writableEnded && this.writableLength === bytes.length;
      const flush = this._flushes.get(chunk) ?? (last ? this._finishFlushMode : this._flushMode);
      this.bytesWritten += bytes.length;
      this._pushOut(this._engine.write(bytes, flush));
      callback();
    } catch (e) {
      callback(e);
    }
  }
  _flush(callback) {
    try {
      this._pushOut(this._engine.write(new Uint8Array(0), this._finishFlushMode));
      callback();
    } catch (e) {
      callback(e);
    }
  }
  flush(kind, callback) {
    if (typeof kind === 'function' || kind === undefined) [kind, callback] = [Z_FULL_FLUSH, kind];
    if (this.writableEnded) {
      if (callback) process.nextTick(callback);
      return;
    }
    const marker = Buffer.alloc(0);
    this._flushes.set(marker, kind);
    this.write(marker, () => callback?.());
  }
  params(level, strategy, callback) {
    const e = unavailable('zlib params()', 'pako cannot change the level of a running stream; create a new stream with the level and strategy instead');
    if (callback) process.nextTick(callback, e);
    else throw e;
  }
  reset() {
    this._engine = new Engine(this._mode, this._opts);
  }
  close(callback) {
    if (callback) this.once('close', callback);
    this.destroy();
  }
  get _handle() {
    return this.destroyed ? null : this._engine;
  }
}

export class Deflate extends ZlibBase { constructor(o) { super('Deflate', o); } }
export class Inflate extends ZlibBase { constructor(o) { super('Inflate', o); } }
export class Gzip extends ZlibBase { constructor(o) { super('Gzip', o); } }
export class Gunzip extends ZlibBase { constructor(o) { super('Gunzip', o); } }
export class DeflateRaw extends ZlibBase { constructor(o) { super('DeflateRaw', o); } }
export class InflateRaw extends ZlibBase { constructor(o) { super('InflateRaw', o); } }
export class Unzip extends ZlibBase { constructor(o) { super('Unzip', o); } }

export const createDeflate = (o) => new Deflate(o);
export const createInflate = (o) => new Inflate(o);
export const createGzip = (o) => new Gzip(o);
export const createGunzip = (o) => new Gunzip(o);
export const createDeflateRaw = (o) => new DeflateRaw(o);
export const createInflateRaw = (o) => new InflateRaw(o);
export const createUnzip = (o) => new Unzip(o);

export const deflateSync = (b, o) => processSync('Deflate', b, o);
export const inflateSync = (b, o) => processSync('Inflate', b, o);
export const gzipSync = (b, o) => processSync('Gzip', b, o);
export const gunzipSync = (b, o) => processSync('Gunzip', b, o);
export const deflateRawSync = (b, o) => processSync('DeflateRaw', b, o);
export const inflateRawSync = (b, o) => processSync('InflateRaw', b, o);
export const unzipSync = (b, o) => processSync('Unzip', b, o);

export const deflate = (b, o, cb) => processAsync('Deflate', b, o, cb);
export const inflate = (b, o, cb) => processAsync('Inflate', b, o, cb);
export const gzip = (b, o, cb) => processAsync('Gzip', b, o, cb);
export const gunzip = (b, o, cb) => processAsync('Gunzip', b, o, cb);
export const deflateRaw = (b, o, cb) => processAsync('DeflateRaw', b, o, cb);
export const inflateRaw = (b, o, cb) => processAsync('InflateRaw', b, o, cb);
export const unzip = (b, o, cb) => processAsync('Unzip', b, o, cb);

let crcTable;
/** CRC-32 as zlib computes it (Node 20.15's zlib.crc32). */
export function crc32(data, value = 0) {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  const bytes = bytesOf(data);
  let crc = ~value;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

function brotliDecompressBytes(buffer, opts = {}) {
  let out;
  try {
    out = brotliDecode(bytesOf(buffer));
  } catch (e) {
    const error = new Error(`Decompression failed: ${e.message}`);
    error.code = 'ERR_BROTLI_DECOMPRESSION_FAILED';
    throw error;
  }
  const result = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  if (opts.maxOutputLength !== undefined && result.length > opts.maxOutputLength) {
    const e = new RangeError(`Cannot create a Buffer larger than ${opts.maxOutputLength} bytes`);
    e.code = 'ERR_BUFFER_TOO_LARGE';
    throw e;
  }
  return result;
}

export const brotliDecompressSync = (b, o) => brotliDecompressBytes(b, o);
export function brotliDecompress(buffer, opts, callback) {
  if (typeof opts === 'function') [opts, callback] = [{}, opts];
  let result, error;
  try {
    result = brotliDecompressBytes(buffer, opts);
  } catch (e) {
    error = e;
  }
  process.nextTick(() => (error ? callback(error) : callback(null, result)));
}

/** The decoder takes a whole stream at once: the output comes when the input ends. */
export class BrotliDecompress extends Transform {
  constructor(opts = {}) {
    super({ ...opts, objectMode: false, readableObjectMode: false, writableObjectMode: false });
    this._opts = opts;
    this._parts = [];
    this.bytesWritten = 0;
  }
  _transform(chunk, encoding, callback) {
    const bytes = bytesOf(chunk, encoding);
    this.bytesWritten += bytes.length;
    this._parts.push(Buffer.from(bytes));
    callback();
  }
  _flush(callback) {
    try {
      const out = brotliDecompressBytes(Buffer.concat(this._parts), this._opts);
      this._parts = [];
      if (out.length) this.push(out);
      callback();
    } catch (e) {
      callback(e);
    }
  }
  flush(kind, callback) {
    if (typeof kind === 'function') callback = kind;
    if (callback) process.nextTick(callback);
  }
  close(callback) {
    if (callback) this.once('close', callback);
    this.destroy();
  }
}
export const createBrotliDecompress = (o) => new BrotliDecompress(o);

export default {
  ...LEGACY, constants, codes, crc32,
  Deflate, Inflate, Gzip, Gunzip, DeflateRaw, InflateRaw, Unzip, BrotliDecompress,
  createDeflate, createInflate, createGzip, createGunzip, createDeflateRaw, createInflateRaw, createUnzip, createBrotliDecompress,
  deflateSync, inflateSync, gzipSync, gunzipSync, deflateRawSync, inflateRawSync, unzipSync, brotliDecompressSync,
  deflate, inflate, gzip, gunzip, deflateRaw, inflateRaw, unzip, brotliDecompress,
};
