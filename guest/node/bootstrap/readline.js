// readline: createInterface({ input }) with 'line' / 'close' events and `for await (const line of rl)`.

import { EventEmitter } from './event-emitter.js';

export class Interface extends EventEmitter {
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
