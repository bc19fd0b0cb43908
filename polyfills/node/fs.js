// node:fs for bundles: the runtime's fs (guest/node/bootstrap/fs.js), which talks to the host,
// with the file streams added here, where the bundle's stream module is (the same Readable and
// Writable the program gets from node:stream). The streams' code runs only when first used.

const fs = globalThis.__fabricksNode.fs;

if (!fs.createReadStream) {
  const streams = () => require('./fs-streams.js');
  fs.createReadStream = (path, options) => new (streams().ReadStream)(path, options);
  fs.createWriteStream = (path, options) => new (streams().WriteStream)(path, options);
  for (const name of ['ReadStream', 'WriteStream']) {
    Object.defineProperty(fs, name, { get: () => streams()[name], enumerable: true, configurable: true });
  }
}

module.exports = fs;
