// node:buffer for bundles: the `buffer` package (Node's Buffer API over Uint8Array), also made
// global so that the runtime hands stdin chunks and file contents out as Buffers, as Node does.
const buffer = require('buffer/index.js');

if (!globalThis.Buffer) globalThis.Buffer = buffer.Buffer;
module.exports = buffer;
