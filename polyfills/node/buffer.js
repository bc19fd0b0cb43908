// node:buffer for bundles: the `buffer` package (Node's Buffer API over Uint8Array), also made
// global so that the runtime hands stdin chunks and file contents out as Buffers, as Node does.
//
// The package does in JavaScript, byte by byte, what the engine has built in: searching,
// UTF-8 decoding and encoding. The runtime interprets JavaScript, so a 10 MB stdin line that
// the MCP SDK gathers with concat() and indexOf('\n') took minutes. Those calls go to the
// engine's Uint8Array.indexOf, TextDecoder and TextEncoder here; the rest stays the package's.
const buffer = require('buffer/index.js');

const { Buffer } = buffer;
const encoder = new TextEncoder();
const decoder = new TextDecoder(); // replaces malformed sequences with U+FFFD, as Node does
const isUtf8 = (encoding) => encoding === undefined || encoding === 'utf8' || encoding === 'utf-8' || /^utf-?8$/i.test(encoding);
const nativeIndexOf = Uint8Array.prototype.indexOf;

const packageFrom = Buffer.from;
Buffer.from = function from(value, encodingOrOffset, length) {
  if (typeof value === 'string' && isUtf8(encodingOrOffset)) {
    const bytes = encoder.encode(value);
    return packageFrom.call(Buffer, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return packageFrom.call(Buffer, value, encodingOrOffset, length);
};

const packageByteLength = Buffer.byteLength;
Buffer.byteLength = function byteLength(value, encoding) {
  if (typeof value === 'string' && isUtf8(encoding)) return encoder.encode(value).byteLength;
  return packageByteLength.call(Buffer, value, encoding);
};

const packageToString = Buffer.prototype.toString;
Buffer.prototype.toString = function toString(encoding, start, end) {
  if (!isUtf8(encoding)) return packageToString.apply(this, arguments);
  // the package's bounds: out-of-range start and end are clamped, not errors
  const length = this.length;
  start = start === undefined || start < 0 ? 0 : start;
  if (start > length) return '';
  end = end === undefined || end > length ? length : end;
  if (end <= 0) return '';
  end >>>= 0;
  start >>>= 0;
  if (end <= start) return '';
  return decoder.decode(start === 0 && end === length ? this : this.subarray(start, end));
};

const packageIndexOf = Buffer.prototype.indexOf;
Buffer.prototype.indexOf = function indexOf(value, byteOffset, encoding) {
  if (typeof byteOffset === 'string') [encoding, byteOffset] = [byteOffset, undefined];
  const needle = typeof value === 'string' && isUtf8(encoding) ? encoder.encode(value) : value instanceof Uint8Array ? value : undefined;
  // byte values, other encodings, empty needles and offsets that are not numbers: the package's
  if (needle === undefined || needle.length === 0 || !(byteOffset === undefined || typeof byteOffset === 'number')) {
    return packageIndexOf.call(this, value, byteOffset, encoding);
  }
  let from = Math.trunc(byteOffset ?? 0) || 0; // as Node: NaN searches from the start
  if (from < 0) from = Math.max(0, this.length + from);
  const last = this.length - needle.length;
  const first = needle[0];
  // the engine finds each candidate first byte; the rest of a short needle is compared here
  for (let i = nativeIndexOf.call(this, first, from); i !== -1 && i <= last; i = nativeIndexOf.call(this, first, i + 1)) {
    let j = 1;
    while (j < needle.length && this[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
};

if (!globalThis.Buffer) globalThis.Buffer = Buffer;
module.exports = buffer;
