// stdout and stderr. Writes are synchronous (written, then flushed), so output appears as it is
// written and in order with console.*.

import { getStderr, getStdout } from './host.js';
import { toBytes } from './bytes.js';
import { close } from './resources.js';
import { EventEmitter } from './event-emitter.js';
import { guard } from './liveness.js';

let stdoutHandle;
let stderrHandle;
export const stdoutStream = () => (stdoutHandle ??= getStdout());
export const stderrStream = () => (stderrHandle ??= getStderr());

/**
 * Writes all of `bytes`, as much per call as the host takes (wasmtime: a mebibyte, where
 * blocking-write-and-flush takes 4 KiB), then flushes. False when the reader has gone (later
 * writes are dropped, as Node's are after EPIPE); any other failure is thrown: output is never
 * lost in silence.
 */
export function writeAll(stream, bytes) {
  try {
    for (let off = 0; off < bytes.length; ) {
      let n = Number(stream.checkWrite());
      if (n === 0) {
        const p = stream.subscribe();
        p.block();
        close(p);
        continue;
      }
      n = Math.min(n, bytes.length - off);
      stream.write(off === 0 && n === bytes.length ? bytes : bytes.subarray(off, off + n));
      off += n;
    }
    stream.blockingFlush();
  } catch (e) {
    if (readerGone(e)) return false;
    throw streamError(e, 'write');
  }
  return true;
}

/** Whether a stream error means that the reader went away (a closed pipe). */
function readerGone(e) {
  const p = e?.payload;
  return p?.tag === 'closed' || (p?.tag === 'last-operation-failed' && /broken pipe/i.test(debugText(p.val)));
}

function debugText(error) {
  try {
    return error.toDebugString();
  } catch {
    return '';
  }
}

// The host's OS errors that a write to stdout or stderr meets (a full disk, a quota), by number.
const OS_ERRORS = { 5: ['EIO', 'i/o error'], 27: ['EFBIG', 'file too large'], 28: ['ENOSPC', 'no space left on device'], 122: ['EDQUOT', 'disk quota exceeded'] };

/** A wasi:io stream error as Node's Error for the failed call; anything else as it is. */
function streamError(e, syscall) {
  const p = e?.payload;
  if (p?.tag !== 'last-operation-failed' && p?.tag !== 'closed') return e;
  const text = p.tag === 'closed' ? 'the stream is closed' : debugText(p.val);
  const n = /os error (\d+)/.exec(text)?.[1];
  const [code, description] = OS_ERRORS[n] ?? ['EIO', `i/o error (${text})`];
  const err = new Error(`${code}: ${description}, ${syscall}`);
  err.code = code;
  err.errno = OS_ERRORS[n] ? -Number(n) : -5;
  err.syscall = syscall;
  return err;
}

export class Writable extends EventEmitter {
  constructor(handle, fd) {
    super();
    this._handle = handle;
    this.fd = fd;
    this.isTTY = false;
    this.writable = true;
  }
  write(chunk, encoding, cb) {
    if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    const ok = writeAll(this._handle(), toBytes(chunk, encoding));
    if (cb) queueMicrotask(() => guard(() => cb(ok ? null : new Error('write after the reader closed'))));
    return true;
  }
  end(chunk, encoding, cb) {
    if (typeof chunk === 'function') [cb, chunk] = [chunk, undefined];
    if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
    if (cb) queueMicrotask(() => guard(() => cb()));
    return this;
  }
}
