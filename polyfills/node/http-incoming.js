// node:http's IncomingMessage: a request a server received, or a response a client received,
// as a Readable of Buffers, with Node's header shapes.

import { Readable } from 'node:stream';
import { Buffer } from 'node:buffer';
import { nodeHeaders } from './http-common.js';

export class IncomingMessage extends Readable {
  constructor(socket) {
    super();
    this.socket = socket ?? null;
    this.httpVersion = '1.1';
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.headers = {};
    this.rawHeaders = [];
    this.trailers = {};
    this.rawTrailers = [];
    this.headersDistinct = {};
    this.trailersDistinct = {};
    this.complete = false;
    this.aborted = false;
    this.upgrade = false;
    this.url = '';
    this.method = null;
    this.statusCode = null;
    this.statusMessage = null;
    this.on('end', () => {
      this.complete = true;
    });
  }

  get connection() {
    return this.socket;
  }

  setHeaders(headers) {
    const { headers: h, rawHeaders } = nodeHeaders(headers);
    this.headers = h;
    this.rawHeaders = rawHeaders;
    for (let i = 0; i < rawHeaders.length; i += 2) (this.headersDistinct[rawHeaders[i]] ??= []).push(rawHeaders[i + 1]);
  }

  /** The body, read from a Web ReadableStream as this stream is read. */
  bodyFrom(stream) {
    this._reader = stream ? stream.getReader() : null;
    return this;
  }

  _read() {
    if (!this._reader) {
      this.push(null);
      return;
    }
    this._reader.read().then(
      ({ done, value }) => {
        if (done) this.push(null);
        else this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      },
      (e) => this.destroy(e),
    );
  }

  _destroy(err, cb) {
    if (!this.readableEnded) this.aborted = true;
    this._reader?.cancel(err ?? undefined).catch(() => undefined);
    cb(err);
  }

  setTimeout(ms, cb) {
    if (cb) this.on('timeout', cb);
    this.socket?.setTimeout?.(ms);
    return this;
  }
}
