// The fabricks JavaScript runtime: built once into the runtime layer with componentize-js
// (StarlingMonkey). It holds no user code. On `wasi:cli/run` it reads the bundled entrypoint
// from the module layer (fabricks:app/source), gives it a small Node-like environment and runs it
// until nothing is left to do, as Node would. On `wasi:http/incoming-handler` (its own, over
// wasi:http/types) it loads the same entrypoint once and hands each request to its `export
// default { fetch }` or its `addEventListener('fetch', ...)` listeners, one after another.
//
// This file's top level runs at build time (wizer pre-initialization), so it must not call any
// import there; everything that talks to the host happens inside run().

import { entrypoint, list, read } from 'fabricks:app/source@0.1.0';
import { getArguments, getEnvironment } from 'wasi:cli/environment@0.2.10';
import { exit as wasiExit } from 'wasi:cli/exit@0.2.10';
import { getStdin } from 'wasi:cli/stdin@0.2.10';
import { getStdout } from 'wasi:cli/stdout@0.2.10';
import { getStderr } from 'wasi:cli/stderr@0.2.10';
import { getDirectories } from 'wasi:filesystem/preopens@0.2.10';
import { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.10';

const encoder = new TextEncoder();
const nativeSetTimeout = globalThis.setTimeout;
const nativeClearTimeout = globalThis.clearTimeout;
const nativeFetch = globalThis.fetch;
const nativeAddEventListener = globalThis.addEventListener;

// ---------------------------------------------------------------------------------------------
// Liveness: the program ends when its main script has settled and nothing that can call back
// into it is left (timers, stdin being read, requests in flight), like Node's event loop.

let refs = 0;
let mainSettled = false;
let finished = false;
let finishRun = () => {};
let checkQueued = false;

function ref() {
  refs++;
}
function unref() {
  refs--;
  queueCheck();
}
function queueCheck() {
  if (checkQueued) return;
  checkQueued = true;
  // A macrotask, so that promise chains woken by the last callback run first.
  nativeSetTimeout(() => {
    checkQueued = false;
    if (!finished && mainSettled && refs === 0) finish();
  }, 0);
}

function finish() {
  if (finished) return;
  emitProcess('beforeExit', process.exitCode ?? 0);
  if (refs > 0) return; // a beforeExit listener scheduled more work
  exitWith(process.exitCode ?? 0);
}

function exitWith(code) {
  code = Number(code) || 0;
  if (!finished) {
    finished = true;
    process.exitCode = code;
    emitProcess('exit', code);
  }
  if (code === 0) {
    finishRun();
    return;
  }
  // WASI 0.2's exit carries success or failure only: any non-zero code ends as status 1.
  wasiExit({ tag: 'err' });
  throw new ProcessExit(code); // only reached on a host whose exit returns
}

class ProcessExit extends Error {}

function guard(fn) {
  try {
    fn();
  } catch (e) {
    fatal(e);
  }
}

function fatal(e) {
  if (e instanceof ProcessExit) throw e;
  try {
    if (e === OUT_OF_MEMORY) lastWords?.();
    else writeAll(stderrStream(), encoder.encode(formatError(e) + '\n'));
  } catch {
    // stderr is gone, or memory: the exit status still says that the program failed
  }
  exitWith(1);
}

// What SpiderMonkey throws when an allocation fails: its heap of objects is capped (at 32 MiB,
// by StarlingMonkey) and the host caps memory at the 2 GiB the runtime can address
// (src/runtimes/catalogue.ts). Saying so must not need memory: the message is staged at the
// start, and `lastWords` writes it and exits through the bindings' bare functions
// (src/tools/componentize-js-bindings.ts).
const OUT_OF_MEMORY = 'out of memory';
const OUT_OF_MEMORY_MESSAGE = encoder.encode('fabricks: the program ran out of memory (JavaScript heap out of memory)\n');
let lastWords;

// ---------------------------------------------------------------------------------------------
// Timers that keep the program alive, with Node's Timeout object (ref/unref/hasRef).
//
// StarlingMonkey runs every expired timer in one turn without running promise jobs in between,
// so `await sleep(10)` could resume after a 30 ms timer. Node runs promise jobs after each timer
// callback; to get that order, timers wait in a queue here and one native timer at a time fires
// the earliest of them.

const timerQueue = []; // sorted by due time, then creation order
let timerSeq = 0;
let nativeTimer;
let nativeDue = Infinity;
let firingTimer = false;

function scheduleTimers() {
  if (firingTimer) return; // fireTimer schedules the next one once promise jobs have run
  const next = timerQueue[0];
  if (nativeTimer !== undefined && (!next || nativeDue > next.due)) {
    nativeClearTimeout(nativeTimer);
    nativeTimer = undefined;
    nativeDue = Infinity;
  }
  if (!next || nativeTimer !== undefined) return;
  nativeDue = next.due;
  nativeTimer = nativeSetTimeout(fireTimer, Math.max(0, next.due - performance.now()));
}

function fireTimer() {
  nativeTimer = undefined;
  nativeDue = Infinity;
  const t = timerQueue[0];
  if (t && t.due <= performance.now() + 1) {
    timerQueue.shift();
    firingTimer = true;
    try {
      t._fire();
    } finally {
      firingTimer = false;
    }
  }
  // A native timer made now would run in this same pass, before the promise jobs the callback
  // queued; a promise job of our own, queued after theirs, makes it instead.
  Promise.resolve().then(scheduleTimers);
}

function enqueueTimer(t) {
  let i = timerQueue.length;
  while (i > 0 && timerQueue[i - 1].due > t.due) i--;
  timerQueue.splice(i, 0, t);
  scheduleTimers();
}

function dequeueTimer(t) {
  const i = timerQueue.indexOf(t);
  if (i >= 0) timerQueue.splice(i, 1);
  scheduleTimers();
}

class Timeout {
  constructor(repeat, fn, ms, args) {
    this._repeat = repeat;
    this._ms = Math.max(1, Number(ms) || 0);
    this._fn = fn;
    this._args = args;
    this._ref = true;
    this._live = true;
    this._id = ++timerSeq;
    ref();
    this.due = performance.now() + this._ms;
    enqueueTimer(this);
  }
  _fire() {
    if (!this._live) return;
    if (this._repeat) {
      this.due = performance.now() + this._ms;
      enqueueTimer(this);
    } else this._close();
    guard(() => this._fn(...this._args));
  }
  _close() {
    if (!this._live) return;
    this._live = false;
    dequeueTimer(this);
    if (this._ref) unref();
  }
  ref() {
    if (!this._ref && this._live) ref();
    this._ref = true;
    return this;
  }
  unref() {
    if (this._ref && this._live) unref();
    this._ref = false;
    return this;
  }
  hasRef() {
    return this._ref;
  }
  refresh() {
    if (this._live) {
      dequeueTimer(this);
      this.due = performance.now() + this._ms;
      enqueueTimer(this);
    }
    return this;
  }
  close() {
    this._close();
    return this;
  }
  [Symbol.toPrimitive]() {
    return this._id;
  }
}

function clearTimer(t) {
  if (t instanceof Timeout) t._close();
}

// ---------------------------------------------------------------------------------------------
// A small EventEmitter (also served to bundles that import 'events' / 'node:events').

class EventEmitter {
  constructor() {
    this._events = new Map();
  }
  on(name, fn) {
    if (!this._events.has(name)) this._events.set(name, []);
    this._events.get(name).push(fn);
    return this;
  }
  addListener(name, fn) {
    return this.on(name, fn);
  }
  prependListener(name, fn) {
    if (!this._events.has(name)) this._events.set(name, []);
    this._events.get(name).unshift(fn);
    return this;
  }
  once(name, fn) {
    const wrapper = (...args) => {
      this.off(name, wrapper);
      fn.apply(this, args);
    };
    wrapper.listener = fn;
    return this.on(name, wrapper);
  }
  off(name, fn) {
    const list = this._events.get(name);
    if (list) {
      const i = list.findIndex((l) => l === fn || l.listener === fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }
  removeListener(name, fn) {
    return this.off(name, fn);
  }
  removeAllListeners(name) {
    if (name === undefined) this._events.clear();
    else this._events.delete(name);
    return this;
  }
  emit(name, ...args) {
    const list = this._events.get(name);
    if (!list || list.length === 0) {
      if (name === 'error') throw args[0];
      return false;
    }
    for (const fn of [...list]) fn.apply(this, args);
    return true;
  }
  listenerCount(name) {
    return this._events.get(name)?.length ?? 0;
  }
  listeners(name) {
    return [...(this._events.get(name) ?? [])];
  }
  setMaxListeners() {
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// Standard streams. Writes are synchronous (written, then flushed), so output appears as it is
// written and in order with console.*.

let stdoutHandle;
let stderrHandle;
let stdinHandle;
const stdoutStream = () => (stdoutHandle ??= getStdout());
const stderrStream = () => (stderrHandle ??= getStderr());
const stdinStream = () => (stdinHandle ??= getStdin());

/** The parts one after another, in one array of `total` bytes. */
function concatBytes(parts, total) {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Writes all of `bytes`, as much per call as the host takes (wasmtime: a mebibyte, where
 * blocking-write-and-flush takes 4 KiB), then flushes. False when the reader has gone (later
 * writes are dropped, as Node's are after EPIPE); any other failure is thrown: output is never
 * lost in silence.
 */
function writeAll(stream, bytes) {
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

function toBytes(chunk, encoding) {
  if (typeof chunk === 'string') {
    if (encoding && !/^utf-?8$/i.test(encoding)) throw new TypeError(`encoding "${encoding}" is not supported; use utf8`);
    return encoder.encode(chunk);
  }
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('The "chunk" argument must be a string or Uint8Array');
}

class Writable extends EventEmitter {
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

/** A chunk read from stdin: bytes that print as text, as Node's Buffer does. */
class Chunk extends Uint8Array {
  toString(encoding = 'utf8') {
    if (!/^utf-?8$/i.test(encoding)) throw new TypeError(`encoding "${encoding}" is not supported; use utf8`);
    return new TextDecoder().decode(this);
  }
}

/** Bytes for user code: a Buffer when the bundle brought one (fabricks builds inject it), as Node gives. */
function chunkOf(bytes) {
  const B = globalThis.Buffer;
  return typeof B?.from === 'function' ? B.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Chunk(bytes);
}

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

class Stdin extends EventEmitter {
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
const syncStdin = {
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

// ---------------------------------------------------------------------------------------------
// readline: createInterface({ input }) with 'line' / 'close' events and `for await (const line of rl)`.

class Interface extends EventEmitter {
  constructor(input) {
    super();
    this._buffer = '';
    this._closed = false;
    input.setEncoding('utf8');
    input.on('data', (text) => {
      this._buffer += text;
      let nl;
      while (!this._closed && (nl = this._buffer.indexOf('\n')) >= 0) {
        let line = this._buffer.slice(0, nl);
        this._buffer = this._buffer.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        this.emit('line', line);
      }
    });
    input.on('end', () => {
      if (this._buffer !== '' && !this._closed) this.emit('line', this._buffer);
      this._buffer = '';
      this.close();
    });
    this._input = input;
  }
  close() {
    if (this._closed) return;
    this._closed = true;
    this._input.pause();
    this.emit('close');
  }
  async *[Symbol.asyncIterator]() {
    const queue = [];
    let wake;
    this.on('line', (l) => {
      queue.push(l);
      wake?.();
    });
    this.on('close', () => wake?.());
    for (;;) {
      if (queue.length > 0) yield queue.shift();
      else if (this._closed) return;
      else await new Promise((r) => (wake = r));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The user's files in the module layer.

function normalizePath(path) {
  return String(path).replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

function readPacked(path) {
  const bytes = read(normalizePath(path));
  if (bytes === undefined || bytes === null) {
    const err = new Error(`ENOENT: no such file in the module layer, open '${path}'`);
    err.code = 'ENOENT';
    throw err;
  }
  return bytes;
}

function decodeText(bytes, encoding) {
  if (encoding && !/^utf-?8$/i.test(typeof encoding === 'string' ? encoding : encoding.encoding ?? 'utf8')) {
    throw new TypeError(`encoding "${encoding}" is not supported; use utf8`);
  }
  return new TextDecoder().decode(bytes);
}

const fabricksApi = Object.freeze({
  files: () => list(),
  exists: (path) => {
    const bytes = read(normalizePath(path));
    return bytes !== undefined && bytes !== null;
  },
  readFile: (path) => readPacked(path),
  readText: (path) => decodeText(readPacked(path)),
  stdin: syncStdin,
});

// ---------------------------------------------------------------------------------------------
// fs: the packed files (read-only, by relative path as before) and the folders the service is
// granted ([capabilities.filesystem] mounts), which the host preopens at their guest paths.
// Every call starts from the mount's preopened folder, so what the host allows is all there is;
// the host refuses `..` past a mount, links that lead out and writes to a read-only mount, and
// the errors here only say so in Node's terms, naming the capability to add.

const CONFIG = '[capabilities.filesystem] mounts in fabricks.toml';
const ERRNO = {
  access: 'EACCES', 'not-permitted': 'EPERM', 'no-entry': 'ENOENT', exist: 'EEXIST', 'is-directory': 'EISDIR',
  'not-directory': 'ENOTDIR', 'read-only': 'EROFS', 'not-empty': 'ENOTEMPTY', invalid: 'EINVAL', loop: 'ELOOP',
  'bad-descriptor': 'EBADF', 'cross-device': 'EXDEV', unsupported: 'ENOTSUP', 'name-too-long': 'ENAMETOOLONG',
  'would-block': 'EAGAIN', busy: 'EBUSY', 'insufficient-space': 'ENOSPC', quota: 'EDQUOT', 'file-too-large': 'EFBIG', io: 'EIO',
};
const DESCRIPTIONS = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', ENOENT: 'no such file or directory', EEXIST: 'file already exists',
  EISDIR: 'illegal operation on a directory', ENOTDIR: 'not a directory', ENOTEMPTY: 'directory not empty', EINVAL: 'invalid argument',
  ELOOP: 'too many symbolic links encountered', EXDEV: 'cross-device link not permitted', EIO: 'i/o error',
};

let mountTable; // [{ dir, guest }], longest guest path first

function mountsNow() {
  if (!mountTable) {
    mountTable = getDirectories()
      .map(([dir, guest]) => ({ dir, guest: guest === '/' ? '/' : guest.replace(/\/+$/, '') }))
      .sort((a, b) => b.guest.length - a.guest.length);
  }
  return mountTable;
}

/** The mount a guest path is under, as written (`..` is left for the host to judge). */
function findMount(abs) {
  for (const m of mountsNow()) {
    if (m.guest === '/' || abs === m.guest || abs.startsWith(m.guest + '/')) {
      const rel = abs.slice(m.guest === '/' ? 1 : m.guest.length).replace(/^\/+/, '');
      return { ...m, rel: rel === '' ? '.' : rel };
    }
  }
  return undefined;
}

function pathString(path) {
  if (path instanceof URL) return decodeURIComponent(path.pathname);
  if (path instanceof Uint8Array) return new TextDecoder().decode(path);
  if (typeof path !== 'string') throw new TypeError('The "path" argument must be of type string, Buffer or URL');
  return path;
}

function absolute(path) {
  return path.startsWith('/') ? path : `/${path}`;
}

/** The top folder a path names, for messages: /etc for /etc/passwd. */
function topFolder(abs) {
  const segs = [];
  for (const s of abs.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segs.pop();
    else segs.push(s);
  }
  return `/${segs[0] ?? ''}`;
}

/** An Error as Node makes them: `CODE: description, syscall 'path'` (` -> 'dest'` for two paths). */
function fsError(code, detail, syscall, path, wasi, dest) {
  const err = new Error(`${code}: ${detail}, ${syscall} '${path}'${dest === undefined ? '' : ` -> '${dest}'`}`);
  err.code = code;
  err.errno = -({ EPERM: 1, ENOENT: 2, EIO: 5, EACCES: 13, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EROFS: 30, ENOTEMPTY: 39, ELOOP: 40 }[code] ?? 5);
  err.syscall = syscall;
  err.path = path;
  if (dest !== undefined) err.dest = dest;
  if (wasi) err.wasi = wasi;
  return err;
}

/** A path in no mount: `missing`, the path itself or a rename's `dest`. */
function notGranted(syscall, path, missing = path, dest = undefined) {
  const folder = `no folder is granted at ${topFolder(absolute(missing))}; add a mount for it to ${CONFIG}`;
  // a relative path may have meant a packed file
  const detail = missing.startsWith('/') ? folder : `no such file in the module layer, and ${folder}`;
  return fsError('ENOENT', detail, syscall, path, undefined, dest);
}

/** Operations that change a folder: refused on a read-only mount. */
const WRITING = new Set(['mkdir', 'unlink', 'rmdir', 'rm', 'rename']);

/** Whether the host lets the guest change a mount (wasmtime: mutate-directory; jco's host: write). */
function mountWritable(mount) {
  try {
    const flags = mount.dir.getFlags();
    return Boolean(flags.write || flags.mutateDirectory);
  } catch {
    return true;
  }
}

/**
 * A wasi:filesystem error-code (thrown as its name, or wrapped) in Node's terms. `to` is a
 * rename's destination, in the same mount.
 */
function fromWasi(e, syscall, path, mount, writes, to) {
  if (e instanceof ProcessExit || (e instanceof Error && e.code && e.syscall)) return e;
  const wasi = typeof e === 'string' ? e : (e?.payload ?? e?.tag ?? (e instanceof Error ? e.message : String(e)));
  let code = ERRNO[wasi] ?? 'EIO';
  // wasmtime refuses a write to a read-only mount as not-permitted, where jco's host says read-only
  if (code === 'EPERM' && writes && !mountWritable(mount)) code = 'EROFS';
  let detail = DESCRIPTIONS[code] ?? String(wasi);
  if (code === 'EROFS') detail = `the folder ${mount.guest} is granted read-only; to write to it, set mode = "rw" for it in ${CONFIG}`;
  else if (code === 'EPERM' && syscall === 'symlink') detail = `operation not permitted (a service cannot make symbolic links in the folders it is granted)`;
  else if (code === 'EPERM') {
    const why = leadsOut(mount) ?? (to && leadsOut(to.mount));
    detail = why
      ? `operation not permitted (${why}; a service reaches only the folders mounted for it: to reach another one, add it to ${CONFIG})`
      : `operation not permitted (the host refused it in the folder ${mount.guest})`;
  }
  return fsError(code, detail, syscall, path, wasi, to?.path);
}

/**
 * Why the host refuses a path in a mount that it would otherwise allow: a `..` that climbs above
 * the mount, or a symbolic link on the way that points out of it (the first link found).
 */
function leadsOut(mount) {
  const segs = mount.rel.split('/').filter((s) => s !== '' && s !== '.');
  let depth = 0;
  for (const s of segs) {
    depth += s === '..' ? -1 : 1;
    if (depth < 0) return `'..' leads out of the mount ${mount.guest}`;
  }
  for (let i = 1; i <= segs.length; i++) {
    const rel = segs.slice(0, i).join('/');
    let type;
    try {
      type = mount.dir.statAt(NOFOLLOW, rel).type;
    } catch {
      return undefined;
    }
    if (type === 'symbolic-link') return `${guestPath(mount, rel)} is a symbolic link leading out of the mount ${mount.guest}`;
  }
  return undefined;
}

const guestPath = (mount, rel) => `${mount.guest === '/' ? '' : mount.guest}/${rel}`;

/** Runs `fn(mount)` for a path in a granted folder; a path in none fails as not granted. */
function inMount(syscall, path, fn, writes = WRITING.has(syscall)) {
  const p = pathString(path);
  const mount = findMount(absolute(p));
  if (!mount) throw notGranted(syscall, p);
  try {
    return fn(mount);
  } catch (e) {
    throw fromWasi(e, syscall, p, mount, writes);
  }
}

/** A packed file for a path no mount covers, or undefined. */
function packedBytes(path) {
  const p = pathString(path);
  if (findMount(absolute(p))) return undefined;
  const bytes = read(normalizePath(p));
  return bytes === undefined || bytes === null ? undefined : bytes;
}

const FOLLOW = { symlinkFollow: true };
const NOFOLLOW = { symlinkFollow: false };

function close(resource) {
  const dispose = Symbol.dispose;
  if (dispose && typeof resource?.[dispose] === 'function') resource[dispose]();
}

// Files move a mebibyte per call: each call to the host costs more than copying the bytes.
const FILE_CHUNK = 1 << 20;

function readWhole(fd) {
  const parts = [];
  let total = 0;
  for (let off = 0n; ; ) {
    const [bytes, eof] = fd.read(BigInt(FILE_CHUNK), off);
    parts.push(bytes);
    total += bytes.length;
    off += BigInt(bytes.length);
    if (eof || bytes.length === 0) break;
  }
  return concatBytes(parts, total);
}

function writeWhole(fd, bytes, start) {
  let off = start;
  for (let i = 0; i < bytes.length; ) {
    const n = Number(fd.write(bytes.subarray(i, i + FILE_CHUNK), off));
    i += n;
    off += BigInt(n);
  }
}

function encodingOf(options) {
  return typeof options === 'string' ? options : options?.encoding;
}

function dataBytes(data, options) {
  if (typeof data === 'string') return toBytes(data, encodingOf(options));
  return toBytes(data);
}

const TYPES = { 'regular-file': 'file', directory: 'dir', 'symbolic-link': 'link' };

/** What fs.Dirent and fs.Stats share: the kind of entry, from a wasi:filesystem descriptor type. */
class Typed {
  constructor(type) {
    this._type = type;
  }
  isFile() {
    return this._type === 'regular-file';
  }
  isDirectory() {
    return this._type === 'directory';
  }
  isSymbolicLink() {
    return this._type === 'symbolic-link';
  }
}

class Dirent extends Typed {
  constructor(name, type, parentPath) {
    super(type);
    this.name = name;
    this.parentPath = this.path = parentPath;
  }
}

const toMs = (t) => (t ? Number(t.seconds) * 1000 + Math.floor(t.nanoseconds / 1e6) : 0);

class Stats extends Typed {
  constructor(s) {
    super(s.type);
    this.size = Number(s.size);
    this.nlink = Number(s.linkCount);
    this.atimeMs = toMs(s.dataAccessTimestamp);
    this.mtimeMs = toMs(s.dataModificationTimestamp);
    this.ctimeMs = toMs(s.statusChangeTimestamp);
    this.birthtimeMs = this.ctimeMs;
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = this.ctime;
    this.mode = s.type === 'directory' ? 0o40755 : s.type === 'symbolic-link' ? 0o120777 : 0o100644;
  }
}

function packedStats(bytes) {
  return new Stats({ type: 'regular-file', size: BigInt(bytes.length), linkCount: 1n });
}

/** stat and lstat: a packed file, else a path in a granted folder (following links or not). */
function statOf(op, flags, path, options) {
  try {
    const packed = packedBytes(path);
    if (packed) return packedStats(packed);
    return inMount(op, path, (m) => new Stats(m.dir.statAt(flags, m.rel)));
  } catch (e) {
    if (options?.throwIfNoEntry === false && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

function openFile(mount, openFlags, flags) {
  return mount.dir.openAt(FOLLOW, mount.rel, openFlags, flags);
}

function listDir(mount) {
  const d = mount.rel === '.' ? mount.dir : mount.dir.openAt(FOLLOW, mount.rel, { directory: true }, { read: true });
  try {
    const stream = d.readDirectory();
    const entries = [];
    for (let e; (e = stream.readDirectoryEntry()); ) entries.push(e);
    close(stream);
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } finally {
    if (d !== mount.dir) close(d);
  }
}

function removeTree(dir, rel) {
  const st = dir.statAt(NOFOLLOW, rel);
  if (st.type !== 'directory') return dir.unlinkFileAt(rel);
  const sub = dir.openAt(NOFOLLOW, rel, { directory: true }, { read: true });
  const names = [];
  try {
    const stream = sub.readDirectory();
    for (let e; (e = stream.readDirectoryEntry()); ) names.push(e.name);
    close(stream);
  } finally {
    close(sub);
  }
  for (const n of names) removeTree(dir, `${rel}/${n}`);
  dir.removeDirectoryAt(rel);
}

const fs = {
  readFileSync(path, options) {
    const packed = packedBytes(path);
    const bytes =
      packed ??
      inMount('open', path, (m) => {
        const fd = openFile(m, {}, { read: true });
        try {
          return readWhole(fd);
        } finally {
          close(fd);
        }
      });
    const enc = encodingOf(options);
    return enc ? decodeText(bytes, enc) : chunkOf(bytes);
  },
  writeFileSync(path, data, options) {
    const append = /^a/.test(options?.flag ?? '');
    inMount('open', path, (m) => {
      const fd = openFile(m, { create: true, truncate: !append }, { write: true });
      try {
        writeWhole(fd, dataBytes(data, options), append ? fd.stat().size : 0n);
      } finally {
        close(fd);
      }
    }, true);
  },
  appendFileSync(path, data, options) {
    fs.writeFileSync(path, data, { ...(typeof options === 'string' ? { encoding: options } : options), flag: 'a' });
  },
  existsSync(path) {
    try {
      if (packedBytes(path)) return true;
      fs.statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  accessSync(path) {
    fs.statSync(path);
  },
  statSync(path, options) {
    return statOf('stat', FOLLOW, path, options);
  },
  lstatSync(path, options) {
    return statOf('lstat', NOFOLLOW, path, options);
  },
  readdirSync(path, options) {
    const entries = inMount('scandir', path, listDir);
    const parent = pathString(path);
    return options?.withFileTypes ? entries.map((e) => new Dirent(e.name, e.type, parent)) : entries.map((e) => e.name);
  },
  mkdirSync(path, options) {
    const recursive = options === true || options?.recursive;
    return inMount('mkdir', path, (m) => {
      if (!recursive) {
        m.dir.createDirectoryAt(m.rel);
        return undefined;
      }
      let first;
      const segs = m.rel.split('/').filter((s) => s && s !== '.');
      for (let i = 1; i <= segs.length; i++) {
        const rel = segs.slice(0, i).join('/');
        try {
          m.dir.createDirectoryAt(rel);
          first ??= `${m.guest === '/' ? '' : m.guest}/${rel}`;
        } catch (e) {
          const wasi = typeof e === 'string' ? e : (e?.payload ?? e?.tag);
          if (wasi !== 'exist') throw e;
          if (m.dir.statAt(FOLLOW, rel).type !== 'directory') throw 'not-directory';
        }
      }
      return first;
    });
  },
  unlinkSync(path) {
    inMount('unlink', path, (m) => m.dir.unlinkFileAt(m.rel));
  },
  rmdirSync(path) {
    inMount('rmdir', path, (m) => m.dir.removeDirectoryAt(m.rel));
  },
  rmSync(path, options) {
    try {
      inMount('rm', path, (m) => (options?.recursive ? removeTree(m.dir, m.rel) : m.dir.unlinkFileAt(m.rel)));
    } catch (e) {
      if (!(options?.force && e.code === 'ENOENT')) throw e;
    }
  },
  renameSync(from, to) {
    const src = pathString(from);
    const dest = pathString(to);
    const mount = findMount(absolute(src));
    const target = findMount(absolute(dest));
    if (!mount) throw notGranted('rename', src, src, dest);
    if (!target) throw notGranted('rename', src, dest, dest);
    // a read-only end is named as such, whichever side it is on
    for (const m of target.guest === mount.guest ? [mount] : [mount, target]) {
      if (!mountWritable(m)) throw fsError('EROFS', `the folder ${m.guest} is granted read-only; to write to it, set mode = "rw" for it in ${CONFIG}`, 'rename', src, undefined, dest);
    }
    try {
      mount.dir.renameAt(mount.rel, target.dir, target.rel);
    } catch (e) {
      // each mount is a folder of its own on the host: within one host file system a rename
      // between them works; across two it fails (wasmtime says io), as between devices on Linux
      if (target.guest !== mount.guest && (e === 'io' || e === 'cross-device' || e?.payload === 'io' || e?.payload === 'cross-device')) {
        throw fsError('EXDEV', `cross-device link not permitted (renames between the mounts ${mount.guest} and ${target.guest} are not possible; copy instead)`, 'rename', src, undefined, dest);
      }
      throw fromWasi(e, 'rename', src, mount, true, { path: dest, mount: target });
    }
  },
  copyFileSync(from, to) {
    fs.writeFileSync(to, fs.readFileSync(from));
  },
  symlinkSync(target, path) {
    inMount('symlink', path, (m) => m.dir.symlinkAt(String(target), m.rel));
  },
  readlinkSync(path) {
    return inMount('readlink', path, (m) => m.dir.readlinkAt(m.rel));
  },
  writeSync(fd, chunk) {
    const out = fd === 1 ? process.stdout : fd === 2 ? process.stderr : undefined;
    if (!out) throw new Error(`EBADF: fabricks can only write to fd 1 and 2, not ${fd}`);
    out.write(chunk);
    return chunk.length;
  },
};

// fs.promises: the same calls, settled on a later turn (rejected promises, never throws).
const PROMISED = ['readFile', 'writeFile', 'appendFile', 'stat', 'lstat', 'readdir', 'mkdir', 'unlink', 'rmdir', 'rm', 'rename', 'copyFile', 'symlink', 'readlink', 'access'];
fs.promises = Object.fromEntries(
  PROMISED.map((name) => [
    name,
    (...args) =>
      new Promise((resolve, reject) => {
        try {
          resolve(fs[`${name}Sync`](...args));
        } catch (e) {
          reject(e);
        }
      }),
  ]),
);
fs.constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 };

// ---------------------------------------------------------------------------------------------
// process

const processEvents = new EventEmitter();
function emitProcess(name, ...args) {
  try {
    processEvents.emit(name, ...args);
  } catch (e) {
    if (e instanceof ProcessExit) throw e;
  }
}

const process = {
  argv: [],
  argv0: 'fabricks',
  env: {},
  exitCode: undefined,
  platform: 'wasi',
  arch: 'wasm32',
  pid: 1,
  version: 'v20.0.0',
  versions: { fabricks: '0.1' },
  release: { name: 'fabricks' },
  execArgv: [],
  title: 'fabricks',
  stdout: new Writable(stdoutStream, 1),
  stderr: new Writable(stderrStream, 2),
  stdin: new Stdin(),
  exit(code) {
    exitWith(code ?? process.exitCode ?? 0);
  },
  cwd: () => '/',
  chdir() {
    throw new Error('process.chdir() is not supported in the fabricks runtime');
  },
  nextTick(fn, ...args) {
    queueMicrotask(() => guard(() => fn(...args)));
  },
  hrtime: Object.assign(
    (prev) => {
      const ns = BigInt(Math.round(performance.now() * 1e6));
      const t = [Number(ns / 1000000000n), Number(ns % 1000000000n)];
      if (!prev) return t;
      let s = t[0] - prev[0];
      let n = t[1] - prev[1];
      if (n < 0) {
        s--;
        n += 1e9;
      }
      return [s, n];
    },
    { bigint: () => BigInt(Math.round(performance.now() * 1e6)) },
  ),
  uptime: () => performance.now() / 1000,
  memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }),
  emitWarning(warning) {
    process.stderr.write(`(fabricks) Warning: ${warning instanceof Error ? warning.message : warning}\n`);
  },
  on(name, fn) {
    processEvents.on(name, fn);
    return process;
  },
  once(name, fn) {
    processEvents.once(name, fn);
    return process;
  },
  off(name, fn) {
    processEvents.off(name, fn);
    return process;
  },
  addListener(name, fn) {
    return process.on(name, fn);
  },
  removeListener(name, fn) {
    return process.off(name, fn);
  },
  removeAllListeners(name) {
    processEvents.removeAllListeners(name);
    return process;
  },
  emit: (name, ...args) => processEvents.emit(name, ...args),
  listenerCount: (name) => processEvents.listenerCount(name),
};

// Modules a bundle may import by Node's names; the build maps them to these (see src/build/bundle.ts).
const nodeModules = {
  process,
  events: Object.assign(EventEmitter, { EventEmitter, default: EventEmitter, once: eventsOnce }),
  readline: { createInterface: (opts) => new Interface(opts.input ?? opts), Interface },
  fs,
  'fs/promises': fs.promises,
};

function eventsOnce(emitter, name) {
  return new Promise((resolve) => emitter.once(name, (...args) => resolve(args)));
}

// ---------------------------------------------------------------------------------------------
// Errors: SpiderMonkey stacks ("fn@file:line:col") mapped through the bundle's source map back
// to the user's files, printed the way Node prints them.

const WRAPPER = '(async () => {';
let sourceMap;
let entryName = '';

function formatError(e) {
  if (!(e instanceof Error)) {
    let shown;
    try {
      shown = typeof e === 'string' ? e : JSON.stringify(e);
    } catch {
      shown = String(e);
    }
    return `Uncaught ${shown}`;
  }
  const head = `${e.name || 'Error'}: ${e.message}`;
  const frames = [];
  for (const line of String(e.stack || '').split('\n')) {
    const m = /^(.*)@(.*?):(\d+):(\d+)$/.exec(line);
    if (!m || m[2] !== entryName) continue; // runtime frames are not the user's concern
    let lineNo = Number(m[3]);
    let col = Number(m[4]);
    if (lineNo === 1) col = Math.max(1, col - WRAPPER.length);
    const pos = mapPosition(lineNo, col - 1);
    const where = pos ? `${pos.source}:${pos.line}:${pos.column + 1}` : `${entryName}:${lineNo}:${col}`;
    const fn = m[1].replace(/\/<$/, '').replace(/^async\*/, '');
    frames.push(fn && !fn.startsWith('@') ? `    at ${fn} (${where})` : `    at ${where}`);
  }
  const cause = e.cause !== undefined ? `\n  [cause]: ${e.cause instanceof Error ? formatError(e.cause) : String(e.cause)}` : '';
  return [head, ...frames].join('\n') + cause;
}

/**
 * An error the engine raised while loading the bundle (a SyntaxError) has no stack frame of the
 * bundle, only its line and column: made a frame, formatError maps it back to the user's file.
 */
function atLoadPosition(e) {
  if (!(e instanceof Error) || typeof e.lineNumber !== 'number') return e;
  Object.defineProperty(e, 'stack', { value: `@${entryName}:${e.lineNumber}:${Number(e.columnNumber) || 1}\n`, configurable: true, writable: true });
  return e;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeMappings(mappings) {
  const lines = [];
  let src = 0;
  let oLine = 0;
  let oCol = 0;
  for (const lineText of mappings.split(';')) {
    const segs = [];
    let gCol = 0;
    for (const seg of lineText.split(',')) {
      if (!seg) continue;
      const values = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      gCol += values[0];
      if (values.length >= 4) {
        src += values[1];
        oLine += values[2];
        oCol += values[3];
        segs.push([gCol, src, oLine, oCol]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

function mapPosition(line, col) {
  if (!sourceMap) return undefined;
  if (!sourceMap.lines) sourceMap.lines = decodeMappings(sourceMap.mappings || '');
  const segs = sourceMap.lines[line - 1];
  if (!segs || segs.length === 0) return undefined;
  let best = segs[0];
  for (const s of segs) if (s[0] <= col) best = s;
  return { source: sourceMap.sources[best[1]], line: best[2] + 1, column: best[3] };
}

// ---------------------------------------------------------------------------------------------

function install(args, env) {
  process.argv = [args[0] ?? 'fabricks', `/${entryName}`, ...args.slice(1)];
  process.argv0 = process.argv[0];
  process.env = env;
  globalThis.process = process;
  globalThis.fabricks = fabricksApi;
  globalThis.__fabricksNode = nodeModules;
  globalThis.global = globalThis;
  globalThis.setTimeout = (fn, ms, ...a) => new Timeout(false, fn, ms, a);
  globalThis.setInterval = (fn, ms, ...a) => new Timeout(true, fn, ms, a);
  globalThis.setImmediate = (fn, ...a) => new Timeout(false, fn, 0, a);
  globalThis.clearTimeout = clearTimer;
  globalThis.clearInterval = clearTimer;
  globalThis.clearImmediate = clearTimer;
  if (nativeFetch) {
    globalThis.fetch = (input, init) => {
      ref();
      return fetchFollowing(input, init).then(keepAliveWhileRead).finally(unref);
    };
  }
  // the user's fetch listeners are dispatched by this runtime's incoming-handler
  globalThis.addEventListener = (type, listener, options) => {
    if (type === 'fetch') fetchListeners.push(listener);
    else nativeAddEventListener?.(type, listener, options);
  };
}

/**
 * A response's body arrives after fetch resolves: reading it with json(), text()... holds a
 * reference too, or a program waiting on stdin (an MCP server over stdio) would block there and
 * the body would never come.
 */
function keepAliveWhileRead(response) {
  for (const name of ['arrayBuffer', 'blob', 'bytes', 'formData', 'json', 'text']) {
    const read = response[name];
    if (typeof read !== 'function') continue;
    response[name] = (...args) => {
      ref();
      return read.apply(response, args).finally(unref);
    };
  }
  return response;
}

// ---------------------------------------------------------------------------------------------
// Redirects. StarlingMonkey's fetch never follows them (wasi:http leaves that to the caller):
// they are followed here as the Fetch standard says, each hop a request of its own that the host
// judges against [capabilities.network] connect like any other.

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

async function fetchFollowing(input, init) {
  const first = new Request(input, init);
  // StarlingMonkey's Request does not keep the redirect mode: it is read from what was given
  const mode = init?.redirect ?? (input instanceof Request ? input.redirect : undefined) ?? 'follow';
  // a body goes again with a 307 or 308: read once, it can be sent as often as needed
  let body = first.body ? await first.arrayBuffer() : null;
  let url = first.url;
  let method = first.method;
  const headers = new Headers(first.headers);
  for (let hops = 0; ; hops++) {
    let response;
    try {
      response = await nativeFetch(url, { method, headers, body, ...(init?.signal ? { signal: init.signal } : {}) });
    } catch (e) {
      throw deniedError(url) ?? e;
    }
    const location = response.headers.get('location');
    if (mode === 'manual' || !REDIRECT_STATUSES.has(response.status) || location === null) {
      if (hops > 0) {
        Object.defineProperty(response, 'url', { value: url, configurable: true });
        Object.defineProperty(response, 'redirected', { value: true, configurable: true });
      }
      return response;
    }
    await response.body?.cancel().catch(() => undefined);
    if (mode === 'error') throw new TypeError(`fetch failed: ${url} redirects to ${location}, and the request's redirect mode is "error"`);
    if (hops === MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects, the last to ${location}`);
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError(`fetch failed: ${url} redirects to ${next.href}, which is not http(s)`);
    if (response.status === 303 ? method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST') {
      method = 'GET';
      body = null;
      for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
    }
    // credentials meant for one origin do not travel to another
    if (new URL(url).origin !== next.origin) headers.delete('authorization');
    url = next.href;
  }
}

// ---------------------------------------------------------------------------------------------
// Network denials. StarlingMonkey's fetch reports every host error as "an error occurred while
// using the host API"; when the engine refused the connection ([capabilities.network] connect),
// it puts the denial in this instance's environment under `FABRICKS_DENIED host:port`
// (docs/host-protocol.md), and fetch rejects with its message instead (a TypeError, as fetch's
// network errors are).

const DENIED = 'FABRICKS_DENIED ';
const deniedSeen = new Map();

function deniedError(input) {
  let url;
  try {
    url = new URL(input instanceof Request ? input.url : String(input));
  } catch {
    return undefined;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  // an IPv6 address in brackets, as the engine writes it
  const key = `${DENIED}${url.hostname.toLowerCase()}:${port}`;
  const found = getEnvironment().find(([k]) => k === key);
  if (!found) return undefined;
  let denied;
  try {
    denied = JSON.parse(found[1]).denied;
  } catch {
    denied = { message: found[1] };
  }
  // each denial is taken once: an instance serving request after request keeps its environment,
  // and a later failure of a request to the same place is not this denial
  if (typeof denied.seq === 'number') {
    if (denied.seq <= (deniedSeen.get(key) ?? 0)) return undefined;
    deniedSeen.set(key, denied.seq);
  }
  const error = new TypeError(denied.message);
  error.cause = { code: 'EACCES', capability: denied.capability, target: denied.target, rule: denied.rule };
  return error;
}

const withoutDenials = (env) => env.filter(([k]) => !k.startsWith(DENIED));

/** Reads the entrypoint and its source map, installs the environment, and starts the bundle. */
function startMain() {
  entryName = entrypoint();
  const code = read(entryName);
  if (code === undefined || code === null) return undefined;
  const map = read(`${entryName}.map`);
  if (map) {
    try {
      sourceMap = JSON.parse(new TextDecoder().decode(map));
    } catch {
      sourceMap = undefined;
    }
  }
  install(getArguments(), Object.fromEntries(withoutDenials(getEnvironment())));
  // Wrapped in an async function so that top-level await works; the wrapper shares the
  // bundle's first line, so line numbers stay those of the bundle. It may throw synchronously.
  return (0, eval)(`${WRAPPER}${new TextDecoder().decode(code)}\n})()\n//# sourceURL=${entryName}`);
}

export const run = {
  run() {
    return new Promise((resolve) => {
      finishRun = resolve;
      lastWords = globalThis.__fabricksLastWords?.(stderrStream(), OUT_OF_MEMORY_MESSAGE);
      delete globalThis.__fabricksLastWords;
      let main;
      try {
        main = startMain();
      } catch (e) {
        fatal(atLoadPosition(e));
        return;
      }
      if (!main) {
        writeAll(stderrStream(), encoder.encode(`fabricks: the module layer has no entrypoint "${entryName}"\n`));
        exitWith(1);
        return;
      }
      main.then(
        () => {
          mainSettled = true;
          queueCheck();
        },
        (e) => fatal(e),
      );
    });
  },
};

// ---------------------------------------------------------------------------------------------
// Serving: wasi:http/incoming-handler, implemented here over wasi:http/types (StarlingMonkey's
// own fetch event is off: it cannot serve a second request on an instance, upstream #247). One
// instance serves request after request; the user's module loads with the first.

const fetchListeners = [];
const DISPOSE = Symbol.dispose ?? Symbol.for('dispose'); // how componentize-js drops a resource
const drop = (r) => r?.[DISPOSE]?.();
const METHODS = { get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', delete: 'DELETE', connect: 'CONNECT', options: 'OPTIONS', trace: 'TRACE', patch: 'PATCH' };
// A handler that never settles would leave the event loop empty, which aborts the instance; a
// pending timer keeps it alive and answers 504 in the end.
const HANDLER_LIMIT_MS = 300_000;
let loaded;

function loadApp() {
  if (!loaded) {
    let main;
    try {
      main = startMain();
    } catch (e) {
      main = Promise.reject(atLoadPosition(e));
    }
    loaded = main ? main.then(() => globalThis.__fabricksModule?.default) : Promise.reject(new Error(`the module layer has no entrypoint "${entryName}"`));
  }
  return loaded;
}

function readBody(incoming) {
  const body = incoming.consume();
  const stream = body.stream();
  const chunks = [];
  let size = 0;
  for (;;) {
    let chunk;
    try {
      chunk = stream.blockingRead(65536n);
    } catch (e) {
      // an import's error arrives as a ComponentError with the variant in payload
      const err = e?.payload ?? e;
      if (err?.tag === 'closed') break;
      drop(stream);
      throw new Error(`reading the request body failed: ${err?.tag ?? e}`);
    }
    if (chunk.length) {
      chunks.push(chunk);
      size += chunk.length;
    }
  }
  drop(stream); // the child stream before its body
  drop(IncomingBody.finish(body));
  return concatBytes(chunks, size);
}

function toRequest(incoming) {
  const m = incoming.method();
  const method = m.tag === 'other' ? m.val : METHODS[m.tag];
  const fields = incoming.headers();
  const headers = new Headers();
  for (const [k, v] of fields.entries()) headers.append(k, new TextDecoder().decode(v));
  drop(fields);
  const s = incoming.scheme();
  const scheme = !s ? 'http' : s.tag === 'other' ? s.val : s.tag.toLowerCase();
  const authority = incoming.authority() ?? headers.get('host') ?? 'localhost';
  const init = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') init.body = readBody(incoming);
  return new Request(`${scheme}://${authority}${incoming.pathWithQuery() ?? '/'}`, init);
}

async function writeResponse(response, out) {
  const list = [];
  response.headers.forEach((v, k) => {
    if (k !== 'set-cookie') list.push([k, encoder.encode(v)]);
  });
  for (const c of response.headers.getSetCookie?.() ?? []) list.push(['set-cookie', encoder.encode(c)]);
  const res = new OutgoingResponse(Fields.fromList(list));
  res.setStatusCode(response.status);
  const body = res.body();
  ResponseOutparam.set(out, { tag: 'ok', val: res });
  const stream = body.write();
  try {
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (let o = 0; o < value.length; o += 4096) stream.blockingWriteAndFlush(value.subarray(o, o + 4096));
      }
    }
  } finally {
    drop(stream); // the child stream before its body
  }
  OutgoingBody.finish(body, undefined);
}

function dispatchToListeners(request, waitUntil) {
  return new Promise((resolve, reject) => {
    let responded = false;
    const e = {
      type: 'fetch',
      request,
      respondWith(r) {
        if (responded) throw new Error('respondWith() was already called for this request');
        responded = true;
        Promise.resolve(r).then(resolve, reject);
      },
      waitUntil,
    };
    for (const listener of fetchListeners) {
      if (typeof listener === 'function') listener(e);
      else listener.handleEvent(e);
      if (responded) return;
    }
    resolve(new Response('no fetch listener called respondWith()\n', { status: 500 }));
  });
}

async function respond(request, waitUntil) {
  const app = await loadApp();
  const ctx = { waitUntil, passThroughOnException() {} };
  let r;
  if (app && typeof app.fetch === 'function') r = await app.fetch(request, process.env, ctx);
  else if (fetchListeners.length > 0) r = await dispatchToListeners(request, waitUntil);
  else return new Response('the service has no fetch handler: export default { fetch(request) { ... } }, or addEventListener("fetch", ...)\n', { status: 500 });
  if (!(r instanceof Response)) throw new TypeError(`the fetch handler returned ${r === null ? 'null' : typeof r}, not a Response`);
  return r;
}

export const incomingHandler = {
  handle(incoming, out) {
    return (async () => {
      const pending = [];
      const waitUntil = (p) => pending.push(Promise.resolve(p));
      let response;
      let timer;
      try {
        const request = toRequest(incoming);
        drop(incoming);
        const limit = new Promise((resolve) => {
          timer = nativeSetTimeout(() => resolve(new Response('the handler did not answer in time\n', { status: 504 })), HANDLER_LIMIT_MS);
        });
        response = await Promise.race([respond(request, waitUntil), limit]);
      } catch (e) {
        // the service's own error: logged like an uncaught one, answered as 500
        writeAll(stderrStream(), encoder.encode(formatError(e) + '\n'));
        response = new Response('Internal Server Error\n', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      } finally {
        nativeClearTimeout(timer);
      }
      try {
        await writeResponse(response, out);
      } catch (e) {
        writeAll(stderrStream(), encoder.encode(formatError(e) + '\n'));
      }
      await Promise.allSettled(pending);
    })();
  },
};
