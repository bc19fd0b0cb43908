import { createRequire } from 'node:module';
import { Parser, type Token } from 'acorn';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { FabricksError } from '../../util/errors.js';

/** Unicode property escapes (`\p{L}`, `\P{Script=Greek}`), as written in a regex or a string. */
export const PROPERTY_ESCAPE = /\\[pP]\{/;

const require = createRequire(import.meta.url);

interface SourceMap {
  sources: string[];
  mappings: string;
}

/**
 * Rewrites the regular-expression literals in a bundle that use Unicode property escapes into
 * plain character classes (regexpu-core), because SpiderMonkey in the runtime has no Unicode
 * property data and rejects the whole bundle at load otherwise. Other literals are left as they
 * are; the source map's columns after a rewritten literal are moved along with the code.
 */
export function transformRegExpLiterals(code: string, map: SourceMap): { code: string; map: SourceMap; rewritten: number } {
  if (!PROPERTY_ESCAPE.test(code)) return { code, map, rewritten: 0 };
  const rewritePattern = require('regexpu-core') as (pattern: string, flags: string, options: object) => string;
  const tokens: Token[] = [];
  try {
    Parser.parse(code, { ecmaVersion: 'latest', sourceType: 'module', allowAwaitOutsideFunction: true, allowReturnOutsideFunction: true, locations: true, onToken: tokens });
  } catch {
    // esbuild wrote it, so it parses; if acorn lags behind some syntax, leave the bundle as it is
    return { code, map, rewritten: 0 };
  }
  const edits: Array<{ start: number; end: number; text: string; line: number; column: number }> = [];
  for (const t of tokens) {
    if (t.type.label !== 'regexp') continue;
    const { pattern, flags } = (t as unknown as { value: { pattern: string; flags: string } }).value;
    if (!/[uv]/.test(flags) || !PROPERTY_ESCAPE.test(pattern)) continue;
    let out: string;
    try {
      out = rewritePattern(pattern, flags, { unicodePropertyEscapes: 'transform', unicodeSetsFlag: flags.includes('v') ? 'transform' : false });
    } catch (e) {
      throw new FabricksError('JS_SYNTAX', `invalid regular expression /${pattern}/${flags} in the bundle: ${(e as Error).message}`, { hint: 'fix the regular expression' });
    }
    const text = `/${out}/${flags.replace('v', 'u')}`;
    edits.push({ start: t.start, end: t.end, text, line: t.loc!.start.line - 1, column: t.loc!.start.column });
  }
  if (edits.length === 0) return { code, map, rewritten: 0 };

  const lines = decode(map.mappings);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += code.slice(at, e.start) + e.text;
    at = e.end;
  }
  out += code.slice(at);
  // a literal holds no line break, so only its line's later columns move; right to left, so each
  // edit compares against columns the edits before it have not moved yet
  for (const e of [...edits].reverse()) {
    const delta = e.text.length - (e.end - e.start);
    for (const seg of lines[e.line] ?? []) if (seg[0] > e.column) seg[0] += delta;
  }
  return { code: out, map: { ...map, mappings: encode(lines) }, rewritten: edits.length };
}
