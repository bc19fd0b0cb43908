import { secretReason } from './secrets.js';

/**
 * Environment variable names as `[capabilities.env]` takes them: names, or globs with `*` and `?`
 * in `allow`. A secret (by its name or its value, secrets.ts) passes only when named exactly,
 * never through a glob.
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATTERN = /^[A-Za-z0-9_*?]+$/;

export const isEnvName = (s: string) => NAME.test(s);
export const isEnvPattern = (s: string) => PATTERN.test(s) && /[A-Za-z0-9_]|\*/.test(s);
export const isGlob = (s: string) => /[*?]/.test(s);

/**
 * Whether `pattern` (`*`: any characters, `?`: one) matches all of `name`. On a mismatch it goes
 * back to the last `*` only, so a match costs at most pattern × name steps; a RegExp of many
 * `.*` would backtrack for ages on a long name that almost matches.
 */
export function globMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.length && (pattern[p] === '?' || pattern[p] === name[n])) {
      p++;
      n++;
    } else if (star >= 0) {
      // the last star takes one more character, and the rest is tried again after it
      p = star + 1;
      n = ++resume;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether a pattern (not an exact name) in `allow` matches `name`. */
export function matchedByPattern(allow: readonly string[], name: string): boolean {
  return allow.some((p) => isGlob(p) && globMatches(p, name));
}

/**
 * Whether `allow` lets a variable through: named exactly, or matched by a glob when neither its
 * name nor its value (when known) makes it a secret.
 */
export function allowedVariable(allow: readonly string[], name: string, value: string | undefined): boolean {
  if (allow.includes(name)) return true;
  return matchedByPattern(allow, name) && secretReason(name, value) === undefined;
}
