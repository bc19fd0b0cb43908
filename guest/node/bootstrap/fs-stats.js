// fs.Stats, fs.BigIntStats and fs.Dirent, from wasi:filesystem descriptor stats and types.
// WASI has no owners or permission bits: uid and gid are 0, and the mode is what a file made
// under the usual umask (022) has, by kind.

/** What fs.Dirent and fs.Stats share: the kind of entry, from a wasi:filesystem descriptor type. */
class Typed {
  constructor(type) {
    Object.defineProperty(this, '_type', { value: type, enumerable: false });
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
  isBlockDevice() {
    return this._type === 'block-device';
  }
  isCharacterDevice() {
    return this._type === 'character-device';
  }
  isFIFO() {
    return this._type === 'fifo';
  }
  isSocket() {
    return this._type === 'socket';
  }
}

export class Dirent extends Typed {
  constructor(name, type, parentPath) {
    super(type);
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
  }
}

const MODES = { directory: 0o40755, 'symbolic-link': 0o120777, 'regular-file': 0o100644, fifo: 0o10644, socket: 0o140755, 'character-device': 0o20644, 'block-device': 0o60644 };
const nanos = (t) => (t ? t.seconds * 1000000000n + BigInt(t.nanoseconds) : 0n);
const BLOCK = 4096n;

/** The fields Node's Stats has, as bigints, from a descriptor-stat (and the entry's hash as its inode). */
function fields(s, ino) {
  const size = BigInt(s.size ?? 0n);
  return {
    dev: 0n, mode: BigInt(MODES[s.type] ?? 0o100644), nlink: BigInt(s.linkCount ?? 1n), uid: 0n, gid: 0n, rdev: 0n,
    blksize: BLOCK, ino: BigInt.asUintN(53, ino ?? 0n), size, blocks: ((size + BLOCK - 1n) / BLOCK) * (BLOCK / 512n),
    atimeNs: nanos(s.dataAccessTimestamp), mtimeNs: nanos(s.dataModificationTimestamp), ctimeNs: nanos(s.statusChangeTimestamp),
  };
}

export class Stats extends Typed {
  constructor(s, ino) {
    super(s.type);
    const f = fields(s, ino);
    for (const k of ['dev', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'blksize', 'ino', 'size', 'blocks']) this[k] = Number(f[k]);
    const ms = (ns) => Number(ns / 1000n) / 1000;
    this.atimeMs = ms(f.atimeNs);
    this.mtimeMs = ms(f.mtimeNs);
    this.ctimeMs = ms(f.ctimeNs);
    // WASI has no birth time; the change time is the nearest
    this.birthtimeMs = this.ctimeMs;
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = new Date(this.birthtimeMs);
  }
}

export class BigIntStats extends Typed {
  constructor(s, ino) {
    super(s.type);
    const f = fields(s, ino);
    for (const k of ['dev', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'blksize', 'ino', 'size', 'blocks']) this[k] = f[k];
    this.atimeMs = f.atimeNs / 1000000n;
    this.mtimeMs = f.mtimeNs / 1000000n;
    this.ctimeMs = f.ctimeNs / 1000000n;
    this.birthtimeMs = this.ctimeMs;
    this.atimeNs = f.atimeNs;
    this.mtimeNs = f.mtimeNs;
    this.ctimeNs = f.ctimeNs;
    this.birthtimeNs = f.ctimeNs;
    this.atime = new Date(Number(this.atimeMs));
    this.mtime = new Date(Number(this.mtimeMs));
    this.ctime = new Date(Number(this.ctimeMs));
    this.birthtime = new Date(Number(this.birthtimeMs));
  }
}

/** Stats or BigIntStats, as `options.bigint` asks. */
export function statsOf(s, options, ino) {
  return options?.bigint ? new BigIntStats(s, ino) : new Stats(s, ino);
}

export function packedStats(bytes, options) {
  return statsOf({ type: 'regular-file', size: BigInt(bytes.length), linkCount: 1n }, options);
}
