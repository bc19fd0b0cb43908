import { realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import type { Message, Plugin } from 'esbuild';
import { FabricksError } from '../../util/errors.js';
import { BUFFER_GLOBAL, needsAsyncContext, needsFileStreams, nodeModulesPlugin, type NodeModulesOptions } from './node-modules.js';
import { lowerAsync } from './async-lowering.js';
import { finishBundle } from './bundle-finish.js';
import { markAhead, placeAhead } from './bundle-ahead.js';
import { missingPackagesPlugin } from './missing-packages.js';
import { META_DEFINE, moduleMetaPlugin, unshiftColumns, type Shift } from './module-meta.js';
import { PackageFiles, type Asset } from './packed-assets.js';
import { NODE_BUILTINS_FILE, UnavailableImports } from './unavailable-builtins.js';

export interface Bundle {
  code: Uint8Array;
  /** A source map (version, sources, mappings) the runtime uses to point errors at user files. */
  map: Uint8Array;
  /** Files the bundle was made from, absolute paths. */
  inputs: string[];
  /** Files the program may read at run time, packed beside the bundle (package.json files, files named by a literal path). */
  assets: Asset[];
  /** Node built-ins the runtime does not serve, by the package that imports them ('' for the app's own files). */
  unavailable: Array<{ owner: string; modules: string[] }>;
}

export interface BundleOptions {
  /** `[source] strict-builtins`: a Node built-in the runtime does not serve is a build error. */
  strictBuiltins?: boolean;
}

/**
 * The virtual module the bundle starts from: it runs the entrypoint, and when the entrypoint has
 * a default export (a served app's `export default { fetch }`), hands its module namespace to
 * the runtime. Only then: importing a namespace makes esbuild wrap an entry without exports as
 * CommonJS, which would change the stack traces and semantics of plain scripts.
 */
async function entryModule(esbuild: typeof import('esbuild'), sourceDir: string, entrypoint: string): Promise<string> {
  const spec = JSON.stringify(`./${entrypoint}`);
  const scan = await esbuild
    .build({ entryPoints: [join(sourceDir, entrypoint)], bundle: false, write: false, format: 'esm', platform: 'neutral', metafile: true, logLevel: 'silent', outdir: join(sourceDir, '.fabricks-scan') })
    .catch(() => undefined); // the bundle below reports what is wrong
  const exported = Object.values(scan?.metafile.outputs ?? {}).some((o) => o.exports.includes('default'));
  return exported ? `import * as entry from ${spec};\nglobalThis.__fabricksModule = entry;\n` : `import ${spec};\n`;
}

/**
 * Bundles the entrypoint and everything it imports into one ES2022 script with esbuild. The
 * entry is imported from a virtual module so the bundle has no exports of its own; the runtime
 * runs it inside an async function (top-level await works).
 */
export async function bundleEntrypoint(sourceDir: string, entrypoint: string, options: BundleOptions = {}): Promise<Bundle> {
  const esbuild = await import('esbuild');
  const contents = await entryModule(esbuild, sourceDir, entrypoint);
  let pass: Pass;
  try {
    pass = await bundleOnce(esbuild, sourceDir, entrypoint, contents, { fileStreams: false, strict: options.strictBuiltins ?? false });
    // fs's streams (and the stream module under them) only where some file names them
    if (await needsFileStreams(sourceDir, Object.keys(pass.result.metafile.inputs))) pass = await bundleOnce(esbuild, sourceDir, entrypoint, contents, { fileStreams: true, strict: options.strictBuiltins ?? false });
  } catch (e) {
    const failure = e as { errors?: Message[] };
    if (!failure.errors) throw e;
    const syntax = failure.errors.some((m) => !/Could not resolve|Node\.js module/.test(m.text));
    const lines = failure.errors.map((m) => formatMessage(m, sourceDir));
    throw new FabricksError(syntax ? 'JS_SYNTAX' : 'JS_RESOLVE', `could not bundle ${entrypoint}:\n${lines.join('\n')}`, {
      hint: syntax ? 'fix the error at that file and line' : failure.errors.some((m) => m.text.includes('runtime does not provide')) ? 'docs/javascript.md lists the Node modules the runtime provides' : 'check the import path, or add the package with npm install',
    });
  }
  const { result, files, found, unavailable, shifts } = pass;
  const out = result.outputFiles;
  const codeFile = out.find((f) => f.path.endsWith('.js'));
  const mapFile = out.find((f) => f.path.endsWith('.map'));
  if (!codeFile || !mapFile) throw new Error('esbuild returned no bundle');
  const map = JSON.parse(mapFile.text) as { sources: string[]; mappings: string };
  // where the entry's own code begins (stage B), held while the bundle is rewritten
  let bundled = { code: placeAhead(codeFile.text, entryPath(sourceDir, entrypoint)), map: { sources: map.sources, mappings: unshiftColumns(map, shifts) } };
  const lowered = needsAsyncContext(sourceDir, Object.keys(result.metafile.inputs));
  if (lowered) bundled = await lowerAsync(esbuild, bundled.code, bundled.map);
  const finished = await finishBundle(bundled.code, bundled.map);
  const stable = fabricksPaths(sourceDir);
  finished.code = markAhead(stable(finished.code), lowered);
  finished.map.sources = finished.map.sources.map(stable);
  const slim = { version: 3, ...finished.map };
  const sources = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(':') || /^[A-Za-z]:/.test(p))
    .map((p) => resolve(sourceDir, p));
  await Promise.all(found);
  await files.addManifests(sources);
  // the stubs are made from the committed list of Node's exports: another list, another bundle
  const inputs = sources.concat(finished.inputs, unavailable.list().length > 0 ? [NODE_BUILTINS_FILE] : []);
  return { code: new TextEncoder().encode(finished.code), map: new TextEncoder().encode(JSON.stringify(slim)), inputs, assets: files.list(), unavailable: unavailable.list() };
}

