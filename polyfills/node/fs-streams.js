// fs.ReadStream and fs.WriteStream as Node writes them (lib/internal/fs/streams.js), on the
// bundle's stream module and the runtime's fs callbacks: opened in _construct ('open', 'ready'),
// `start`/`end` (inclusive) and `highWaterMark`, the fd closed on destroy unless autoClose is false.

const { Readable, Writable, finished } = require('stream');
const { Buffer } = require('buffer');

const fs = globalThis.__fabricksNode.fs;

function optionsOf(options) {
  if (typeof options === 'string') return { encoding: options };
  return options ?? {};
}

function rangeError(name, value, range) {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${value}`);
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** What both streams share: a path or an fd (a number or a FileHandle), opened when constructed. */
function setUp(stream, path, o, flags) {
  const handle = o.fd !== null && typeof o.fd === 'object' ? o.fd : undefined;
  stream.fd = handle ? handle.fd : (o.fd ?? null);
  stream._handle = handle;
  stream.path = stream.fd === null ? (path instanceof URL ? decodeURIComponent(path.pathname) : typeof path === 'string' ? path : String(path)) : undefined;
  stream.flags = o.flags ?? flags;
  stream.mode = o.mode ?? 0o666;
  stream.start = o.start;
  stream.pos = o.start;
  stream.autoClose = o.autoClose ?? true;
  if (o.start !== undefined && (!Number.isInteger(o.start) || o.start < 0)) throw rangeError('start', o.start, '>= 0 and <= 2 ** 53 - 1');
}

function construct(stream, callback) {
  if (stream.fd !== null) return callback();
  fs.open(stream.path, stream.flags, stream.mode, (err, fd) => {
    if (err) return callback(err);
    stream.fd = fd;
    callback();
    stream.emit('open', fd);
    stream.emit('ready');
  });
}

function destroy(stream, err, callback) {
  if (stream.fd === null || !stream.autoClose) return callback(err);
  const done = (er) => callback(er || err);
  if (stream._handle) stream._handle.close().then(() => done(), done);
  else fs.close(stream.fd, done);
  stream.fd = null;
}

function close(stream, cb) {
  if (typeof cb === 'function') finished(stream, cb);
  stream.destroy();
}

class ReadStream extends Readable {
  constructor(path, options) {
    const o = optionsOf(options);
    super({ ...o, highWaterMark: o.highWaterMark ?? 64 * 1024, emitClose: o.emitClose ?? true, autoDestroy: o.autoClose ?? true });
    setUp(this, path, o, 'r');
    this.end = o.end ?? Infinity;
    if (this.end !== Infinity && (!Number.isInteger(this.end) || this.end < 0)) throw rangeError('end', this.end, '>= 0 and <= 2 ** 53 - 1');
    if (this.start !== undefined && this.start > this.end) throw rangeError('start', this.start, `<= "end" (here: ${this.end})`);
    this.bytesRead = 0;
  }
  get pending() {
    return this.fd === null;
  }
  _construct(callback) {
    construct(this, callback);
  }
  _read(n) {
    const want = this.pos !== undefined ? Math.min(this.end - this.pos + 1, n) : Math.min(this.end - this.bytesRead + 1, n);
    if (want <= 0) return void this.push(null);
    fs.read(this.fd, Buffer.allocUnsafeSlow(want), 0, want, this.pos ?? null, (err, bytesRead, buf) => {
      if (err) return void this.destroy(err);
      if (bytesRead === 0) return void this.push(null);
      if (this.pos !== undefined) this.pos += bytesRead;
      this.bytesRead += bytesRead;
      this.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    });
  }
  _destroy(err, callback) {
    destroy(this, err, callback);
  }
  close(cb) {
    close(this, cb);
  }
}

class WriteStream extends Writable {
  constructor(path, options) {
    const o = optionsOf(options);
    super({ ...o, decodeStrings: true, emitClose: o.emitClose ?? true, autoDestroy: o.autoClose ?? true });
    setUp(this, path, o, 'w');
    this.bytesWritten = 0;
    if (o.encoding) this.setDefaultEncoding(o.encoding);
  }
  get pending() {
    return this.fd === null;
  }
  _construct(callback) {
    construct(this, callback);
  }
  _write(data, _encoding, callback) {
    fs.write(this.fd, data, 0, data.length, this.pos ?? null, (err, written) => {
      if (err) return callback(err);
      this.bytesWritten += written;
      callback();
    });
    if (this.pos !== undefined) this.pos += data.length;
  }
  _destroy(err, callback) {
    destroy(this, err, callback);
  }
  close(cb) {
    if (cb) {
      if (this.closed) return void globalThis.process.nextTick(cb);
      this.on('close', cb);
    }
    if (!this.autoClose) this.on('finish', this.destroy);
    this.end();
  }
  destroySoon() {
    this.end();
  }
}

module.exports = { ReadStream, WriteStream };
