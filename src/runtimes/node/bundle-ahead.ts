/**
 * Where a bundle's dependencies end and the entry module's own code begins, for the runtime's
 * stage B (guest/node/bootstrap/prepare.js): it evaluates the bundle up to there ahead, in the
 * app's snapshot, and the rest at start. Marked by a last line, `//# fabricksAhead=<offset>
 * <await|yield>`: the offset in UTF-16 code units of the bundle's text, and the word that waits
 * there (`yield` in a bundle whose async functions are lowered to generators, async-lowering.ts).
 * A comment to every other reader, after the code, so no line or column of the bundle moves.
 *
 * esbuild (format esm) writes the ES modules an entry imports before its own code, each after a
 * `// <path>` line, and splits the entry around them: its first part holds the CommonJS imports
 * (`var import_x = __toESM(require_x());`), its last part, after the last `// <entry path>` line,
 * its own statements. CommonJS modules are `__commonJS` wrappers run when first required. The
 * mark goes after the last part's leading import statements (the injected modules' `init_*()`
 * calls, `require_*()` and `__toESM(require_*())` bindings): they run the entry's imports, which
 * an ES module evaluates before its body anyway, in the order they are written. A CommonJS entry
 * (a `__commonJS` wrapper itself) runs whole at start.
 *
 * The place is found in esbuild's output, where the `// <path>` lines are, and held by a call
 * written there (`placeAhead`) through what rewrites the bundle after (the async lowering drops
 * comments); `markAhead` blanks the call out with spaces and writes the mark.
 */

const PLACE = '__fabricksAheadPlace();';

/** The entry's statements that only evaluate its imports, one a line, as esbuild writes them. */
const BINDING = String.raw`var (?:[\w$]+|\{[\w$:, ]*\})`;
const IMPORT_LINES = [
  /^init_[\w$]+\(\);$/,
  new RegExp(String.raw`^${BINDING} = (?:__toESM\(require_[\w$]+\(\)(?:, 1)?\)|require_[\w$]+\(\));$`),
  new RegExp(String.raw`^${BINDING} = \(init_[\w$]+\(\), __toCommonJS\([\w$]+\)\);$`),
];

/**
 * esbuild's bundle `code` with the place held for the entry written at `entryPath` (the path
 * esbuild names it by in its `// <path>` lines), or as it is when no place can be found.
 */
export function placeAhead(code: string, entryPath: string): string {
  const comment = `\n// ${entryPath}\n`;
  const start = code.lastIndexOf(comment);
  if (start < 0 || code.includes(PLACE)) return code;
  let at = -1;
  // the last line before the comment, when it ends a statement (a comment there would swallow the call)
  let end = start;
  while (end > 0 && code[end - 1] === '\n') end--;
  const before = code.slice(code.lastIndexOf('\n', end - 1) + 1, end);
  if ((before.endsWith(';') || before === '}') && !before.startsWith('//')) at = end;
  for (let line = start + comment.length; line < code.length; ) {
    const next = code.indexOf('\n', line);
    const text = code.slice(line, next < 0 ? code.length : next);
    if (!IMPORT_LINES.some((re) => re.test(text))) break;
    at = next < 0 ? code.length : next;
    if (next < 0) break;
    line = next + 1;
  }
  return at < 0 ? code : `${code.slice(0, at)}${PLACE}${code.slice(at)}`;
}

/** The finished bundle with the held place blanked out and marked (`lowered`: its async functions are generators). */
export function markAhead(code: string, lowered: boolean): string {
  const at = code.lastIndexOf(PLACE);
  if (at < 0) return code;
  const blank = `${code.slice(0, at)}${' '.repeat(PLACE.length)}${code.slice(at + PLACE.length)}`;
  return `${blank}${blank.endsWith('\n') ? '' : '\n'}//# fabricksAhead=${at} ${lowered ? 'yield' : 'await'}\n`;
}
