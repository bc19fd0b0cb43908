// Put in front of a bundle that builds regular expressions with Unicode property escapes at run
// time (`new RegExp('\\p{L}', 'u')`): SpiderMonkey in the runtime has no Unicode property data,
// so such patterns are rewritten with regexpu-core into plain character classes first. Only the
// properties the bundle's text names are included (see src/builder/bundle-prelude.ts).
import { missing } from 'fabricks:unicode-data';

// loaded on the first pattern that needs it, not at start-up: it is large and many programs
// never build such a pattern
let rewritePattern;

const NativeRegExp = globalThis.RegExp;
const HAS_ESCAPE = /\\[pP]\{/;

function translate(pattern, flags) {
  if (typeof pattern !== 'string' || typeof flags !== 'string' || !/[uv]/.test(flags) || !HAS_ESCAPE.test(pattern)) return [pattern, flags];
  missing.length = 0;
  rewritePattern ??= require('regexpu-core');
  try {
    return [rewritePattern(pattern, flags, { unicodePropertyEscapes: 'transform', unicodeSetsFlag: flags.includes('v') ? 'transform' : false }), flags.includes('v') ? flags.replace('v', 'u') : flags];
  } catch (e) {
    const detail = missing.length > 0 ? `its Unicode property (${missing[0]}) was not named anywhere in the bundle's text at build time, and fabricks includes the data of those only` : e.message;
    throw new SyntaxError(`Invalid regular expression: /${pattern}/${flags}: ${detail}`);
  }
}

function sourceAndFlags(pattern, flags) {
  if (pattern instanceof NativeRegExp) return [pattern.source, flags === undefined ? pattern.flags : String(flags)];
  return [pattern === undefined ? '(?:)' : String(pattern), flags === undefined ? '' : String(flags)];
}

globalThis.RegExp = new Proxy(NativeRegExp, {
  construct(target, [pattern, flags], newTarget) {
    if (pattern instanceof NativeRegExp && flags === undefined) return Reflect.construct(target, [pattern], newTarget === globalThis.RegExp ? target : newTarget);
    const [p, f] = translate(...sourceAndFlags(pattern, flags));
    return Reflect.construct(target, [p, f], newTarget === globalThis.RegExp ? target : newTarget);
  },
  apply(target, thisArg, [pattern, flags]) {
    if (pattern instanceof NativeRegExp && flags === undefined) return target(pattern);
    return new target(...translate(...sourceAndFlags(pattern, flags)));
  },
});
