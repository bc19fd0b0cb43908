import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPrelude, prependPrelude } from './bundle-prelude.js';
import { transformRegExpLiterals } from './regexp-transform.js';

export interface SourceMap {
  sources: string[];
  mappings: string;
}

/**
 * What the runtime's engine needs done to an esbuild bundle before it can load it: regex
 * literals with Unicode property escapes rewritten, and the prelude (run-time RegExp rewriting,
 * String.prototype.normalize) put in front when the bundle needs it. The source map follows.
 */
export async function finishBundle(code: string, map: SourceMap): Promise<{ code: string; map: SourceMap; inputs: string[] }> {
  const literals = transformRegExpLiterals(code, map);
  const prelude = await buildPrelude(literals.code);
  // what made the result, beside the user's files: a fabricks whose rewriting or prelude
  // differs does not reuse this bundle from the build cache
  const inputs = [...(prelude?.inputs ?? []), ...MADE_BY];
  return prelude ? { ...prependPrelude(literals.code, literals.map, prelude), inputs } : { code: literals.code, map: literals.map, inputs };
}

// .js when run from dist/, .ts under the test runner
const ext = extname(fileURLToPath(import.meta.url));
const MADE_BY = ['bundle-finish', 'bundle-ahead', 'async-lowering', 'bundle-prelude', 'intl-prelude', 'regexp-transform', 'node-modules', 'module-meta', 'packed-assets', 'unavailable-builtins', 'missing-packages'].map((f) => fileURLToPath(new URL(`./${f}${ext}`, import.meta.url)));
