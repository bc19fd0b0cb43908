// node:module for bundles: createRequire, builtinModules, isBuiltin. The bundle holds the
// program's modules; a require made by createRequire loads at run time what the build packed
// beside it (JSON files, package.json of every bundled package, CommonJS files), read through
// the runtime's `fabricks` global, the way Node's CommonJS loader would find them. Built-ins it
// gives are the runtime's own (fs, process, events, readline) and path.
import path from 'path-browserify';
import { builtinModules, prefixOnly } from './builtin-names.js';

function dirname(path) {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function normalize(path) {
  const out = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

const join = (...parts) => normalize(parts.join('/'));

export function isBuiltin(id) {
  const s = String(id);
  const name = s.replace(/^node:/, '');
  return builtinModules.includes(name) || (s.startsWith('node:') && prefixOnly.includes(name));
}

const packed = () => globalThis.fabricks;
const isFile = (path) => packed().exists(path);

function exportTarget(e) {
  if (typeof e === 'string') return e;
  if (Array.isArray(e)) return exportTarget(e[0]);
  if (e && typeof e === 'object') {
    if ('.' in e) return exportTarget(e['.']);
    for (const k of ['require', 'node', 'default']) if (k in e) return exportTarget(e[k]);
  }
  return undefined;
}

function asFile(path) {
  for (const ext of ['', '.js', '.json', '.cjs']) if (isFile(path + ext)) return path + ext;
  return undefined;
}

function asFolder(path, exportsToo) {
  if (isFile(`${path}/package.json`)) {
    const pkg = JSON.parse(packed().readText(`${path}/package.json`));
    const main = (exportsToo && exportTarget(pkg.exports)) || pkg.main;
    if (typeof main === 'string') {
      const found = asFile(join(path, main)) ?? asFile(join(path, main, 'index'));
      if (found) return found;
    }
  }
  return asFile(`${path}/index`);
}

function resolveFrom(dir, id) {
  if (/^\.\.?(\/|$)|^\//.test(id)) {
    const path = id.startsWith('/') ? normalize(id) : join(dir, id);
    return asFile(path) ?? asFolder(path, false);
  }
  const parts = id.split('/');
  const nameLength = id.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const sub = parts.slice(nameLength).join('/');
  for (let d = dir; ; d = dirname(d)) {
    if (!d.endsWith('/node_modules')) {
      const root = join(d, 'node_modules', name);
      const found = sub ? (asFile(join(root, sub)) ?? asFolder(join(root, sub), false)) : asFolder(root, true);
      if (found) return found;
    }
    if (d === '/') return undefined;
  }
}

function notFound(id, from) {
  const err = new Error(
    `Cannot find module '${id}'\nRequire stack:\n- ${from}\n(fabricks: require() at run time reads the files packed into the module layer: the project's files, each bundled package's package.json, and files a module names by a literal path; import the module instead, so the build bundles it)`,
  );
  err.code = 'MODULE_NOT_FOUND';
  err.requireStack = [from];
  return err;
}

// what a CommonJS file loaded at run time gets for require('path') (small, and asked for everywhere)
const BUNDLED = { path, 'path/posix': path };

// built-ins a module requires through createRequire by a literal name (`require("buffer")`, as
// bundles made by Bun or esbuild's createRequire banner do): the build bundles them and registers
// each here (src/runtimes/node/module-meta.ts), to be evaluated when first required
const registered = Object.create(null);

/** For the build's registrations only (not part of Node's node:module). */
export function __fabricksRegister(name, load) {
  registered[name] ??= load;
}

function builtin(name) {
  if (name === 'module') return Module;
  const served = globalThis.__fabricksNode?.[name] ?? BUNDLED[name] ?? registered[name]?.();
  if (served) return served;
  const err = new Error(`node:${name} cannot be loaded with require() at run time inside a fabricks sandbox: import it (import ... from 'node:${name}') so that the build bundles it`);
  err.code = 'ERR_FABRICKS_UNAVAILABLE';
  throw err;
}

const cache = Object.create(null);

function load(filename) {
  const cached = cache[filename];
  if (cached) return cached.exports;
  if (filename.endsWith('.mjs')) {
    const err = new Error(`require() of ES Module ${filename} not supported.`);
    err.code = 'ERR_REQUIRE_ESM';
    throw err;
  }
  const module = { id: filename, filename, path: dirname(filename), loaded: false, exports: {}, children: [], paths: [] };
  cache[filename] = module;
  try {
    const text = packed().readText(filename);
    if (filename.endsWith('.json')) module.exports = JSON.parse(text);
    else {
      // a CommonJS file: Node's wrapper, evaluated as Node evaluates it (the first line keeps its number)
      const body = text.startsWith('#!') ? `//${text}` : text;
      const fn = (0, eval)(`(function (exports, require, module, __filename, __dirname) {${body}\n})\n//# sourceURL=${filename}`);
      module.require = createRequire(filename);
      fn.call(module.exports, module.exports, module.require, module, filename, dirname(filename));
    }
  } catch (e) {
    delete cache[filename];
    throw e;
  }
  module.loaded = true;
  return module.exports;
}

function filenameOf(from) {
  const s = from instanceof URL ? from.href : String(from);
  if (s.startsWith('file:')) return decodeURIComponent(new URL(s).pathname);
  if (s.startsWith('/')) return s;
  const err = new TypeError(`The argument 'filename' must be a file URL object, file URL string, or absolute path string. Received ${JSON.stringify(s)}`);
  err.code = 'ERR_INVALID_ARG_VALUE';
  throw err;
}

export function createRequire(from) {
  const filename = filenameOf(from);
  const dir = filename.endsWith('/') ? filename.replace(/\/+$/, '') || '/' : dirname(filename);
  const resolve = (id) => {
    if (typeof id !== 'string') throw new TypeError('The "id" argument must be of type string');
    if (isBuiltin(id)) return id;
    const found = resolveFrom(dir, id);
    if (!found) throw notFound(id, filename);
    return found;
  };
  const require = (id) => {
    const resolved = resolve(id);
    return isBuiltin(resolved) ? builtin(resolved.replace(/^node:/, '')) : load(resolved);
  };
  resolve.paths = (id) => (isBuiltin(id) ? null : [join(dir, 'node_modules')]);
  require.resolve = resolve;
  require.cache = cache;
  require.main = undefined;
  return require;
}

export function Module(id = '') {
  this.id = id;
  this.exports = {};
  this.loaded = false;
}
Module.prototype.require = function (id) {
  return createRequire(this.filename ?? '/')(id);
};
Module.createRequire = createRequire;
Module.builtinModules = builtinModules;
Module.isBuiltin = isBuiltin;
Module.Module = Module;
Module._cache = cache;
Module._extensions = Object.create(null);
Module.syncBuiltinESMExports = () => {};
Module.findSourceMap = () => undefined;

export { builtinModules };
export const _cache = cache;
export const syncBuiltinESMExports = Module.syncBuiltinESMExports;
export const findSourceMap = Module.findSourceMap;
export default Module;
