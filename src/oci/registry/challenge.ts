/** A `WWW-Authenticate` challenge (RFC 7235) as registries send it: Basic or Bearer with params. */
export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

const PARAM = /([a-zA-Z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;

/** Parses the first Basic or Bearer challenge in a header; other schemes are ignored. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(basic|bearer)\b(.*)$/i.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase() as Challenge['scheme'];
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(PARAM)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme, params };
}

/** `repository:<name>:<actions>` scopes, merged so each repository appears once. */
export function mergeScopes(scopes: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    for (const one of scope.split(' ')) {
      const i = one.lastIndexOf(':');
      if (i < 0) continue;
      const resource = one.slice(0, i);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const a of one.slice(i + 1).split(',')) if (a) actions.add(a);
      byResource.set(resource, actions);
    }
  }
  return [...byResource.entries()].map(([r, a]) => `${r}:${[...a].sort().join(',')}`).sort();
}

export const pullScope = (repository: string) => `repository:${repository}:pull`;
export const pushScope = (repository: string) => `repository:${repository}:pull,push`;
