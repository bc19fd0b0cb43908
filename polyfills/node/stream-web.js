// node:stream/web for bundles: the runtime's own Web streams (the classes fetch bodies use, so
// the two mix), under Node's names. What the engine has but does not name globally is taken from
// instances; TextEncoderStream and TextDecoderStream, which it lacks, are made here over
// TransformStream; ReadableStream gets Node's async iteration (`for await`, `values()`) and
// ReadableStream.from().
const { ReadableStream, TransformStream, WritableStream } = globalThis;
export const { ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamBYOBRequest, ReadableByteStreamController, ReadableStreamDefaultController, ByteLengthQueuingStrategy, CountQueuingStrategy, CompressionStream, DecompressionStream } = globalThis;
export { ReadableStream, TransformStream, WritableStream };

let transformController;
new TransformStream({ start: (c) => void (transformController = c) });
let writableController;
const probe = new WritableStream({ start: (c) => void (writableController = c) });
export const TransformStreamDefaultController = globalThis.TransformStreamDefaultController ?? transformController.constructor;
export const WritableStreamDefaultController = globalThis.WritableStreamDefaultController ?? writableController.constructor;
export const WritableStreamDefaultWriter = globalThis.WritableStreamDefaultWriter ?? probe.getWriter().constructor;

if (typeof ReadableStream.prototype[Symbol.asyncIterator] !== 'function') {
  const values = function values({ preventCancel = false } = {}) {
    const reader = this.getReader();
    return {
      async next() {
        const result = await reader.read();
        if (result.done) reader.releaseLock();
        return result;
      },
      async return(value) {
        if (!preventCancel) await reader.cancel(value);
        reader.releaseLock();
        return { value, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
  Object.defineProperty(ReadableStream.prototype, 'values', { value: values, writable: true, configurable: true });
  Object.defineProperty(ReadableStream.prototype, Symbol.asyncIterator, { value: values, writable: true, configurable: true });
}

// ReadableStream.from(iterable), as Node 20 has it
const readableFrom = (iterable) => {
  if (iterable == null || (typeof iterable[Symbol.asyncIterator] !== 'function' && typeof iterable[Symbol.iterator] !== 'function')) {
    throw Object.assign(new TypeError('The "iterable" argument must be an instance of Iterable or AsyncIterable'), { code: 'ERR_ARG_NOT_ITERABLE' });
  }
  const iterator = typeof iterable[Symbol.asyncIterator] === 'function' ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(await value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
};
if (typeof ReadableStream.from !== 'function') Object.defineProperty(ReadableStream, 'from', { value: readableFrom, writable: true, configurable: true });

/** Node's TextEncoderStream: strings in, UTF-8 bytes out; a surrogate pair split between chunks stays whole. */
export class TextEncoderStream {
  constructor() {
    const encoder = new TextEncoder();
    let pending = '';
    this._stream = new TransformStream({
      transform(chunk, controller) {
        let s = pending + String(chunk);
        pending = '';
        const last = s.charCodeAt(s.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pending = s.slice(-1);
          s = s.slice(0, -1);
        }
        if (s) controller.enqueue(encoder.encode(s));
      },
      flush(controller) {
        if (pending) controller.enqueue(encoder.encode(pending));
      },
    });
  }
  get encoding() {
    return 'utf-8';
  }
  get readable() {
    return this._stream.readable;
  }
  get writable() {
    return this._stream.writable;
  }
}

/** Node's TextDecoderStream: bytes in, strings out, a character split between chunks kept whole. */
export class TextDecoderStream {
  constructor(label = 'utf-8', options = {}) {
    const decoder = new TextDecoder(label, options);
    this._decoder = decoder;
    this._stream = new TransformStream({
      transform(chunk, controller) {
        const s = decoder.decode(chunk, { stream: true });
        if (s) controller.enqueue(s);
      },
      flush(controller) {
        const s = decoder.decode();
        if (s) controller.enqueue(s);
      },
    });
  }
  get encoding() {
    return this._decoder.encoding;
  }
  get fatal() {
    return this._decoder.fatal;
  }
  get ignoreBOM() {
    return this._decoder.ignoreBOM;
  }
  get readable() {
    return this._stream.readable;
  }
  get writable() {
    return this._stream.writable;
  }
}

export default {
  ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader, ReadableStreamBYOBRequest, ReadableByteStreamController, ReadableStreamDefaultController,
  TransformStream, TransformStreamDefaultController, WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController,
  ByteLengthQueuingStrategy, CountQueuingStrategy, TextEncoderStream, TextDecoderStream, CompressionStream, DecompressionStream,
};
