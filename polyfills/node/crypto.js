// node:crypto for bundles: hashes and HMACs from @noble/hashes (synchronous, as Node's are),
// random values and UUIDs from the runtime's Web Crypto (wasi:random underneath).
import { Buffer } from 'buffer';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';

const HASHES = { md5, sha1, sha224, sha256, sha384, sha512, 'sha-1': sha1, 'sha-256': sha256, 'sha-384': sha384, 'sha-512': sha512 };

function hashOf(algorithm) {
  const h = HASHES[String(algorithm).toLowerCase()];
  if (!h) throw new Error(`Digest method not supported: ${algorithm} (the fabricks runtime has ${Object.keys(HASHES).filter((k) => !k.includes('-')).join(', ')})`);
  return h;
}

function bytesOf(data, encoding) {
  if (typeof data === 'string') return Buffer.from(data, encoding);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
}

class Hash {
  constructor(state) {
    this._state = state;
  }
  update(data, encoding) {
    this._state.update(bytesOf(data, encoding));
    return this;
  }
  digest(encoding) {
    const out = Buffer.from(this._state.digest());
    return encoding && encoding !== 'buffer' ? out.toString(encoding) : out;
  }
  copy() {
    return new Hash(this._state.clone());
  }
}

export function createHash(algorithm) {
  return new Hash(hashOf(algorithm).create());
}

export function createHmac(algorithm, key) {
  return new Hash(hmac.create(hashOf(algorithm), bytesOf(key)));
}

export function hash(algorithm, data, encoding = 'hex') {
  return createHash(algorithm).update(data).digest(encoding);
}

export function getHashes() {
  return Object.keys(HASHES).filter((k) => !k.includes('-'));
}

export function randomBytes(size, callback) {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  if (callback) {
    queueMicrotask(() => callback(null, out));
    return undefined;
  }
  return out;
}

export function randomFillSync(buf, offset = 0, size = buf.byteLength - offset) {
  const view = new Uint8Array(buf.buffer ?? buf, (buf.byteOffset ?? 0) + offset, size);
  view.set(randomBytes(size));
  return buf;
}

export function randomInt(min, max) {
  if (max === undefined) [min, max] = [0, min];
  const range = max - min;
  const limit = Math.floor(0x100000000 / range) * range;
  let x;
  do x = globalThis.crypto.getRandomValues(new Uint32Array(1))[0];
  while (x >= limit);
  return min + (x % range);
}

export function randomUUID() {
  if (typeof globalThis.crypto.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function timingSafeEqual(a, b) {
  if (a.byteLength !== b.byteLength) throw new RangeError('Input buffers must have the same byte length');
  const x = bytesOf(a);
  const y = bytesOf(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

export const webcrypto = globalThis.crypto;
export const subtle = globalThis.crypto?.subtle;
export const getRandomValues = (array) => globalThis.crypto.getRandomValues(array);

export default { createHash, createHmac, hash, getHashes, randomBytes, randomFillSync, randomInt, randomUUID, timingSafeEqual, webcrypto, subtle, getRandomValues };
