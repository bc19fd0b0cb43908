// fs.promises' FileHandle: an fd with promise-returning methods, closed once.

import { Interface } from './readline.js';
import { closeFd, fdStats, onFd, readArgs, readInto, readRest, timestampOf, writeAt } from './fs-fds.js';

const attempt = (fn) => new Promise((resolve) => resolve(fn()));

export class FileHandle {
  #fd;
  #fs;
  constructor(fd, fs) {
    this.#fd = fd;
    this.#fs = fs;
  }
  get fd() {
    return this.#fd;
  }
  #open(syscall) {
    if (this.#fd === -1) {
      const err = new Error('file closed');
      err.code = 'EBADF';
      err.syscall = syscall;
      throw err;
    }
    return this.#fd;
  }
  read(buffer, offset, length, position) {
    return attempt(() => {
      const a = readArgs(buffer, offset, length, position);
      return { bytesRead: readInto(this.#open('read'), a.buffer, a.offset, a.length, a.position), buffer: a.buffer };
    });
  }
  write(data, ...rest) {
    return attempt(() => {
      const fd = this.#open('write');
      return { bytesWritten: this.#fs.writeSync(fd, data, ...rest), buffer: data };
    });
  }
  readFile(options) {
    return attempt(() => this.#fs.decodeAs(readRest(this.#open('read')), options));
  }
  writeFile(data, options) {
    return attempt(() => {
      writeAt(this.#open('write'), this.#fs.encodeAs(data, options), null);
    });
  }
  appendFile(data, options) {
    return this.writeFile(data, options);
  }
  stat(options) {
    return attempt(() => fdStats(this.#open('fstat'), options));
  }
  truncate(len = 0) {
    return attempt(() => onFd(this.#open('ftruncate'), 'ftruncate', (e) => e.fd.setSize(BigInt(len)), true));
  }
  sync() {
    return attempt(() => onFd(this.#open('fsync'), 'fsync', (e) => e.fd.sync()));
  }
  datasync() {
    return attempt(() => onFd(this.#open('fdatasync'), 'fdatasync', (e) => e.fd.syncData()));
  }
  utimes(atime, mtime) {
    return attempt(() => onFd(this.#open('futime'), 'futime', (e) => e.fd.setTimes(timestampOf(atime), timestampOf(mtime)), true));
  }
  chmod(mode) {
    return attempt(() => this.#fs.fchmodSync(this.#open('fchmod'), mode));
  }
  chown(uid, gid) {
    return attempt(() => this.#fs.fchownSync(this.#open('fchown'), uid, gid));
  }
  createReadStream(options) {
    return this.#fs.createReadStream(null, { ...options, fd: this });
  }
  createWriteStream(options) {
    return this.#fs.createWriteStream(null, { ...options, fd: this });
  }
  readLines(options) {
    return new Interface(this.createReadStream(options));
  }
  close() {
    return attempt(() => {
      if (this.#fd === -1) return;
      const fd = this.#fd;
      this.#fd = -1;
      closeFd(fd);
    });
  }
  [Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]() {
    return this.close();
  }
}
