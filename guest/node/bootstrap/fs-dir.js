// fs.Dir (opendir): the entries of a folder one at a time, listed when it is opened.

import { Dirent } from './fs-stats.js';

function closedError() {
  const err = new Error('Directory handle was closed');
  err.code = 'ERR_DIR_CLOSED';
  return err;
}

export class Dir {
  #entries;
  #closed = false;
  constructor(path, entries) {
    this.path = path;
    this.#entries = entries;
  }
  readSync() {
    if (this.#closed) throw closedError();
    const e = this.#entries.shift();
    return e ? new Dirent(e.name, e.type, this.path) : null;
  }
  read(cb) {
    return settle(() => this.readSync(), cb);
  }
  closeSync() {
    if (this.#closed) throw closedError();
    this.#closed = true;
  }
  close(cb) {
    return settle(() => this.closeSync(), cb);
  }
  async *entries() {
    try {
      for (let d; (d = this.readSync()); ) yield d;
    } finally {
      if (!this.#closed) this.closeSync();
    }
  }
  [Symbol.asyncIterator]() {
    return this.entries();
  }
}

/** A promise of fn(), or its result handed to a Node callback on a later turn. */
export function settle(fn, cb) {
  if (typeof cb !== 'function') return new Promise((resolve) => resolve(fn()));
  let result;
  let error = null;
  try {
    result = fn();
  } catch (e) {
    error = e;
  }
  globalThis.setImmediate(() => cb(error, result));
  return undefined;
}
