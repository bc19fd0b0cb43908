// node:stream/consumers for bundles: read a whole Node stream, Web ReadableStream or async
// iterable into one value.
import { Buffer } from 'node:buffer';

async function* chunksOf(stream) {
  if (typeof stream?.[Symbol.asyncIterator] === 'function') {
    yield* stream;
    return;
  }
  // a Web stream of an engine whose ReadableStream is not async-iterable
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export async function buffer(stream) {
  const parts = [];
  for await (const chunk of chunksOf(stream)) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer ?? chunk, chunk.byteOffset ?? 0, chunk.byteLength));
  return Buffer.concat(parts);
}

export async function arrayBuffer(stream) {
  const b = await buffer(stream);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

export async function blob(stream) {
  return new Blob([await arrayBuffer(stream)]);
}

export async function text(stream) {
  const decoder = new TextDecoder();
  let out = '';
  for await (const chunk of chunksOf(stream)) out += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

export async function json(stream) {
  return JSON.parse(await text(stream));
}

export default { arrayBuffer, blob, buffer, json, text };