/** One bundling, and what its plugins found on the way. */
interface Pass {
  result: import('esbuild').BuildResult<{ write: false; metafile: true }>;
  files: PackageFiles;
  found: Array<Promise<void>>;
  unavailable: UnavailableImports;
  shifts: Map<string, Shift>;
}

async function bundleOnce(esbuild: typeof import('esbuild'), sourceDir: string, entrypoint: string, contents: string, options: NodeModulesOptions): Promise<Pass> {
  const files = new PackageFiles(sourceDir);
  const found: Array<Promise<void>> = [];
  const unavailable = new UnavailableImports();
  const shifts = new Map<string, Shift>();
  const result = await esbuild.build({
    stdin: { contents, resolveDir: sourceDir, sourcefile: 'fabricks:entry', loader: 'js' },
    absWorkingDir: sourceDir,
    outfile: join(sourceDir, '.fabricks-bundle.js'),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    sourcemap: 'external',
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    define: META_DEFINE,
    plugins: [
      entryKept(sourceDir, entrypoint),
      nodeModulesPlugin(sourceDir, { ...options, unavailable }),
      moduleMetaPlugin(
        `/${entrypoint}`,
        (file) => files.locate(file),
        (importer, spec) => void found.push(files.add(resolve(dirname(importer), spec))),
        (file, shift) => shifts.set(relative(sourceDir, file).split(sep).join('/'), shift),
      ),
      missingPackagesPlugin(sourceDir),
    ],
    inject: [BUFFER_GLOBAL],
  });
  return { result, files, found, unavailable, shifts };
}

/**
 * The entrypoint is imported for its effects: a package that says `"sideEffects": false` (as
 * mcp-hello-world does) would otherwise have it dropped from the bundle, leaving a program that
 * does nothing.
 */
function entryKept(sourceDir: string, entrypoint: string): import('esbuild').Plugin {
  const spec = `./${entrypoint}`;
  const filter = new RegExp(`^${spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
  return {
    name: 'fabricks-entry-kept',
    setup(build) {
      build.onResolve({ filter }, (args) => {
        // esbuild names the virtual module's importer by its sourcefile under resolveDir
        if (!args.importer.endsWith('fabricks:entry')) return undefined;
        let path: string;
        try {
          path = realpathSync(resolve(sourceDir, entrypoint));
        } catch {
          return undefined; // esbuild reports the missing entrypoint as usual
        }
        return { path, sideEffects: true };
      });
    },
  };
}

/** The entrypoint as esbuild names it in the bundle's `// <path>` lines: from the project to its real path (entryKept). */
function entryPath(sourceDir: string, entrypoint: string): string {
  let path = resolve(sourceDir, entrypoint);
  try {
    path = realpathSync(path);
  } catch {
    // bundled, so it is there
  }
  return relative(sourceDir, path).split(sep).join('/');
}

/**
 * esbuild names each bundled file by its path from the project, so fabricks' own files (its Node
 * polyfills and the npm shims it ships) would be named by where fabricks is installed relative to
 * the project, and the same sources would give different module layers on two machines (or in
 * two folders). They are renamed `fabricks/<path in the fabricks package>`, in the path comments,
 * the module wrappers' keys and the source map.
 */
function fabricksPaths(sourceDir: string): (text: string) => string {
  const rel = relative(sourceDir, packageRoot).split(sep).join('/');
  if (rel === '' || !rel.startsWith('..')) return (text) => text; // fabricks inside the project: already stable
  const prefix = rel.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const within = '((?:polyfills|node_modules)/[^"\\n]*)';
  const patterns = [new RegExp(`^(\\s*// )${prefix}/${within}$`, 'gm'), new RegExp(`(")${prefix}/${within}("\\(\\))`, 'g'), new RegExp(`^()${prefix}/${within}()$`)];
  return (text) => patterns.reduce((t, re) => t.replace(re, (_m, before: string, path: string, after = '') => `${before}fabricks/${path}${after}`), text);
}

function formatMessage(m: Message, cwd: string): string {
  const notes = m.notes.map((n) => `\n  ${n.text}`).join('');
  if (!m.location) return `error: ${m.text}${notes}`;
  const file = relative(cwd, resolve(cwd, m.location.file)) || m.location.file;
  return `${file}:${m.location.line}:${m.location.column + 1}: error: ${m.text}\n  ${m.location.lineText}${notes}`;
}
