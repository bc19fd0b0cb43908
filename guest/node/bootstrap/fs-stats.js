// fs.Stats and fs.Dirent, from wasi:filesystem descriptor stats and types.

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

export class Dirent extends Typed {
  constructor(name, type, parentPath) {
    super(type);
    this.name = name;
    this.parentPath = this.path = parentPath;
  }
}

const toMs = (t) => (t ? Number(t.seconds) * 1000 + Math.floor(t.nanoseconds / 1e6) : 0);

export class Stats extends Typed {
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

export function packedStats(bytes) {
  return new Stats({ type: 'regular-file', size: BigInt(bytes.length), linkCount: 1n });
}
