// Bytes and text as Node's APIs take and give them: UTF-8 only, Buffers when the bundle has them.

import { encoder } from './natives.js';

/** The parts one after another, in one array of `total` bytes. */
export function concatBytes(parts, total) {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function toBytes(chunk, encoding) {
  if (typeof chunk === 'string') {
    if (encoding && !/^utf-?8$/i.test(encoding)) throw new TypeError(`encoding "${encoding}" is not supported; use utf8`);
    return encoder.encode(chunk);
  }
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('The "chunk" argument must be a string or Uint8Array');
}

/** A chunk read from stdin: bytes that print as text, as Node's Buffer does. */
export class Chunk extends Uint8Array {
  toString(encoding = 'utf8') {
    if (!/^utf-?8$/i.test(encoding)) throw new TypeError(`encoding "${encoding}" is not supported; use utf8`);
    return new TextDecoder().decode(this);
  }
}

/** Bytes for user code: a Buffer when the bundle brought one (fabricks builds inject it), as Node gives. */
export function chunkOf(bytes) {
  const B = globalThis.Buffer;
  return typeof B?.from === 'function' ? B.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Chunk(bytes);
}

export function decodeText(bytes, encoding) {
  if (encoding && !/^utf-?8$/i.test(typeof encoding === 'string' ? encoding : encoding.encoding ?? 'utf8')) {
    throw new TypeError(`encoding "${encoding}" is not supported; use utf8`);
  }
  return new TextDecoder().decode(bytes);
}
