/**
 * Globs over '/'-separated paths relative to the source folder: `*` and `?` stay within one
 * segment, `**` crosses segments, `{a,b}` alternates. A pattern without '/' matches at any depth
 * (as in .gitignore), and a pattern that matches a folder matches everything under it.
 */
export function globToRegExp(pattern: string): RegExp {
  let p = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  if (!p.includes('/')) p = `**/${p}`;
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:[^/]+/)*';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = p.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${p.slice(i + 1, end).split(',').map(escape).join('|')})`;
        i = end;
      }
    } else re += escape(c);
  }
  return new RegExp(`^${re}(?:/.*)?$`);
}

function escape(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

export function matchesAny(path: string, patterns: RegExp[]): boolean {
  return patterns.some((re) => re.test(path));
}

/** Why a pattern would reach outside the folder it is relative to, if it would. */
export function patternEscapes(pattern: string): string | undefined {
  if (pattern.startsWith('/') || /^[A-Za-z]:[\\/]/.test(pattern)) return 'is an absolute path';
  if (pattern.split(/[\\/]/).includes('..')) return 'goes up with ".."';
  return undefined;
}
