// fs: the packed files (read-only, by relative path as before) and the folders the service is
// granted ([capabilities.filesystem] mounts), which the host preopens at their guest paths.
// Every call starts from the mount's preopened folder, so what the host allows is all there is;
// the host refuses `..` past a mount, links that lead out and writes to a read-only mount, and
// the errors here only say so in Node's terms, naming the capability to add.
//
// The calls are written once, synchronously (WASI's are); fs-forms.js makes the callback and
// promise forms of each. Streams are added by the bundle's fs module (polyfills/node/fs.js),
// which has the stream module.

import { chunkOf, decodeText, toBytes } from './bytes.js';
import { absolute, findMount, FOLLOW, mountWritable, NOFOLLOW, pathString } from './mounts.js';
import { asCall, CONFIG, fromWasi, fsError, inMount, nodeError, notGranted, refusedWatch } from './fs-errors.js';
import { Dirent, packedStats, Stats, BigIntStats, statsOf } from './fs-stats.js';
import { closeFd, entryOf, fdStats, O, onFd, openFd, readArgs, readInto, readRest, timestampOf, writeArgs, writeAt } from './fs-fds.js';
import { copyTree, listDir, makeTemp, readdirIn, rmPath, walkFolder } from './fs-tree.js';
import { isPackedFolder, packedFolder } from './fs-packed.js';
import { realpath } from './fs-realpath.js';
import { Dir } from './fs-dir.js';
import { FileHandle } from './fs-handle.js';
import { callbackForms, promiseForms } from './fs-forms.js';
import { packedBytes } from './packed-files.js';
import { process } from './process.js';

const encodingOf = (options) => (typeof options === 'string' ? options : options?.encoding);
const isUtf8 = (enc) => /^utf-?8$/i.test(enc);

/** Bytes as text in `encoding` (any Buffer knows when the bundle has Buffer), or as a Buffer. */
function decodeAs(bytes, options) {
  const enc = encodingOf(options);
  if (!enc || enc === 'buffer') return chunkOf(bytes);
  if (isUtf8(enc) || typeof globalThis.Buffer?.from !== 'function') return decodeText(bytes, enc);
  return chunkOf(bytes).toString(enc);
}

