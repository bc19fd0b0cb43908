import { builtinModules, createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { Plugin } from 'esbuild';
import { packageRoot } from '../../util/paths.js';
import { completedModule, esmExportsOf, isNodeBuiltin, NODE_BUILTINS, stubModule, unknownStubModule, type UnavailableImports } from './unavailable-builtins.js';

/**
 * How each Node.js module a bundle imports is served in the JavaScript runtime:
 * - `runtime`: the runtime's own (guest/node/bootstrap/node-modules.js, `nodeModules`), talking to the host;
 * - `file`: a polyfill bundled in at build time, from a maintained npm package or from
 *   polyfills/node/ where a thin layer over the runtime's Web APIs is all it takes;
 * - `code`: a one-line module over globals the runtime has;
 * - anything else Node has becomes a module whose functions throw when called
 *   (unavailable-builtins.ts), or with `[source] strict-builtins` a build error naming the
 *   importing file and package.
 */
type Support = { runtime: string } | { file: string } | { code: string };

const polyfillsDir = join(packageRoot, 'polyfills', 'node');
const require = createRequire(import.meta.url);
const pkg = (spec: string) => () => require.resolve(spec);
const own = (file: string) => () => join(polyfillsDir, file);

// calls through to the globals as they are when called: async_hooks wraps them later
const TIMERS = `module.exports = { setTimeout: (...a) => globalThis.setTimeout(...a), clearTimeout: (t) => globalThis.clearTimeout(t), setInterval: (...a) => globalThis.setInterval(...a), clearInterval: (t) => globalThis.clearInterval(t), setImmediate: (...a) => globalThis.setImmediate(...a), clearImmediate: (t) => globalThis.clearImmediate(t) };`;

const MODULES: Record<string, () => Support> = {
  process: () => ({ runtime: 'process' }),
  readline: () => ({ runtime: 'readline' }),
  // the runtime's fs, with file streams over the bundle's stream module
  fs: () => ({ file: own('fs.js')() }),
  'fs/promises': () => ({ file: own('fs-promises.js')() }),
  events: () => ({ file: own('events.js')() }),
  buffer: () => ({ file: own('buffer.js')() }),
  stream: () => ({ file: pkg('readable-stream/lib/ours/browser.js')() }),
  'stream/promises': () => ({ file: pkg('readable-stream/lib/stream/promises.js')() }),
  string_decoder: () => ({ file: pkg('string_decoder/')() }),
  util: () => ({ file: own('node-util.js')() }),
  'util/types': () => ({ file: own('util-types.js')() }),
  path: () => ({ file: pkg('path-browserify')() }),
  'path/posix': () => ({ file: pkg('path-browserify')() }),
  url: () => ({ file: own('url.js')() }),
  crypto: () => ({ file: own('crypto.js')() }),
  os: () => ({ file: own('os.js')() }),
  http: () => ({ file: own('http.js')() }),
  https: () => ({ file: own('https.js')() }),
  http2: () => ({ file: own('http2.js')() }),
  timers: () => ({ code: TIMERS }),
  'timers/promises': () => ({ file: own('timers-promises.js')() }),
  zlib: () => ({ file: own('zlib-module.js')() }),
  async_hooks: () => ({ file: own('async-hooks.js')() }),
  'stream/web': () => ({ file: own('stream-web.js')() }),
  'stream/consumers': () => ({ file: own('stream-consumers.js')() }),
  perf_hooks: () => ({ file: own('perf-hooks.js')() }),
  assert: () => ({ file: pkg('assert/')() }),
  'assert/strict': () => ({ code: `module.exports = require('node:assert').strict;` }),
  querystring: () => ({ file: pkg('unenv/node/querystring')() }),
  punycode: () => ({ file: pkg('unenv/node/punycode')() }),
  diagnostics_channel: () => ({ file: pkg('unenv/node/diagnostics_channel')() }),
  constants: () => ({ file: pkg('unenv/node/constants')() }),
  tty: () => ({ file: own('tty.js')() }),
  worker_threads: () => ({ file: own('worker-threads.js')() }),
  v8: () => ({ file: own('v8.js')() }),
  dns: () => ({ file: own('dns.js')() }),
  'dns/promises': () => ({ code: `module.exports = require('dns').promises;` }),
  net: () => ({ file: own('net.js')() }),
  tls: () => ({ file: own('tls.js')() }),
  console: () => ({ code: 'module.exports = globalThis.console;' }),
  sys: () => ({ file: own('node-util.js')() }),
  _stream_readable: () => ({ code: `module.exports = require('node:stream').Readable;` }),
  _stream_writable: () => ({ code: `module.exports = require('node:stream').Writable;` }),
  _stream_duplex: () => ({ code: `module.exports = require('node:stream').Duplex;` }),
  _stream_transform: () => ({ code: `module.exports = require('node:stream').Transform;` }),
  _stream_passthrough: () => ({ code: `module.exports = require('node:stream').PassThrough;` }),
  module: () => ({ file: own('module.js')() }),
};

/** Why the rest cannot work in a WASI component, and what to do instead. */
const UNSUPPORTED_HINTS: Record<string, string> = {
  child_process: 'a fabricks service cannot start processes; do the work in the service, or run the tool as a service of its own',
  cluster: 'a fabricks service is one process; run more instances instead',
  dgram: 'the runtime has no UDP sockets',
  vm: 'the runtime cannot create new JavaScript contexts',
};

/** Packages that ask for a bare name the runtime serves differently from Node's own. */
const PACKAGE_OVERRIDES: Record<string, () => string> = {
  // readable-stream's AbortController: the runtime's own, so signals from user code work with streams.
  'abort-controller': own('abort-controller.js'),
  // undici's own code needs Node's sockets; its fetch and request() are the runtime's fetch
  undici: own('undici.js'),
};

/**
 * Packages whose Node build needs what a WASI component lacks, taken in their own browser build
 * (resolved from the importing file, so the user's version): depd reads its caller's file from
 * V8's structured stack traces (Error.prepareStackTrace), which SpiderMonkey does not give; its
 * browser build is the same API without the warnings. Express and its middleware load it.
 */
const BROWSER_BUILDS: Record<string, string> = {
  depd: 'depd/lib/browser/index.js',
};

const NODE_NAMES = new Set(builtinModules);

/** The npm package a file belongs to ("zod", "@scope/name"), from its path under node_modules. */
export function packageOf(file: string): string | undefined {
  const parts = file.split(/[\\/]/);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length) return undefined;
  return parts[i + 1]!.startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1];
}

