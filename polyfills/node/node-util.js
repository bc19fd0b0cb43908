// node:util for bundles: the `util` package (inspect, format, promisify, inherits, types...),
// plus what it lacks that Node has and the runtime can give.
import util from 'util/util.js';
// Node's own parseArgs, as published by the Node.js tooling group (Node 18.3+ has it in util)
import { parseArgs } from '@pkgjs/parseargs';

export { parseArgs };
export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;
export const { format, inspect, inherits, promisify, callbackify, deprecate, debuglog, types } = util;
export const formatWithOptions = (options, ...args) => util.format(...args);
export const stripVTControlCharacters = (s) => String(s).replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
export const toUSVString = (s) => String(s).toWellFormed?.() ?? String(s);
export const aborted = (signal) => new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

export default { ...util, TextEncoder, TextDecoder, formatWithOptions, stripVTControlCharacters, toUSVString, aborted, parseArgs };
