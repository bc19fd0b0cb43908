import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import type { Message, Plugin } from 'esbuild';
import { FabricksError } from '../util/errors.js';

export interface Bundle {
  code: Uint8Array;
  /** A source map (version, sources, mappings) the runtime uses to point errors at user files. */
  map: Uint8Array;
  /** Files the bundle was made from, absolute paths. */
  inputs: string[];
}

/** Node modules the JavaScript runtime provides (runtimes/node/bootstrap.js, `nodeModules`). */
export const PROVIDED_NODE_MODULES = ['process', 'events', 'readline', 'fs', 'fs/promises'] as const;

const nodeBuiltins: Plugin = {
  name: 'fabricks-node-builtins',
  setup(build) {
    const provided = new RegExp(`^(node:)?(${PROVIDED_NODE_MODULES.map((m) => m.replace('/', '\\/')).join('|')})$`);
    const others = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const m = provided.exec(args.path);
      if (m) return { path: m[2]!, namespace: 'fabricks-node' };
      if (others.has(args.path)) {
        return {
          errors: [
            {
              text: `"${args.path}" is a Node.js module that the fabricks JavaScript runtime does not provide`,
              notes: [{ text: `it provides ${PROVIDED_NODE_MODULES.map((n) => `"${n}"`).join(', ')} (also as "node:..."), and the fabricks global for packed files` }],
            },
          ],
        };
      }
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'fabricks-node' }, (args) => ({
      contents: `module.exports = globalThis.__fabricksNode[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
  },
};

/**
 * The virtual module the bundle starts from: it runs the entrypoint and hands its module
 * namespace to the runtime, which serves HTTP with its `export default { fetch }`.
 */
const entryModule = (entrypoint: string) => `import * as entry from ${JSON.stringify(`./${entrypoint}`)};\nglobalThis.__fabricksModule = entry;\n`;

/**
 * Bundles the entrypoint and everything it imports into one ES2022 script with esbuild. The
 * entry is imported from a virtual module so the bundle has no exports of its own; the runtime
 * runs it inside an async function (top-level await works).
 */
export async function bundleEntrypoint(sourceDir: string, entrypoint: string): Promise<Bundle> {
  const esbuild = await import('esbuild');
  let result;
  try {
    result = await esbuild.build({
      stdin: { contents: entryModule(entrypoint), resolveDir: sourceDir, sourcefile: 'fabricks:entry', loader: 'js' },
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
      plugins: [nodeBuiltins],
    });
  } catch (e) {
    const failure = e as { errors?: Message[] };
    if (!failure.errors) throw e;
    const syntax = failure.errors.some((m) => !/Could not resolve|Node\.js module/.test(m.text));
    const lines = failure.errors.map((m) => formatMessage(m, sourceDir));
    throw new FabricksError(syntax ? 'JS_SYNTAX' : 'JS_RESOLVE', `could not bundle ${entrypoint}:\n${lines.join('\n')}`, {
      hint: syntax ? 'fix the error at that file and line' : 'check the import path, or add the package with npm install',
    });
  }
  const out = result.outputFiles;
  const codeFile = out.find((f) => f.path.endsWith('.js'));
  const mapFile = out.find((f) => f.path.endsWith('.map'));
  if (!codeFile || !mapFile) throw new Error('esbuild returned no bundle');
  const map = JSON.parse(mapFile.text) as { sources: string[]; mappings: string };
  const slim = { version: 3, sources: map.sources, mappings: map.mappings };
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(':') || /^[A-Za-z]:/.test(p))
    .map((p) => resolve(sourceDir, p));
  return { code: codeFile.contents, map: new TextEncoder().encode(JSON.stringify(slim)), inputs };
}

function formatMessage(m: Message, cwd: string): string {
  const notes = m.notes.map((n) => `\n  ${n.text}`).join('');
  if (!m.location) return `error: ${m.text}${notes}`;
  const file = relative(cwd, resolve(cwd, m.location.file)) || m.location.file;
  return `${file}:${m.location.line}:${m.location.column + 1}: error: ${m.text}\n  ${m.location.lineText}${notes}`;
}
