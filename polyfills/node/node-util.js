// node:util for bundles: the `util` package (inspect, format, promisify, inherits, types...),
// plus what it lacks that Node has and the runtime can give.
import util from 'util/util.js';
// Node's own parseArgs, as published by the Node.js tooling group (Node 18.3+ has it in util)
import { parseArgs } from '@pkgjs/parseargs';
// util.types is node:util/types: the package's own throws for the checks it cannot make (isProxy)
import types from './util-types.js';

export { parseArgs };
export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;
export const { format, inspect, inherits, promisify, callbackify, deprecate, debuglog } = util;
export { types };
export const formatWithOptions = (options, ...args) => util.format(...args);
export const stripVTControlCharacters = (s) => String(s).replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
export const toUSVString = (s) => String(s).toWellFormed?.() ?? String(s);
export const aborted = (signal) => new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

export default { ...util, types, TextEncoder, TextDecoder, formatWithOptions, stripVTControlCharacters, toUSVString, aborted, parseArgs };