/** Node module names the runtime serves, as documented in docs/javascript.md. */
export const SERVED_NODE_MODULES = Object.keys(MODULES);

export interface NodeModulesOptions {
  /** A built-in the runtime does not serve is a build error (`[source] strict-builtins`), not a module that throws when called. */
  strict?: boolean;
  /** Where the unserved built-ins each package imports are recorded, for the build's notes. */
  unavailable?: UnavailableImports;
  /**
   * Whether fs brings its streams (`createReadStream`, ...), which bring the stream module: some
   * 280 kB of code that a bundle using only the rest of fs does without.
   */
  fileStreams?: boolean;
}

/** How UnavailableImports names the app's own files (not a package). */
export const APP_OWNER = '';

function hintFor(top: string): string {
  return UNSUPPORTED_HINTS[top] ?? `the runtime provides ${SERVED_NODE_MODULES.map((n) => `"${n}"`).join(', ')} (also as "node:...")`;
}

const FS_POLYFILL = join(polyfillsDir, 'fs.js');
const ASYNC_HOOKS_POLYFILL = join(polyfillsDir, 'async-hooks.js');
const FILE_STREAMS = /(?:Read|Write)Stream\b|\breadLines\b/; // createReadStream, fs.WriteStream, filehandle.readLines()

/**
 * Whether a bundle made of `inputs` (esbuild's metafile paths, from `sourceDir`) needs fs's
 * streams: it has fs, and a file of its own or of its packages names one of them.
 */
/** Whether the bundle carries node:async_hooks, whose AsyncLocalStorage needs its async functions lowered (async-lowering.ts). */
export function needsAsyncContext(sourceDir: string, inputs: string[]): boolean {
  return inputs.filter((p) => !p.includes(':')).some((p) => resolve(sourceDir, p) === ASYNC_HOOKS_POLYFILL);
}

export async function needsFileStreams(sourceDir: string, inputs: string[]): Promise<boolean> {
  const files = inputs.filter((p) => !p.includes(':')).map((p) => resolve(sourceDir, p));
  if (!files.includes(FS_POLYFILL)) return false;
  for (const file of files) {
    if (file.startsWith(polyfillsDir + sep)) continue;
    if (FILE_STREAMS.test(await readFile(file, 'utf8').catch(() => ''))) return true;
  }
  return false;
}

