// File descriptors as Node numbers them: a table from numbers to wasi:filesystem descriptors,
// each with the position that read and write without a position use and advance (WASI reads
// and writes only at an offset). Appending writes at the end, as O_APPEND does.

import { close } from './resources.js';
import { concatBytes } from './bytes.js';
import { FOLLOW, NOFOLLOW } from './mounts.js';
import { fromWasi, fsError, inMount, nodeError } from './fs-errors.js';
import { packedBytes } from './packed-files.js';
import { packedStats, statsOf } from './fs-stats.js';

export const O = {
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_NOCTTY: 256, O_TRUNC: 512, O_APPEND: 1024,
  O_DIRECTORY: 65536, O_NOATIME: 262144, O_NOFOLLOW: 131072, O_SYNC: 1052672, O_DSYNC: 4096, O_DIRECT: 16384, O_NONBLOCK: 2048,
  UV_FS_O_FILEMAP: 0, S_IFMT: 61440, S_IFREG: 32768, S_IFDIR: 16384, S_IFCHR: 8192, S_IFBLK: 24576, S_IFIFO: 4096, S_IFLNK: 40960,
  S_IFSOCK: 49152, S_IRWXU: 448, S_IRUSR: 256, S_IWUSR: 128, S_IXUSR: 64, S_IRWXG: 56, S_IRGRP: 32, S_IWGRP: 16, S_IXGRP: 8,
  S_IRWXO: 7, S_IROTH: 4, S_IWOTH: 2, S_IXOTH: 1, F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, UV_FS_SYMLINK_DIR: 1, UV_FS_SYMLINK_JUNCTION: 2,
  UV_FS_COPYFILE_EXCL: 1, COPYFILE_EXCL: 1, UV_FS_COPYFILE_FICLONE: 2, COPYFILE_FICLONE: 2, UV_FS_COPYFILE_FICLONE_FORCE: 4, COPYFILE_FICLONE_FORCE: 4,
};
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC, O_DIRECTORY, O_NOFOLLOW } = O;

