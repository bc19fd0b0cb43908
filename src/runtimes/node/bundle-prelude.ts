import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import { buildIntlSource, usesIntl } from './intl-prelude.js';

const require = createRequire(import.meta.url);
const polyfillsDir = join(packageRoot, 'polyfills', 'node');

/** `\p{Name}` / `\P{Key=Value}` as a pattern string holds them in code (`'\\p{L}'`) or in a literal. */
const ESCAPE_IN_TEXT = /\\{1,2}[pP]\{([A-Za-z0-9_]+(?:=[A-Za-z0-9_]+)?)\}/g;

/**
 * The regenerate-unicode-properties files regexpu-core reads for one property escape, found the
 * way it finds them (a General_Category value, a property of strings, a binary property, or
 * Key=Value); names that match nothing are left out, to fail at run time as they would in Node.
 */
function propertyFiles(name: string): string[] {
  const regexpu = dirname(require.resolve('regexpu-core'));
  const req = createRequire(join(regexpu, 'rewrite-pattern.js'));
  const matchProperty = req('unicode-match-property-ecmascript') as (p: string) => string;
  const matchValue = req('unicode-match-property-value-ecmascript') as (p: string, v: string) => string;
  const attempts: Array<() => string> = [];
  const [key, value] = name.split('=');
  if (value !== undefined) attempts.push(() => `${matchProperty(key!)}/${matchValue(matchProperty(key!), value)}`);
  else attempts.push(() => `General_Category/${matchValue('General_Category', key!)}`, () => `Property_of_Strings/${key}`, () => `Binary_Property/${matchProperty(key!)}`);
  const found: string[] = [];
  for (const attempt of attempts) {
    try {
      const path = attempt();
      req.resolve(`regenerate-unicode-properties/${path}.js`);
      found.push(path);
    } catch {
      /* not this kind of property */
    }
  }
  return found;
}

export interface Prelude {
  code: string;
  /** What it puts in place, for the build's notes and docs/javascript.md. */
  features: string[];
  /** The files it was made from, absolute paths (a build made with others is not reused). */
  inputs: string[];
}

/**
 * Code that must run before the bundle, decided from the bundle's text: a RegExp that rewrites
 * Unicode property escapes when the bundle builds such patterns at run time (with the property
 * data of the names it holds), String.prototype.normalize when the bundle calls it, and Intl
 * when it uses it (`usesIntl`). All are large (property data, normalization tables, locale and
 * time zone data), so bundles that do not need them do not get them.
 */
export async function buildPrelude(bundleCode: string): Promise<Prelude | undefined> {
  const names = new Set([...bundleCode.matchAll(ESCAPE_IN_TEXT)].map((m) => m[1]!));
  const normalize = /\.normalize\(/.test(bundleCode);
  const intl = usesIntl(bundleCode);
  if (names.size === 0 && !normalize && !intl) return undefined;
  const files = [...new Set([...names].flatMap(propertyFiles))].sort();
  const imports: string[] = [];
  const features: string[] = [];
  if (names.size > 0) {
    imports.push(`import ${JSON.stringify(join(polyfillsDir, 'regexp-prelude.js'))};`);
    features.push(`RegExp with Unicode property escapes (${files.join(', ')})`);
  }
  if (normalize) {
    imports.push(`import ${JSON.stringify(join(polyfillsDir, 'normalize-prelude.js'))};`);
    features.push('String.prototype.normalize');
  }
  if (intl) {
    imports.push(`import ${JSON.stringify(join(polyfillsDir, 'intl-prelude.js'))};`);
    features.push('Intl (formatjs polyfills, English, all IANA time zones), locale-aware toLocale*String and localeCompare');
  }
  const intlSource = intl ? await buildIntlSource() : undefined;
  const esbuild = await import('esbuild');
  const rewritePattern = require.resolve('regexpu-core');
  const result = await esbuild.build({
    stdin: { contents: imports.join('\n'), resolveDir: polyfillsDir, sourcefile: 'fabricks:prelude', loader: 'js' },
    absWorkingDir: polyfillsDir,
    bundle: true,
    write: false,
    format: 'iife',
    // fabricks' own code, not the user's: no source map points into it, so it may as well be small
    minify: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    logLevel: 'silent',
    metafile: true,
    plugins: [
      {
        name: 'fabricks-unicode-data',
        setup(build) {
          build.onResolve({ filter: /^fabricks:unicode-data$/ }, () => ({ path: 'unicode-data', namespace: 'fabricks-prelude' }));
          build.onLoad({ filter: /.*/, namespace: 'fabricks-prelude' }, () => ({
            // only the properties named in the bundle; a lookup for another records what was missing
            contents: [
              'export const missing = [];',
              'const data = {',
              ...files.map((f) => `  ${JSON.stringify(f)}: () => require(${JSON.stringify(require.resolve(`regenerate-unicode-properties/${f}.js`))}),`),
              '};',
              'export function property(path) {',
              '  const load = data[path];',
              '  if (!load) { missing.push(path); throw new Error(`no data for ${path}`); }',
              '  return load();',
              '}',
            ].join('\n'),
            resolveDir: polyfillsDir,
            loader: 'js',
          }));
          // regexpu-core loads property data by a computed path, which no bundler can follow
          build.onLoad({ filter: /rewrite-pattern\.js$/ }, async (args) => {
            if (args.path !== rewritePattern) return undefined;
            const source = await readFile(args.path, 'utf8');
            const call = 'require(`regenerate-unicode-properties/${ path }.js`)';
            if (!source.includes(call)) throw new Error('regexpu-core no longer loads property data the way fabricks expects');
            return { contents: `const { property: __fabricksProperty } = require('fabricks:unicode-data');\n${source.replace(call, '__fabricksProperty(path)')}`, loader: 'js' };
          });
          // the Intl polyfills as a string, evaluated on first use (intl-prelude.ts)
          build.onResolve({ filter: /^fabricks:intl-source$/ }, () => ({ path: 'intl-source', namespace: 'fabricks-intl' }));
          build.onLoad({ filter: /.*/, namespace: 'fabricks-intl' }, () => ({ contents: `module.exports = ${JSON.stringify(intlSource?.code ?? '')};`, loader: 'js' }));
        },
      },
    ],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(':'))
    .map((p) => resolve(polyfillsDir, p))
    .concat(intlSource?.inputs ?? []);
  return { code: result.outputFiles[0]!.text, features, inputs };
}

/** The prelude in front of the bundle, the source map moved down by its lines. */
export function prependPrelude(code: string, map: { sources: string[]; mappings: string }, prelude: Prelude): { code: string; map: { sources: string[]; mappings: string } } {
  const text = prelude.code.endsWith('\n') ? prelude.code : `${prelude.code}\n`;
  const lines = text.split('\n').length - 1;
  return { code: text + code, map: { ...map, mappings: ';'.repeat(lines) + map.mappings } };
}
