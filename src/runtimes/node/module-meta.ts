import { readFile } from 'node:fs/promises';
import { dirname, extname, join, posix, relative, sep } from 'node:path';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import type { Loader, Plugin } from 'esbuild';
import { packageRoot } from '../../util/paths.js';
import { isNodeBuiltin as isBuiltin } from './unavailable-builtins.js';

const MODULE_POLYFILL = join(packageRoot, 'polyfills', 'node', 'module.js');

/**
 * Node's per-module facts in a bundle: `import.meta.url`, `.dirname`, `.filename`, `__dirname`
 * and `__filename` name each module's place in the packed tree (the module layer's files sit at
 * `/<path under [source] path>`, the runtime's cwd). The bundle is evaluated as a script, where
 * `import.meta` is a SyntaxError, so esbuild's `define` replaces them with `__fabricks_meta`, and
 * each file that uses them gets its own `var __fabricks_meta` (esbuild renames one module's apart
 * from another's; a file's own `const __dirname = ...` is its own binding and is left alone).
 */
export const META_DEFINE: Record<string, string> = {
  'import.meta': '__fabricks_meta',
  __dirname: '__fabricks_meta.dirname',
  __filename: '__fabricks_meta.filename',
  'require.main': '__fabricks_meta.main',
};

const USES_META = /\bimport\.meta\b|\b__dirname\b|\b__filename\b|\brequire\.main\b/;

/**
 * Where a bundled file sits in the guest's tree. Files under the source folder keep their path;
 * a package esbuild found through a link to outside it (pnpm's store, a workspace) sits where
 * Node would have found it: `/node_modules/<name>/...`.
 */
export function guestPath(file: string, sourceDir: string, pkg?: { root: string; name: string }): string {
  const rel = relative(sourceDir, file).split(sep).join('/');
  if (!rel.startsWith('../') && rel !== '..') return `/${rel}`;
  const i = rel.lastIndexOf('/node_modules/');
  if (i >= 0) return rel.slice(i);
  if (pkg) return posix.join('/node_modules', pkg.name, relative(pkg.root, file).split(sep).join('/'));
  return `/${rel.replace(/^(\.\.\/)+/, '')}`;
}

/** A file URL for a guest path (percent-encoded as Node's pathToFileURL does). */
export function fileUrl(path: string): string {
  return `file://${encodeURI(path).replace(/[?#]/g, encodeURIComponent)}`;
}

/**
 * The declaration that gives one module its `import.meta`. A CommonJS entrypoint that asks for
 * `require.main` gets its own `module` there (with Node's id, filename and path), so `if
 * (require.main === module) main()` runs; in any other module it is undefined, as it is in Node
 * when the program started from an ES module. (Only a module that mentions `require.main` refers
 * to `module`: a free `module` would make esbuild treat a plain script as CommonJS.)
 */
export function metaDeclaration(path: string, main: 'entry' | 'other' | 'none' = 'none'): string {
  const url = fileUrl(path);
  const fields = [`url: ${JSON.stringify(url)}`, `filename: ${JSON.stringify(path)}`, `dirname: ${JSON.stringify(posix.dirname(path))}`, `resolve: (s) => new URL(s, ${JSON.stringify(url)}).href`];
  if (main === 'entry') fields.push(`main: typeof module === "object" && module ? Object.assign(module, { id: ".", filename: ${JSON.stringify(path)}, path: ${JSON.stringify(posix.dirname(path))} }) : undefined`);
  if (main === 'other') fields.push('main: undefined');
  return `var __fabricks_meta = { ${fields.join(', ')} };`;
}

/** Where a declaration went into a file (0-based line and column) and its length, which unshiftColumns takes back out of the source map. */
export interface Shift {
  line: number;
  column: number;
  length: number;
}

/**
 * Where the declaration goes: after a `#!` line (which must stay first) and after the file's
 * directive prologue (`'use strict'` must stay its first statement), before anything else, on
 * the same line, so that every line keeps its number in the source map.
 */
