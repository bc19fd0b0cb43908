import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../util/paths.js';

const require = createRequire(import.meta.url);
const polyfillsDir = join(packageRoot, 'polyfills', 'node');

/**
 * Whether the bundle needs Intl: it names `Intl`, or calls a method whose answer depends on a
 * locale with arguments (without ICU the runtime ignores them) or `localeCompare` (whose order
 * without ICU is by code unit: 'a' after 'B'). A `toLocaleString()` without arguments alone
 * does not: its unlocalized answer is kept rather than loading the polyfills for it.
 */
export function usesIntl(bundleCode: string): boolean {
  return /\bIntl\b/.test(bundleCode) || /\.toLocale(?:Date|Time)?String\(\s*[^\s)]/.test(bundleCode) || /\.localeCompare\(/.test(bundleCode);
}

/** The lines of formatjs's offsetToGmtString that give ECMA-402's offset names their ICU form. */
const OFFSET_NAMES: Array<[string, string]> = [
  ['if (style === "long") offsetStr', 'if (style === "long" || style === "longOffset") offsetStr'],
  ['else if (mins || hours) {', 'else if (mins || hours || style === "shortOffset") {'],
];

/**
 * The Intl polyfills (polyfills/node/intl-load.js and what it imports) as one script, which the
 * prelude holds as a string and evaluates on first use: 2.6 MB of code would otherwise be parsed
 * at every start, Intl or not (about 0.2 s in the runtime); a string literal is only scanned.
 */
export async function buildIntlSource(): Promise<{ code: string; inputs: string[] }> {
  const esbuild = await import('esbuild');
  const dateTimeFormat = require.resolve('@formatjs/intl-datetimeformat/polyfill-force.js');
  const result = await esbuild.build({
    entryPoints: [join(polyfillsDir, 'intl-load.js')],
    absWorkingDir: polyfillsDir,
    bundle: true,
    write: false,
    format: 'iife',
    minify: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    logLevel: 'silent',
    metafile: true,
    plugins: [
      {
        name: 'fabricks-intl-offsets',
        setup(build) {
          // formatjs gives the offset zone names of ECMA-402 their short form when the offset
          // is zero and always for longOffset (UTC: GMT, GMT; ICU and Node: GMT+0, GMT+00:00)
          build.onLoad({ filter: /intl-datetimeformat[\\/]polyfill-force\.js$/ }, async (args) => {
            if (args.path !== dateTimeFormat) return undefined;
            const source = await readFile(args.path, 'utf8');
            if (OFFSET_NAMES.some(([from]) => !source.includes(from))) throw new Error('@formatjs/intl-datetimeformat no longer formats offsets the way fabricks expects');
            return { contents: OFFSET_NAMES.reduce((text, [from, to]) => text.replace(from, to), source), loader: 'js' };
          });
        },
      },
    ],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(':'))
    .map((p) => resolve(polyfillsDir, p));
  return { code: result.outputFiles[0]!.text, inputs };
}
