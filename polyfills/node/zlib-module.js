// node:zlib as bundles see it: zlib.js's exports as a CommonJS module, so that a name it lacks
// (Brotli encoding) is `undefined` where it is used, as on a Node built without Brotli, instead
// of failing the build of a program that imports it by name and never calls it.
const zlib = require('./zlib.js');

module.exports = { ...zlib.default };