/** The esbuild plugin that serves Node's modules to a bundle, or fails the build naming who asked. */
export function nodeModulesPlugin(sourceDir: string, options: NodeModulesOptions = { fileStreams: true }): Plugin {
  return {
    name: 'fabricks-node-modules',
    setup(build) {
      if (!options.fileStreams) {
        build.onResolve({ filter: /^\.\/fs-streams\.js$/ }, (args) => (args.importer === FS_POLYFILL ? { path: join(polyfillsDir, 'fs-streams-absent.js') } : undefined));
      }
      build.onResolve({ filter: /^(node:)?[a-z0-9_/]+$|^abort-controller$/ }, async (args) => {
        const override = PACKAGE_OVERRIDES[args.path];
        if (override) return { path: override() };
        const browser = BROWSER_BUILDS[args.path];
        if (browser) return { path: createRequire(args.importer || join(sourceDir, 'entry.js')).resolve(browser) };
        const prefixed = args.path.startsWith('node:');
        // 'string_decoder/' and 'process/' are how packages ask for the npm shims of these; the
        // runtime's answer is the same module
        const name = args.path.replace(/^node:/, '').replace(/\/$/, '');
        const served = MODULES[name];
        if (served && (prefixed || NODE_NAMES.has(name))) {
          const s = served();
          if ('runtime' in s) return { path: s.runtime, namespace: 'fabricks-node' };
          // importing one only to drop it again must leave nothing behind (the Buffer inject)
          if ('code' in s) return { path: name, namespace: 'fabricks-node-code', sideEffects: false };
          // an ES module polyfill gets Node's other export names too (completedModule)
          if (NODE_BUILTINS.modules[name] && (await esmExportsOf(s.file))) return { path: name, namespace: 'fabricks-node-file', sideEffects: false };
          return { path: s.file, sideEffects: false };
        }
        if (!prefixed && !NODE_NAMES.has(name)) return undefined; // an npm package, resolved as usual
        if (!prefixed && !NODE_NAMES.has(args.path)) return undefined;
        const importer = args.importer ? relative(sourceDir, args.importer).split(sep).join('/') : 'the entrypoint';
        const owner = args.importer ? packageOf(args.importer) : undefined;
        const top = name.split('/')[0]!;
        // node: names are Node's own, also those newer than the committed list
        if (!options.strict && (isNodeBuiltin(name) || prefixed)) {
          // a module whose functions throw when called: the program may never call them
          options.unavailable?.add(owner ?? APP_OWNER, `node:${name}`);
          return { path: name, namespace: 'fabricks-unavailable', sideEffects: false };
        }
        return {
          errors: [
            {
              text: `"${args.path}" is a Node.js module that the fabricks JavaScript runtime does not provide; it is imported by ${importer}${owner ? ` (package ${owner})` : ''}`,
              notes: [
                { text: hintFor(top) },
                ...(owner ? [{ text: `${owner} needs Node's ${top}: use a version or an alternative of ${owner} that does not, or leave out the part of it that imports ${top}` }] : []),
                ...(options.strict && isNodeBuiltin(name) ? [{ text: `[source] strict-builtins = true makes this an error; without it, the build warns and ${top}'s functions throw when called` }] : []),
              ],
            },
          ],
        };
      });
      build.onLoad({ filter: /.*/, namespace: 'fabricks-node-file' }, async (args) => {
        const s = MODULES[args.path]!();
        const file = 'file' in s ? s.file : '';
        return { contents: completedModule(args.path, file, (await esmExportsOf(file)) ?? [], NODE_BUILTINS.modules[args.path]!.exports), loader: 'js', resolveDir: polyfillsDir };
      });
      build.onLoad({ filter: /.*/, namespace: 'fabricks-unavailable' }, (args) => ({
        // the error a program may print: the module's own hint, else a short pointer to the list
        contents: ((hint) => {
          const known = NODE_BUILTINS.modules[args.path];
          return known ? stubModule(args.path, hint, known.exports) : unknownStubModule(args.path, hint);
        })(UNSUPPORTED_HINTS[args.path.split('/')[0]!] ?? 'the fabricks JavaScript runtime does not provide it (docs/javascript.md lists the Node modules it provides)'),
        loader: 'js',
        resolveDir: polyfillsDir,
      }));
      build.onLoad({ filter: /.*/, namespace: 'fabricks-node' }, (args) => ({
        contents: `module.exports = globalThis.__fabricksNode[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
      build.onLoad({ filter: /.*/, namespace: 'fabricks-node-code' }, (args) => {
        const s = MODULES[args.path]!();
        return { contents: 'code' in s ? s.code : '', loader: 'js' };
      });
    },
  };
}

/** Injected into every bundle: a free `Buffer` is node:buffer's, as it is Node's in Node. */
export const BUFFER_GLOBAL = join(polyfillsDir, 'buffer-global.js');