// Node's flag strings (lib/internal/fs/utils.js stringToFlags)
const FLAGS = {
  r: O_RDONLY, rs: O_RDONLY | O_SYNC, sr: O_RDONLY | O_SYNC, 'r+': O_RDWR, 'rs+': O_RDWR | O_SYNC, 'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY, wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL, xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR, 'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL, 'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY, ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL, xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC, sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR, 'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL, 'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC, 'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

export function flagsOf(flags, fallback = 'r') {
  if (flags === undefined || flags === null) return FLAGS[fallback];
  if (typeof flags === 'number') return flags;
  const n = FLAGS[flags];
  if (n === undefined) {
    const err = new TypeError(`The argument 'flags' is invalid. Received '${flags}'`);
    err.code = 'ERR_INVALID_ARG_VALUE';
    throw err;
  }
  return n;
}

/** Whether flags (a string or a number) change the file, so a read-only mount refuses them. */
export const writes = (flags) => (flagsOf(flags) & 3) !== O_RDONLY || Boolean(flagsOf(flags) & (O_CREAT | O_TRUNC | O_APPEND));

const table = new Map(); // fd number -> { fd, path, mount, position, append }
let nextFd = 3; // 0-2 are stdio

/** Opens a path in a granted folder with Node's flags; returns the new fd number. */
export function openFd(path, flags, syscall = 'open') {
  const n = flagsOf(flags);
  const access = n & 3;
  const packed = packedBytes(path);
  if (packed) {
    // the module layer is read-only: an fd on a packed file reads from its bytes
    if (writes(n)) throw fsError('EROFS', 'the files packed into the module layer are read-only; write to a folder mounted with mode = "rw"', syscall, String(path));
    return remember({ packed, path: String(path), position: 0n, append: false, writable: false, readable: true });
  }
  const entry = inMount(syscall, path, (m) => {
    const fd = m.dir.openAt(n & O_NOFOLLOW ? NOFOLLOW : FOLLOW, m.rel,
      { create: Boolean(n & O_CREAT), exclusive: Boolean(n & O_EXCL), truncate: Boolean(n & O_TRUNC), directory: Boolean(n & O_DIRECTORY) },
      { read: access !== O_WRONLY, write: access !== O_RDONLY });
    return { fd, path: String(path), mount: m, position: 0n, append: Boolean(n & O_APPEND), writable: access !== O_RDONLY, readable: access !== O_WRONLY };
  }, writes(n));
  return remember(entry);
}

function remember(entry) {
  const num = nextFd++;
  table.set(num, entry);
  return num;
}

/** fstat: the descriptor's, or a packed file's. */
export function fdStats(fd, options) {
  return onFd(fd, 'fstat', (e) => (e.packed ? packedStats(e.packed, options) : statsOf(e.fd.stat(), options, e.fd.metadataHash().lower)));
}

/** The open file an fd number names, or EBADF for `syscall`. */
export function entryOf(fd, syscall) {
  if (typeof fd !== 'number' || !Number.isInteger(fd)) {
    const err = new TypeError(`The "fd" argument must be of type number. Received ${fd === null ? 'null' : typeof fd}`);
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  const entry = table.get(fd);
  if (!entry) throw nodeError('EBADF', syscall);
  return entry;
}

/** Runs one descriptor call, its errors in Node's terms without a path (as Node gives them for fds). */
export function onFd(fd, syscall, fn, changes = false) {
  const entry = entryOf(fd, syscall);
  // a packed file's fd only reads: nothing to change, nothing to sync
  if (entry.packed && syscall !== 'read' && syscall !== 'fstat') {
    if (changes) throw nodeError('EBADF', syscall);
    return undefined;
  }
  try {
    return fn(entry);
  } catch (e) {
    throw fromWasi(e, syscall, undefined, entry.mount, changes);
  }
}

export function closeFd(fd) {
  const entry = entryOf(fd, 'close');
  table.delete(fd);
  close(entry.fd);
}

const hasPosition = (p) => (typeof p === 'number' && p >= 0) || typeof p === 'bigint';

/** Reads up to `length` bytes into `buffer` at `offset`; at `position`, or at the fd's own and advancing it. */
export function readInto(fd, buffer, offset, length, position) {
  return onFd(fd, 'read', (e) => {
    if (!e.readable) throw nodeError('EBADF', 'read');
    if (length === 0) return 0;
    const at = hasPosition(position) ? BigInt(position) : e.position;
    let bytes;
    try {
      [bytes] = e.packed ? [e.packed.subarray(Math.min(Number(at), e.packed.length), Math.min(Number(at) + length, e.packed.length))] : e.fd.read(BigInt(length), at);
    } catch (err) {
      // WASI opens a folder for reading and then refuses the read; Linux says EISDIR
      if (e.fd.getType() === 'directory') throw nodeError('EISDIR', 'read');
      throw err;
    }
    new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).set(bytes, offset);
    if (!hasPosition(position)) e.position = at + BigInt(bytes.length);
    return bytes.length;
  });
}

/** Writes all of `bytes`; at `position`, else at the fd's own (the end when appending), advancing it. */
export function writeAt(fd, bytes, position) {
  return onFd(fd, 'write', (e) => {
    // an fd opened only for reading (on a read-only mount as on any other) refuses writes as Linux does
    if (!e.writable) throw nodeError('EBADF', 'write');
    const explicit = hasPosition(position) && !e.append;
    let off = explicit ? BigInt(position) : e.append ? e.fd.stat().size : e.position;
    for (let i = 0; i < bytes.length; ) {
      const n = Number(e.fd.write(bytes.subarray(i, i + (1 << 20)), off));
      i += n;
      off += BigInt(n);
    }
    if (!explicit) e.position = off;
    return bytes.length;
  }, true);
}

/** The rest of an fd from its position, advancing it (readFile on an fd), a mebibyte per host call. */
export function readRest(fd) {
  return onFd(fd, 'read', (e) => {
    if (!e.readable) throw nodeError('EBADF', 'read');
    if (e.packed) {
      const rest = e.packed.subarray(Math.min(Number(e.position), e.packed.length));
      e.position += BigInt(rest.length);
      return rest;
    }
    const parts = [];
    let total = 0;
    for (;;) {
      let bytes;
      let eof;
      try {
        [bytes, eof] = e.fd.read(BigInt(1 << 20), e.position);
      } catch (err) {
        if (e.fd.getType() === 'directory') throw nodeError('EISDIR', 'read');
        throw err;
      }
      parts.push(bytes);
      total += bytes.length;
      e.position += BigInt(bytes.length);
      if (eof || bytes.length === 0) break;
    }
    return parts.length === 1 ? parts[0] : concatBytes(parts, total);
  });
}

/** A time as Node's utimes takes it (seconds, a numeric string or a Date) as a wasi:filesystem new-timestamp. */
export function timestampOf(time) {
  let t;
  if (typeof time === 'string' && +time == time) t = +time; // eslint-disable-line eqeqeq
  else if (typeof time === 'number' && Number.isFinite(time)) t = time < 0 ? Date.now() / 1000 : time;
  else if (time instanceof Date) t = time.getTime() / 1000;
  else if (typeof time === 'bigint') t = Number(time);
  else {
    const err = new TypeError(`The "time" argument must be of type number, string or Date. Received ${typeof time}`);
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  const seconds = Math.floor(t);
  return { tag: 'timestamp', val: { seconds: BigInt(seconds), nanoseconds: Math.min(999999999, Math.round((t - seconds) * 1e9)) } };
}

const isView = (b) => ArrayBuffer.isView(b);
const newBuffer = (n) => (typeof globalThis.Buffer?.alloc === 'function' ? globalThis.Buffer.alloc(n) : new Uint8Array(n));

/** read's arguments as Node takes them: (buffer, offset, length, position), (buffer, options) or (options). */
export function readArgs(buffer, offset, length, position) {
  let o;
  if (!isView(buffer)) o = { ...(buffer ?? {}) };
  else if (offset !== null && typeof offset === 'object') o = { ...offset, buffer };
  else o = { buffer, offset, length, position };
  const buf = o.buffer ?? newBuffer(16384);
  const off = o.offset ?? 0;
  return { buffer: buf, offset: off, length: o.length ?? buf.byteLength - off, position: o.position ?? null };
}

/** write's arguments as Node takes them: (buffer, offset, length, position), (buffer, options) or (string, position, encoding). */
export function writeArgs(data, a, b, c, encode) {
  if (typeof data === 'string') return { bytes: encode(data, typeof b === 'string' ? b : 'utf8'), position: typeof a === 'number' || typeof a === 'bigint' ? a : null };
  if (!isView(data)) {
    const err = new TypeError('The "buffer" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const o = a !== null && typeof a === 'object' ? a : { offset: a, length: b, position: c };
  const off = o.offset ?? 0;
  return { bytes: bytes.subarray(off, off + (o.length ?? bytes.length - off)), position: o.position ?? null };
}
