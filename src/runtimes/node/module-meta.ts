import { readFile } from 'node:fs/promises';
import { dirname, extname, posix, relative, sep } from 'node:path';
import type { Loader, Plugin } from 'esbuild';

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
};

const USES_META = /\bimport\.meta\b|\b__dirname\b|\b__filename\b/;

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

/** The declaration that gives one module its `import.meta`. */
export function metaDeclaration(path: string): string {
  const url = fileUrl(path);
  const meta = `{ url: ${JSON.stringify(url)}, filename: ${JSON.stringify(path)}, dirname: ${JSON.stringify(posix.dirname(path))}, resolve: (s) => new URL(s, ${JSON.stringify(url)}).href }`;
  return `var __fabricks_meta = ${meta};`;
}

/**
 * The file's text with the declaration in front, on its first line (after a `#!` line, which
 * must stay first), so that every later line keeps its number in the source map.
 */
export function withMeta(text: string, declaration: string): string {
  if (text.startsWith('#!')) {
    const nl = text.indexOf('\n');
    return nl < 0 ? declaration : `${text.slice(0, nl + 1)}${declaration}${text.slice(nl + 1)}`;
  }
  return `${declaration}${text}`;
}

const LITERAL = String.raw`\s*(['"\`])(\.{1,2}/[^'"\`$]*?)\1\s*`;
const REQUIRE_CALL = new RegExp(String.raw`\brequire(?:\.resolve)?\(${LITERAL}\)`, 'g');
const URL_OF_META = new RegExp(String.raw`\bnew URL\(${LITERAL},\s*import\.meta\.url\s*\)`, 'g');

/**
 * Files a module names by a literal relative path that the bundler does not follow, and that the
 * program reads at run time: what it `require`s through `createRequire(import.meta.url)` (its
 * package.json, most often) and `new URL('./x', import.meta.url)`. They are packed beside the bundle.
 */
export function staticAssets(text: string): string[] {
  const found = new Set<string>();
  if (/\bcreateRequire\b/.test(text)) for (const m of text.matchAll(REQUIRE_CALL)) found.add(m[2]!);
  for (const m of text.matchAll(URL_OF_META)) found.add(m[2]!);
  return [...found];
}

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.jsx': 'jsx' };

/**
 * The esbuild plugin that declares each module's `import.meta` (with META_DEFINE in the build's
 * `define`) and reports, through `asset(file, specifier)`, the files a module reads by a literal
 * relative path.
 */
export function moduleMetaPlugin(locate: (file: string) => Promise<string>, asset: (importer: string, specifier: string) => void): Plugin {
  return {
    name: 'fabricks-module-meta',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        if (args.namespace !== 'file') return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!USES_META.test(text) && !/\bcreateRequire\b/.test(text)) return undefined;
        for (const spec of staticAssets(text)) asset(args.path, spec);
        return { contents: withMeta(text, metaDeclaration(await locate(args.path))), loader: LOADERS[extname(args.path)] ?? 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
