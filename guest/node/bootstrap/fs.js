// fs: the packed files (read-only, by relative path as before) and the folders the service is
// granted ([capabilities.filesystem] mounts), which the host preopens at their guest paths.
// Every call starts from the mount's preopened folder, so what the host allows is all there is;
// the host refuses `..` past a mount, links that lead out and writes to a read-only mount, and
// the errors here only say so in Node's terms, naming the capability to add.

import { chunkOf, concatBytes, decodeText, toBytes } from './bytes.js';
import { close } from './resources.js';
import { absolute, findMount, FOLLOW, mountWritable, NOFOLLOW, pathString } from './mounts.js';
import { CONFIG, fromWasi, fsError, inMount, notGranted } from './fs-errors.js';
import { Dirent, packedStats, Stats } from './fs-stats.js';
import { packedBytes } from './packed-files.js';
import { process } from './process.js';

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

export const fs = {
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
