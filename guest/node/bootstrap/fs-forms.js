// The callback and promise forms of fs, made from its synchronous calls: a callback is called
// on a later turn with (error, result), a promise settles with the result; neither form throws
// for what the call itself refuses.

import { readArgs, readInto } from './fs-fds.js';
import { refusedWatch } from './fs-errors.js';

const CALLBACKS = [
  'access', 'appendFile', 'chmod', 'chown', 'close', 'copyFile', 'cp', 'fchmod', 'fchown', 'fdatasync', 'fstat', 'fsync',
  'ftruncate', 'futimes', 'lchown', 'link', 'lstat', 'lutimes', 'mkdir', 'mkdtemp', 'open', 'opendir', 'readdir', 'readFile',
  'readlink', 'realpath', 'rename', 'rm', 'rmdir', 'stat', 'symlink', 'truncate', 'unlink', 'utimes', 'writeFile',
];

const PROMISES = [
  'access', 'appendFile', 'chmod', 'chown', 'copyFile', 'cp', 'lchown', 'link', 'lstat', 'lutimes', 'mkdir', 'mkdtemp', 'opendir',
  'readdir', 'readFile', 'readlink', 'rename', 'rm', 'rmdir', 'stat', 'symlink', 'truncate', 'unlink', 'utimes', 'writeFile',
];

function needCallback(cb) {
  if (typeof cb === 'function') return cb;
  const err = new TypeError(`The "cb" argument must be of type function. Received ${cb === undefined ? 'undefined' : typeof cb}`);
  err.code = 'ERR_INVALID_ARG_TYPE';
  throw err;
}

/** Calls cb(error, ...results) on a later turn, as Node calls fs callbacks. */
function later(cb, fn) {
  let results;
  let error = null;
  try {
    results = fn();
  } catch (e) {
    error = e;
  }
  // a call with no result calls back with the error alone, as Node's do
  globalThis.setImmediate(() => (error ? cb(error) : results.length === 1 && results[0] === undefined ? cb(null) : cb(null, ...results)));
}

/** The arguments and the callback, which is the last argument (a call without one left it out). */
const split = (args) => (typeof args[args.length - 1] === 'function' ? [args.slice(0, -1), args[args.length - 1]] : [args, needCallback(undefined)]);

export function callbackForms(fs) {
  for (const name of CALLBACKS) {
    const sync = fs[`${name}Sync`];
    fs[name] = (...args) => {
      const [rest, cb] = split(args);
      later(cb, () => [sync(...rest)]);
    };
  }
  fs.realpath.native = (...args) => {
    const [rest, cb] = split(args);
    later(cb, () => [fs.realpathSync.native(...rest)]);
  };
  fs.read = (fd, ...args) => {
    const [rest, cb] = split(args);
    later(cb, () => {
      const a = readArgs(...rest);
      return [readInto(fd, a.buffer, a.offset, a.length, a.position), a.buffer];
    });
  };
  fs.write = (fd, data, ...args) => {
    const [rest, cb] = split(args);
    later(cb, () => [fs.writeSync(fd, data, ...rest), data]);
  };
  // exists' callback takes only a boolean (Node keeps it so)
  fs.exists = (path, cb) => {
    const there = fs.existsSync(path);
    globalThis.setImmediate(() => needCallback(cb)(there));
  };
}

const attempt = (fn) => new Promise((resolve) => resolve(fn()));

/** fs.promises: `handleOf(fd)` makes the FileHandle that open resolves to. */
export function promiseForms(fs, handleOf) {
  const promises = Object.fromEntries(PROMISES.map((name) => [name, (...args) => attempt(() => fs[`${name}Sync`](...args))]));
  const isHandle = (p) => p !== null && typeof p === 'object' && typeof p.fd === 'number' && typeof p.readFile === 'function';
  promises.readFile = (path, options) => (isHandle(path) ? path.readFile(options) : attempt(() => fs.readFileSync(path, options)));
  promises.writeFile = (path, data, options) => (isHandle(path) ? path.writeFile(data, options) : attempt(() => fs.writeFileSync(path, data, options)));
  promises.appendFile = (path, data, options) => (isHandle(path) ? path.appendFile(data, options) : attempt(() => fs.appendFileSync(path, data, options)));
  promises.realpath = (path) => attempt(() => fs.realpathSync.native(path));
  promises.open = (path, flags, mode) => attempt(() => handleOf(fs.openSync(path, flags, mode)));
  promises.watch = async function* watch() {
    throw refusedWatch('promises.watch');
  };
  promises.constants = fs.constants;
  return promises;
}
