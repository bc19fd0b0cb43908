import { buildPrelude, prependPrelude } from './bundle-prelude.js';
import { transformRegExpLiterals } from './regexp-transform.js';

interface SourceMap {
  sources: string[];
  mappings: string;
}

/**
 * What the runtime's engine needs done to an esbuild bundle before it can load it: regex
 * literals with Unicode property escapes rewritten, and the prelude (run-time RegExp rewriting,
 * String.prototype.normalize) put in front when the bundle needs it. The source map follows.
 */
export async function finishBundle(code: string, map: SourceMap): Promise<{ code: string; map: SourceMap }> {
  const literals = transformRegExpLiterals(code, map);
  const prelude = await buildPrelude(literals.code);
  return prelude ? prependPrelude(literals.code, literals.map, prelude) : { code: literals.code, map: literals.map };
}
