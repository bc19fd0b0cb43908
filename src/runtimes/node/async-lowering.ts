import type { SourceMap } from './bundle-finish.js';

/**
 * A bundle whose async functions are generators driven by promise `.then` (esbuild's own
 * transform), so that node:async_hooks' AsyncLocalStorage keeps its store after an `await`: the
 * polyfill wraps `.then`, while the engine resumes a native `await` itself, with no hook for the
 * runtime to restore the store. esbuild cannot lower `await` and keep top-level `await`, so the
 * whole bundle is lowered as the body the runtime runs it as (an async arrow, entry.js): it
 * becomes `return (async () => { bundle })()`, and nothing is at top level. The source map goes
 * through the transform, so errors still point at the user's files.
 */
export async function lowerAsync(esbuild: typeof import('esbuild'), code: string, map: SourceMap): Promise<{ code: string; map: SourceMap }> {
  const body = code.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n');
  const inline = Buffer.from(JSON.stringify({ version: 3, names: [], ...map })).toString('base64');
  const lowered = await esbuild.transform(`return (async () => {${body}\n})();\n//# sourceMappingURL=data:application/json;base64,${inline}`, {
    loader: 'js',
    sourcemap: 'external',
    sourcesContent: false,
    supported: { 'async-await': false, 'async-generator': false, 'for-await': false },
    logLevel: 'silent',
  });
  const out = JSON.parse(lowered.map) as SourceMap;
  return { code: lowered.code, map: { sources: out.sources, mappings: out.mappings } };
}
