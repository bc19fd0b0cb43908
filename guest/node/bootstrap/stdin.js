// stdin: read asynchronously by process.stdin (events and async iteration), or synchronously by
// fabricks.stdin.readLine() and readAll(), both from one buffer.

import { getStdin } from './host.js';
import { nativeSetTimeout } from './natives.js';
import { chunkOf, concatBytes } from './bytes.js';
import { EventEmitter } from './event-emitter.js';
import { guard, ref, refs, unref } from './liveness.js';

let stdinHandle;
const stdinStream = () => (stdinHandle ??= getStdin());

let stdinBuffered = new Uint8Array(0); // read by the sync API, not yet consumed
let stdinEnded = false;

/** Reads the next chunk: bytes, an empty chunk when none is ready (non-blocking), or null at the end. */
function readStdin(blocking) {
  if (stdinBuffered.length > 0) {
    const b = stdinBuffered;
    stdinBuffered = new Uint8Array(0);
    return b;
  }
  if (stdinEnded) return null;
  try {
    const s = stdinStream();
    const bytes = blocking ? s.blockingRead(65536n) : s.read(65536n);
    return bytes;
  } catch (e) {
    stdinEnded = true; // closed, or failed: both end the input
    return null;
  }
}

export class Stdin extends EventEmitter {
  constructor() {
    super();
    this.fd = 0;
    this.isTTY = false;
    this._encoding = undefined;
    this._decoder = undefined;
    this._flowing = false;
    this._ended = false;
  }
  setEncoding(encoding = 'utf8') {
    if (!/^utf-?8$/i.test(encoding)) throw new TypeError(`encoding "${encoding}" is not supported; use utf8`);
    this._encoding = 'utf8';
    this._decoder = new TextDecoder();
    return this;
  }
  on(name, fn) {
    super.on(name, fn);
    if (name === 'data' || name === 'readable') this.resume();
    return this;
  }
  resume() {
    if (!this._flowing && !this._ended) {
      this._flowing = true;
      ref();
      nativeSetTimeout(() => this._pump(), 0);
    }
    return this;
  }
  pause() {
    if (this._flowing) {
      this._flowing = false;
      unref();
    }
    return this;
  }
  unref() {
    return this.pause();
  }
  ref() {
    return this;
  }
  _pump() {
    if (!this._flowing) return;
    // Block on stdin only when nothing else could wake the program (no timers, no requests);
    // otherwise poll so that timers and fetches keep running while input is idle.
    const blocking = refs === 1;
    const bytes = readStdin(blocking);
    if (bytes === null) {
      this._ended = true;
      this._flowing = false;
      const rest = this._decoder?.decode();
      if (rest) guard(() => this.emit('data', rest));
      guard(() => this.emit('end'));
      guard(() => this.emit('close'));
      unref();
      return;
    }
    if (bytes.length > 0) {
      const chunk = this._decoder ? this._decoder.decode(bytes, { stream: true }) : chunkOf(bytes);
      if (!this._decoder || chunk.length > 0) guard(() => this.emit('data', chunk));
    }
    nativeSetTimeout(() => this._pump(), bytes.length > 0 || blocking ? 0 : 5);
  }
  async *[Symbol.asyncIterator]() {
    const queue = [];
    let wake;
    let done = false;
    const onData = (c) => {
      queue.push(c);
      wake?.();
    };
    const onEnd = () => {
      done = true;
      wake?.();
    };
    this.on('data', onData);
    this.on('end', onEnd);
    try {
      for (;;) {
        if (queue.length > 0) yield queue.shift();
        else if (done) return;
        else await new Promise((r) => (wake = r));
      }
    } finally {
      this.off('data', onData);
      this.off('end', onEnd);
    }
  }
}

/** Synchronous stdin: fabricks.stdin.readLine() and readAll(). */
export const syncStdin = {
  readLine() {
    const decoder = new TextDecoder();
    let line = '';
    for (;;) {
      const bytes = readStdin(true);
      if (bytes === null) return line === '' ? null : line;
      const nl = bytes.indexOf(10);
      if (nl < 0) {
        line += decoder.decode(bytes, { stream: true });
        continue;
      }
      line += decoder.decode(bytes.subarray(0, nl));
      stdinBuffered = bytes.subarray(nl + 1);
      return line.endsWith('\r') ? line.slice(0, -1) : line;
    }
  },
  readAll() {
    const parts = [];
    let total = 0;
    for (let b = readStdin(true); b !== null; b = readStdin(true)) {
      parts.push(b);
      total += b.length;
    }
    return new TextDecoder().decode(concatBytes(parts, total));
  },
};
