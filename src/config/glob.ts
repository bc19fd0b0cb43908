/**
 * Globs over '/'-separated paths relative to the source folder: `*` and `?` stay within one
 * segment, `**` crosses segments, `{a,b}` alternates. A pattern without '/' matches at any depth
 * (as in .gitignore), and a pattern that matches a folder matches everything under it.
 *
 * A glob is matched by a small automaton that reads the path once, keeping every place in the
 * pattern it could be at (Thompson's construction), not by a RegExp: a RegExp of many stars
 * backtracks for ages on a path that almost matches (`*`.repeat(40) + 'x'), and a long one is
 * too large for V8 to compile. This way a match costs at most path length × pattern length.
 */

/** The longest pattern `[source] include` and `exclude` take; a real glob is far shorter. */
export const MAX_PATTERN_LENGTH = 1024;

export interface Glob {
  test(path: string): boolean;
}

type Token =
  | { t: 'char'; code: number }
  /** `?`: one character of a segment. */
  | { t: 'one' }
  /** `*`: any characters within one segment. */
  | { t: 'star' }
  /** `**` not followed by '/': any characters, across segments. */
  | { t: 'any' }
  /** `**` followed by '/': any number of whole segments. */
  | { t: 'segments' }
  | { t: 'alternatives'; options: Token[][] };

const SLASH = 0x2f;

function tokenize(p: string, braces: boolean): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      const last = tokens[tokens.length - 1];
      if (p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          if (last?.t !== 'segments') tokens.push({ t: 'segments' });
        } else if (last?.t === 'star' || last?.t === 'any') tokens[tokens.length - 1] = { t: 'any' };
        else tokens.push({ t: 'any' });
        // a run of stars is one star (or one `**`): the same matches, read in one step
      } else if (last?.t !== 'star' && last?.t !== 'any') tokens.push({ t: 'star' });
    } else if (c === '?') tokens.push({ t: 'one' });
    else if (c === '{' && braces && p.indexOf('}', i) > 0) {
      const end = p.indexOf('}', i);
      tokens.push({ t: 'alternatives', options: p.slice(i + 1, end).split(',').map((o) => tokenize(o, false)) });
      i = end;
    } else tokens.push({ t: 'char', code: p.charCodeAt(i) });
  }
  return tokens;
}

/** What a state reads: this character code, or any character but '/', or any character. */
const NOT_SLASH = -1;
const ANYTHING = -2;

/** A state reads one character (`reads`) and goes on to out[0], or reads none and goes on to all of out. */
interface State {
  reads?: number;
  out: number[];
}

/** Where the automaton may be after reading some characters: a set of reading states. */
interface Place {
  states: number[];
  matched: boolean;
  /** The place after reading a character code, once worked out. */
  next: Map<number, Place>;
}

/** Places remembered per glob; past this, new ones are worked out each time (memory stays bounded). */
const MAX_PLACES = 2048;

export function compileGlob(pattern: string): Glob {
  let p = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  if (!p.includes('/')) p = `**/${p}`;
  const states: State[] = [{ out: [] }]; // 0: the match
  const MATCH = 0;
  const add = (s: State) => states.push(s) - 1;
  /** Reading `reads` zero or more times, then `next`. */
  const loop = (reads: number, next: number) => {
    const split = add({ out: [] });
    states[split]!.out = [add({ reads, out: [split] }), next];
    return split;
  };
  // built from the end backwards, so each part knows the state that follows it
  const sequence = (tokens: Token[], next: number): number => {
    for (let i = tokens.length - 1; i >= 0; i--) next = part(tokens[i]!, next);
    return next;
  };
  const part = (token: Token, next: number): number => {
    switch (token.t) {
      case 'char':
        return add({ reads: token.code, out: [next] });
      case 'one':
        return add({ reads: NOT_SLASH, out: [next] });
      case 'star':
        return loop(NOT_SLASH, next);
      case 'any':
        return loop(ANYTHING, next);
      case 'segments': {
        // (one or more characters but '/', then '/') zero or more times
        const split = add({ out: [] });
        const slash = add({ reads: SLASH, out: [split] });
        const more = add({ out: [] });
        const name = add({ reads: NOT_SLASH, out: [more] });
        states[more]!.out = [name, slash];
        states[split]!.out = [name, next];
        return split;
      }
      case 'alternatives':
        return add({ out: token.options.map((o) => sequence(o, next)) });
    }
  };
  // a pattern that matches a folder matches everything under it
  const under = add({ reads: SLASH, out: [loop(ANYTHING, MATCH)] });
  const start = sequence(tokenize(p, true), add({ out: [MATCH, under] }));

  // Thompson's simulation, remembering each set of states met (a DFA built as it is needed): a
  // character costs one lookup once its place is known, at most states × 1 when it is new
  const seen = new Int32Array(states.length).fill(-1);
  let round = 0;
  const places = new Map<string, Place>();
  const placeOf = (from: number[]): Place => {
    round++;
    const found: number[] = [];
    const stack = [...from];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (seen[s] === round) continue;
      seen[s] = round;
      const state = states[s]!;
      if (state.reads !== undefined || s === MATCH) found.push(s);
      else for (const o of state.out) stack.push(o);
    }
    found.sort((a, b) => a - b);
    const key = found.join(',');
    const known = places.get(key);
    if (known) return known;
    const place: Place = { states: found.filter((s) => s !== MATCH), matched: found[0] === MATCH, next: new Map() };
    if (places.size < MAX_PLACES) places.set(key, place);
    return place;
  };
  const step = (place: Place, code: number): Place => {
    const known = place.next.get(code);
    if (known) return known;
    const to: number[] = [];
    for (const s of place.states) {
      const reads = states[s]!.reads!;
      if (reads === code || reads === ANYTHING || (reads === NOT_SLASH && code !== SLASH)) to.push(states[s]!.out[0]!);
    }
    const next = placeOf(to);
    if (places.size < MAX_PLACES) place.next.set(code, next);
    return next;
  };
  const first = placeOf([start]);
  return {
    test(path: string): boolean {
      let place = first;
      for (let i = 0; i < path.length && place.states.length > 0; i++) place = step(place, path.charCodeAt(i));
      return place.matched;
    },
  };
}

export function matchesAny(path: string, patterns: Glob[]): boolean {
  return patterns.some((g) => g.test(path));
}

/** Why a pattern would reach outside the folder it is relative to, if it would. */
export function patternEscapes(pattern: string): string | undefined {
  if (pattern.startsWith('/') || /^[A-Za-z]:[\\/]/.test(pattern)) return 'is an absolute path';
  if (pattern.split(/[\\/]/).includes('..')) return 'goes up with ".."';
  return undefined;
}
