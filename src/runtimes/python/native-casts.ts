/**
 * WebAssembly checks a function's type when it is called through a pointer; native code forgives
 * a call with more arguments than the function takes. C extensions often rely on that: a
 * METH_NOARGS method written with one parameter, cast to PyCFunction (two), or a one-parameter
 * getter cast to `getter` (two). Under the runtime such a slot traps when CPython calls it
 * ("indirect call type mismatch"). clang's -Wcast-function-type-mismatch finds the casts; the
 * ones to a type with more parameters are those that trap (a cast to one with fewer, such as
 * PyCFunctionWithKeywords to PyCFunction, is cast back before the call).
 */

/** One cast that traps when the slot is called: where, and the function type it hides. */
export interface NarrowingCast {
  at: string;
  from: string;
  to: string;
}

const WARNING = /^(\S+:\d+:\d+): warning: cast from '([^']+)'(?: \(aka '([^']+)'\))? to '([^']+)'(?: \(aka '([^']+)'\))? converts to incompatible function type \[-Wcast-function-type-mismatch\]/;

/** The casts in a build log (clang's warnings, once each) that give a function more parameters than it takes. */
export function narrowingCasts(log: string): NarrowingCast[] {
  const found = new Map<string, NarrowingCast>();
  for (const raw of log.split('\n')) {
    const line = raw.replace(/^\s*\d{4}-\d\d-\d\dT[\d:.,]+Z?\s*/, '').trim();
    const m = WARNING.exec(line);
    if (!m) continue;
    const from = m[3] ?? m[2]!;
    const to = m[5] ?? m[4]!;
    const [have, want] = [parameterCount(from), parameterCount(to)];
    if (have === undefined || want === undefined || have >= want) continue;
    found.set(m[1]!, { at: m[1]!, from: m[2]!, to: m[4]! });
  }
  return [...found.values()];
}

/** The number of parameters of a function pointer type as clang spells it ('T *(*)(A *, B)'), or undefined. */
export function parameterCount(type: string): number | undefined {
  const t = type.trim();
  if (!t.endsWith(')')) return undefined;
  let depth = 0;
  let commas = 0;
  for (let i = t.length - 1; i >= 0; i--) {
    const c = t[i];
    if (c === ')') depth++;
    else if (c === '(') {
      depth--;
      if (depth === 0) {
        const inside = t.slice(i + 1, -1).trim();
        return inside === '' || inside === 'void' ? 0 : commas + 1;
      }
    } else if (c === ',' && depth === 1) commas++;
  }
  return undefined;
}