function encodeAs(data, options) {
  const enc = encodingOf(options);
  if (typeof data !== 'string') return toBytes(data);
  if (!enc || isUtf8(enc) || typeof globalThis.Buffer?.from !== 'function') return toBytes(data, enc);
  const b = globalThis.Buffer.from(data, enc);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const ino = (dir, flags, rel) => {
  try {
    return dir.metadataHashAt(flags, rel).lower;
  } catch {
    return 0n;
  }
};

/** stat and lstat: a packed file, else a path in a granted folder (following links or not). */
function statOf(op, flags, path, options) {
  try {
    const packed = packedBytes(path);
    if (packed) return packedStats(packed, options);
    if (isPackedFolder(path)) return statsOf({ type: 'directory', size: 4096n, linkCount: 1n }, options);
    return inMount(op, path, (m) => statsOf(m.dir.statAt(flags, m.rel), options, ino(m.dir, flags, m.rel)));
  } catch (e) {
    if (options?.throwIfNoEntry === false && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A read-only mount refuses a change even where WASI has nothing to change (chmod, chown). */
function refuseOnReadOnly(syscall, path) {
  const p = pathString(path);
  const m = findMount(absolute(p));
  if (!m) throw notGranted(syscall, p);
  if (!mountWritable(m)) throw fsError('EROFS', `the folder ${m.guest} is granted read-only; to write to it, set mode = "rw" for it in ${CONFIG}`, syscall, p);
}

function validMode(mode) {
  const n = typeof mode === 'string' ? parseInt(mode, 8) : mode;
  if (!Number.isInteger(n) || n < 0 || n > 0o7777) {
    const err = new RangeError(`The value of "mode" is out of range. It must be an integer >= 0 && <= 4294967295. Received ${mode}`);
    err.code = 'ERR_OUT_OF_RANGE';
    throw err;
  }
}

const readFd = (path) => typeof path === 'number';

export const fs = {
  openSync(path, flags, _mode) {
    return openFd(pathString(path), flags);
  },
  closeSync(fd) {
    closeFd(fd);
  },
  readSync(fd, buffer, offset, length, position) {
    const a = readArgs(buffer, offset, length, position);
    return readInto(fd, a.buffer, a.offset, a.length, a.position);
  },
  writeSync(fd, data, a, b, c) {
    const w = writeArgs(data, a, b, c, (s, enc) => encodeAs(s, enc));
    if (fd === 1 || fd === 2) {
      (fd === 1 ? process.stdout : process.stderr).write(w.bytes);
      return w.bytes.length;
    }
    return writeAt(fd, w.bytes, w.position);
  },
  fstatSync(fd, options) {
    return fdStats(fd, options);
  },
  ftruncateSync(fd, len = 0) {
    onFd(fd, 'ftruncate', (e) => e.fd.setSize(BigInt(len)), true);
  },
  fsyncSync(fd) {
    onFd(fd, 'fsync', (e) => e.fd.sync());
  },
  fdatasyncSync(fd) {
    onFd(fd, 'fdatasync', (e) => e.fd.syncData());
  },
  futimesSync(fd, atime, mtime) {
    onFd(fd, 'futime', (e) => e.fd.setTimes(timestampOf(atime), timestampOf(mtime)), true);
  },
  fchmodSync(fd, mode) {
    validMode(mode);
    const e = entryOf(fd, 'fchmod');
    if (!mountWritable(e.mount)) throw nodeError('EROFS', 'fchmod');
  },
  fchownSync(fd) {
    const e = entryOf(fd, 'fchown');
    if (!mountWritable(e.mount)) throw nodeError('EROFS', 'fchown');
  },
  readFileSync(path, options) {
    if (readFd(path)) return decodeAs(readRest(path), options);
    const packed = packedBytes(path);
    if (packed) return decodeAs(packed, options);
    const fd = openFd(pathString(path), options?.flag ?? 'r');
    try {
      return decodeAs(readRest(fd), options);
    } finally {
      closeFd(fd);
    }
  },
  writeFileSync(path, data, options) {
    const bytes = encodeAs(data, options);
    if (readFd(path)) return void writeAt(path, bytes, null);
    const fd = openFd(pathString(path), options?.flag ?? 'w');
    try {
      writeAt(fd, bytes, null);
    } finally {
      closeFd(fd);
    }
  },
  appendFileSync(path, data, options) {
    const o = typeof options === 'string' ? { encoding: options } : options;
    fs.writeFileSync(path, data, { ...o, flag: o?.flag ?? 'a' });
  },
  existsSync(path) {
    try {
      fs.accessSync(path);
      return true;
    } catch {
      return false;
    }
  },
  accessSync(path, mode = O.F_OK) {
    const p = pathString(path);
    if (packedBytes(p) || isPackedFolder(p)) {
      if (mode & O.W_OK) throw fsError('EROFS', 'the module layer is read-only; write to a folder mounted with mode = "rw"', 'access', p);
      return;
    }
    inMount('access', p, (m) => m.dir.statAt(FOLLOW, m.rel));
    if (mode & O.W_OK) refuseOnReadOnly('access', p);
  },
  statSync(path, options) {
    return statOf('stat', FOLLOW, path, options);
  },
  lstatSync(path, options) {
    return statOf('lstat', NOFOLLOW, path, options);
  },
  readdirSync(path, options) {
    const p = pathString(path);
    const o = typeof options === 'string' ? { encoding: options } : options;
    if (isPackedFolder(p)) {
      const top = p.replace(/\/+$/, '') || '/';
      return walkFolder(top, { entries: (rel) => packedFolder(rel === '.' ? p : `${p}/${rel}`) ?? [], isFolder: () => false }, o);
    }
    return readdirIn(p, o);
  },
  opendirSync(path) {
    const p = pathString(path);
    return new Dir(p, packedFolder(p) ?? inMount('opendir', p, (m) => listDir(m)));
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
  mkdtempSync(prefix) {
    return makeTemp(pathString(prefix));
  },
  unlinkSync(path) {
    inMount('unlink', path, (m) => m.dir.unlinkFileAt(m.rel));
  },
  rmdirSync(path, options) {
    if (options?.recursive) return fs.rmSync(path, { recursive: true });
    inMount('rmdir', path, (m) => m.dir.removeDirectoryAt(m.rel));
  },
  rmSync(path, options) {
    rmPath(pathString(path), options);
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
  copyFileSync(from, to, mode = 0) {
    const src = pathString(from);
    const dest = pathString(to);
    let bytes;
    try {
      bytes = fs.readFileSync(src);
    } catch (e) {
      throw asCall(e, 'copyfile', src, dest);
    }
    try {
      fs.writeFileSync(dest, bytes, { flag: mode & O.COPYFILE_EXCL ? 'wx' : 'w' });
    } catch (e) {
      throw asCall(e, 'copyfile', src, dest);
    }
  },
  cpSync(from, to, options) {
    copyTree(fs, pathString(from), pathString(to), options);
  },
  symlinkSync(target, path) {
    const t = pathString(target);
    const p = pathString(path);
    try {
      inMount('symlink', p, (m) => m.dir.symlinkAt(t, m.rel));
    } catch (e) {
      throw asCall(e, 'symlink', t, p);
    }
  },
  linkSync(existing, path) {
    const src = pathString(existing);
    const dest = pathString(path);
    const from = findMount(absolute(src));
    const to = findMount(absolute(dest));
    if (!from) throw notGranted('link', src, src, dest);
    if (!to) throw notGranted('link', src, dest, dest);
    try {
      from.dir.linkAt(NOFOLLOW, from.rel, to.dir, to.rel);
    } catch (e) {
      throw fromWasi(e, 'link', src, from, true, { path: dest, mount: to });
    }
  },
  readlinkSync(path) {
    return inMount('readlink', path, (m) => m.dir.readlinkAt(m.rel));
  },
  realpathSync(path) {
    return realpath(path, false);
  },
  truncateSync(path, len = 0) {
    if (readFd(path)) return fs.ftruncateSync(path, len);
    const fd = openFd(pathString(path), 'r+');
    try {
      fs.ftruncateSync(fd, len);
    } finally {
      closeFd(fd);
    }
  },
  utimesSync(path, atime, mtime) {
    inMount('utime', path, (m) => m.dir.setTimesAt(FOLLOW, m.rel, timestampOf(atime), timestampOf(mtime)));
  },
  lutimesSync(path, atime, mtime) {
    inMount('lutime', path, (m) => m.dir.setTimesAt(NOFOLLOW, m.rel, timestampOf(atime), timestampOf(mtime)), true);
  },
  // WASI has no permission bits or owners: these check the path and the mount's mode, and change nothing
  chmodSync(path, mode) {
    validMode(mode);
    inMount('chmod', path, (m) => m.dir.statAt(FOLLOW, m.rel));
    refuseOnReadOnly('chmod', path);
  },
  chownSync(path) {
    inMount('chown', path, (m) => m.dir.statAt(FOLLOW, m.rel));
    refuseOnReadOnly('chown', path);
  },
  lchownSync(path) {
    inMount('lchown', path, (m) => m.dir.statAt(NOFOLLOW, m.rel));
    refuseOnReadOnly('lchown', path);
  },
  watch() {
    throw refusedWatch('watch');
  },
  watchFile() {
    throw refusedWatch('watchFile');
  },
  // nothing is ever watched
  unwatchFile() {},
  Stats,
  BigIntStats,
  Dirent,
  Dir,
  constants: O,
  F_OK: O.F_OK,
  R_OK: O.R_OK,
  W_OK: O.W_OK,
  X_OK: O.X_OK,
  // for FileHandle and the bundle's fs module (streams)
  decodeAs,
  encodeAs,
};
fs.realpathSync.native = (path) => realpath(path, true);

callbackForms(fs);
fs.promises = promiseForms(fs, (fd) => new FileHandle(fd, fs));
