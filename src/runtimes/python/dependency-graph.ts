import { normalizeName } from '../../tools/package-index.js';

/**
 * The graph pip's resolution report describes, read for one question: which packages the
 * project needs whatever happens, and which only an optional feature needs. A package reached
 * only through an extra (`pyjwt[crypto]` brings `cryptography`) is optional: the package that
 * names the extra imports it inside `try: ... except ModuleNotFoundError`, as PyJWT does, so
 * when fabricks cannot build it, the build can go on without it.
 */

export interface GraphNode {
  name: string;
  version: string;
  /** Named in the requirements themselves. */
  requested: boolean;
  dependencies: Array<{ name: string; extra?: string }>;
}

export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>();

  constructor(nodes: GraphNode[]) {
    for (const n of nodes) this.nodes.set(normalizeName(n.name), n);
  }

  private get(name: string): GraphNode | undefined {
    return this.nodes.get(normalizeName(name));
  }

  /** The packages of the resolution each dependency line of `node` names. */
  private edges(node: GraphNode): Array<{ to: GraphNode; extra?: string }> {
    const out: Array<{ to: GraphNode; extra?: string }> = [];
    for (const d of node.dependencies) {
      const to = this.get(d.name);
      if (to && to !== node) out.push(d.extra ? { to, extra: d.extra } : { to });
    }
    return out;
  }

  private walk(follow: (edge: { to: GraphNode; extra?: string }) => boolean): Map<GraphNode, { from: GraphNode; extra?: string } | undefined> {
    const seen = new Map<GraphNode, { from: GraphNode; extra?: string } | undefined>();
    const queue = [...this.nodes.values()].filter((n) => n.requested);
    for (const n of queue) seen.set(n, undefined);
    while (queue.length) {
      const node = queue.shift()!;
      for (const edge of this.edges(node)) {
        if (seen.has(edge.to) || !follow(edge)) continue;
        seen.set(edge.to, edge.extra ? { from: node, extra: edge.extra } : { from: node });
        queue.push(edge.to);
      }
    }
    return seen;
  }

  /** Whether the project needs `name` without any extra: a requirement of its own, or a plain dependency of one. */
  required(name: string): boolean {
    const node = this.get(name);
    return node !== undefined && this.walk((e) => e.extra === undefined).has(node);
  }

  /**
   * The shortest chain of packages that brings `name` in, from a requirement of the project to
   * the package that requires it, an extra written as pip spells it: ['mcp', 'pyjwt[crypto]'].
   * For a package the project needs without any extra, a chain without extras. Empty when the
   * project requires it itself.
   */
  chain(name: string): string[] {
    const node = this.get(name);
    const plain = this.walk((e) => e.extra === undefined);
    const parents = node && plain.has(node) ? plain : this.walk(() => true);
    if (!node || !parents.has(node)) return [];
    const out: string[] = [];
    let at = parents.get(node);
    while (at) {
      out.unshift(at.extra ? `${at.from.name}[${at.extra}]` : at.from.name);
      at = parents.get(at.from);
    }
    return out;
  }

  /** The plain (not extra) dependencies of `name` that are in `names`. */
  requiresAnyOf(name: string, names: Set<string>): string | undefined {
    const node = this.get(name);
    if (!node) return undefined;
    return this.edges(node).find((e) => e.extra === undefined && names.has(normalizeName(e.to.name)))?.to.name;
  }

  /** The packages still reached from the project's requirements when `without` are left out. */
  reachableWithout(without: Set<string>): Set<string> {
    const keep = this.walk((e) => !without.has(normalizeName(e.to.name)));
    return new Set([...keep.keys()].filter((n) => !without.has(normalizeName(n.name))).map((n) => normalizeName(n.name)));
  }
}

/** `(required by a → b[x])`: who brings a package in, for messages. */
export function chainText(chain: string[]): string {
  return chain.length ? `required by ${chain.join(' → ')}` : 'required by the project';
}
