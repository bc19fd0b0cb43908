// StarlingMonkey's Web classes lack Symbol.toStringTag, so Object.prototype.toString says
// "[object Object]" where Node (and the WebIDL standard) says "[object AbortSignal]". Packages
// recognise objects that way: node-fetch accepts a signal only when its tag is AbortSignal or
// EventTarget, and refused every request of servers that pass one.
const WEB_CLASSES = [
  'AbortController', 'AbortSignal', 'Blob', 'CompressionStream', 'Crypto', 'CryptoKey', 'DecompressionStream',
  'DOMException', 'Event', 'EventTarget', 'File', 'FormData', 'Headers', 'Performance', 'ReadableStream',
  'ReadableStreamDefaultReader', 'ReadableStreamBYOBReader', 'Request', 'Response', 'SubtleCrypto',
  'TextDecoder', 'TextEncoder', 'TransformStream', 'URL', 'URLSearchParams', 'WritableStream', 'WritableStreamDefaultWriter',
];

export function tagWebClasses() {
  for (const name of WEB_CLASSES) {
    const proto = globalThis[name]?.prototype;
    if (!proto || Object.prototype.hasOwnProperty.call(proto, Symbol.toStringTag)) continue;
    Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true, enumerable: false, writable: false });
  }
}