export function declarationPoint(text: string): number {
  let i = text.startsWith('#!') ? text.indexOf('\n') + 1 || text.length : 0;
  let point = i;
  for (;;) {
    const ws = /^(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*/.exec(text.slice(i))![0];
    const directive = /^(['"])(?:\\.|(?!\1)[^\\\n])*\1[ \t]*;?/.exec(text.slice(i + ws.length));
    // a string followed by more of an expression ('a' + b) is not a directive
    if (!directive || /^[ \t]*[^\s;/}]/.test(text.slice(i + ws.length + directive[0].length)) && !directive[0].endsWith(';')) return point;
    i += ws.length + directive[0].length;
    point = i;
  }
}

/** The file's text with the declaration put in (declarationPoint), and where. */
export function withMeta(text: string, declaration: string): { text: string; shift: Shift } {
  if (text.startsWith('#!') && !text.includes('\n')) return { text: `${text}\n${declaration}`, shift: { line: 1, column: 0, length: declaration.length } };
  const at = declarationPoint(text);
  const before = text.slice(0, at);
  // a directive without its semicolon ends where the declaration starts
  if (/['"][ \t]*$/.test(before)) declaration = `;${declaration}`;
  const line = before.split('\n').length - 1;
  const column = at - (before.lastIndexOf('\n') + 1);
  return { text: `${before}${declaration}${text.slice(at)}`, shift: { line, column, length: declaration.length } };
}

/** The source map's columns on the lines that got a declaration, moved back to the file's own. */
export function unshiftColumns(map: { sources: string[]; mappings: string }, shifts: Map<string, Shift>): string {
  const bySource = map.sources.map((s) => shifts.get(s));
  if (!bySource.some(Boolean)) return map.mappings;
  const lines = decode(map.mappings);
  for (const line of lines) {
    for (const seg of line) {
      if (seg.length < 4) continue;
      const shift = bySource[seg[1]!];
      if (shift && seg[2] === shift.line && seg[3]! >= shift.column) seg[3] = Math.max(shift.column, seg[3]! - shift.length);
    }
  }
  return encode(lines);
}

const LITERAL = String.raw`\s*(['"\`])(\.{1,2}/[^'"\`$]*?)\1\s*`;
const REQUIRE_CALL = new RegExp(String.raw`\brequire(?:\.resolve)?\(${LITERAL}\)`, 'g');
const URL_OF_META = new RegExp(String.raw`\bnew URL\(${LITERAL},\s*import\.meta\.url\s*\)`, 'g');
// path.join(__dirname, '..', 'package.json'), resolve(import.meta.dirname, 'data/x.json'): only literal parts
const JOIN_OF_DIR = /\b(?:join|resolve)\(\s*(?:__dirname|import\.meta\.dirname)((?:\s*,\s*(['"])[^'"`$]*\2)+)\s*\)/g;

// any other literal relative path to a data file ('../scripts/openapi.json'): minified code
// resolves it against a variable that holds the module's folder, which no pattern can follow
// (not what a require or import names: the bundler takes that in itself)
const DATA_FILE = /(?<!\b(?:require|import)\(\s*|\bfrom\s*)(['"`])(\.{1,2}\/[^'"`$\s]*\.(?:json|jsonc|ya?ml|toml|txt|md|html?|css|csv|tsv|xml|svg|sql|graphql|gql|proto|wasm|pem|crt))\1/g;

/**
 * Files a module names by a literal relative path that the bundler does not follow, and that the
 * program reads at run time: what it `require`s through `createRequire(import.meta.url)` (its
 * package.json, most often), `new URL('./x', import.meta.url)` and `path.join(__dirname, 'x')`
 * (or `resolve`, or `import.meta.dirname`) of literal parts, and any literal relative path to a
 * data file. They are packed beside the bundle when they exist (relative to the module's folder).
 */
export function staticAssets(text: string): string[] {
  const found = new Set<string>();
  if (/\bcreateRequire\b/.test(text)) for (const m of text.matchAll(REQUIRE_CALL)) found.add(m[2]!);
  for (const m of text.matchAll(URL_OF_META)) found.add(m[2]!);
  for (const m of text.matchAll(JOIN_OF_DIR)) {
    const parts = [...m[1]!.matchAll(/(['"])([^'"`$]*)\1/g)].map((p) => p[2]!);
    const rel = posix.normalize(parts.join('/'));
    if (rel && rel !== '.') found.add(rel.startsWith('../') ? rel : `./${rel}`);
  }
  for (const m of text.matchAll(DATA_FILE)) found.add(m[2]!);
  return [...found];
}

const CALL_OF_NAME = /[\w$]\(\s*(['"])((?:node:)?[a-z][a-z0-9_/]*)\1\s*\)/g;

/**
 * The Node built-ins an ES module may require at run time through `createRequire(import.meta.url)`,
 * found as calls with a literal name (`_l("buffer")`: bundles made by Bun, or esbuild with a
 * createRequire banner, require every built-in this way). `isBuiltin` says which names are Node's.
 */
export function requiredBuiltins(text: string, isBuiltin: (name: string) => boolean): string[] {
  if (!/\bcreateRequire\b/.test(text) || !/\bimport\.meta\b/.test(text)) return [];
  const found = new Set<string>();
  for (const m of text.matchAll(CALL_OF_NAME)) {
    const name = m[2]!.replace(/^node:/, '');
    if (isBuiltin(name) && name !== 'module') found.add(name);
  }
  return [...found].sort();
}

/** The import that registers those built-ins with node:module (served by the plugin below). */
export function registerImport(names: string[]): string {
  return names.length > 0 ? `import "fabricks-register:${names.join(',')}";` : '';
}

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.jsx': 'jsx' };

/**
 * The esbuild plugin that declares each module's `import.meta` (with META_DEFINE in the build's
 * `define`; `entry` is the entrypoint's guest path) and reports, through `asset(file, specifier)`, the files a module reads by a literal
 * relative path, and through `shifted`, where it put the declaration.
 */
export function moduleMetaPlugin(entry: string, locate: (file: string) => Promise<string>, asset: (importer: string, specifier: string) => void, shifted: (file: string, shift: Shift) => void): Plugin {
  return {
    name: 'fabricks-module-meta',
    setup(build) {
      // each name lazily, so a built-in that is never required is never evaluated
      build.onResolve({ filter: /^fabricks-register:/ }, (args) => ({ path: args.path.slice('fabricks-register:'.length), namespace: 'fabricks-register' }));
      build.onLoad({ filter: /.*/, namespace: 'fabricks-register' }, (args) => ({
        contents: [`const { __fabricksRegister: r } = require(${JSON.stringify(MODULE_POLYFILL)});`, ...args.path.split(',').map((n) => `r(${JSON.stringify(n)}, () => require(${JSON.stringify(`node:${n}`)}));`)].join('\n'),
        loader: 'js',
        resolveDir: dirname(MODULE_POLYFILL),
      }));
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        if (args.namespace !== 'file') return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!USES_META.test(text) && !/\bcreateRequire\b/.test(text)) return undefined;
        for (const spec of staticAssets(text)) asset(args.path, spec);
        const path = await locate(args.path);
        const main = !/\brequire\.main\b/.test(text) ? 'none' : path === entry ? 'entry' : 'other';
        const meta = withMeta(text, `${registerImport(requiredBuiltins(text, isBuiltin))}${metaDeclaration(path, main)}`);
        shifted(args.path, meta.shift);
        return { contents: meta.text, loader: LOADERS[extname(args.path)] ?? 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
