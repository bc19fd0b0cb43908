import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../helpers.js';

const src = join(repoRoot, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The folder of src/ a file belongs to (its first path part). */
const room = (file: string) => relative(src, file).split('/')[0]!;

/** Every relative import of a file (static, type-only and dynamic), as absolute paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Folder-level import graph: room -> rooms it imports, with one file edge as the witness. */
function graph(): Map<string, Map<string, string>> {
  const g = new Map<string, Map<string, string>>();
  for (const file of files(src)) {
    const from = room(file);
    for (const target of imports(file)) {
      const to = room(target);
      if (to === from) continue;
      const edges = g.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${relative(src, file)} -> ${relative(src, target)}`);
      g.set(from, edges);
    }
  }
  return g;
}

/** The first cycle found between rooms, as the file imports that make it. */
function findCycle(g: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of g.get(n)?.keys() ?? []) {
      if (state.get(m) === 'open') {
        const loop = [...stack.slice(stack.indexOf(m)), m];
        return loop.slice(1).map((to, i) => g.get(loop[i]!)!.get(to)!);
      }
      if (!state.has(m)) {
        const found = visit(m);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of g.keys()) {
    if (!state.has(n)) {
      const found = visit(n);
      if (found) return found;
    }
  }
  return undefined;
}

/** The rooms, top to bottom (docs/architecture.md): a file imports only from its own room or one below. */
const ORDER = ['cli', 'app', 'builder', 'runtimes', 'artifact', 'compose', 'tools', 'engine', 'home', 'config', 'oci', 'util'];

describe('the structure of src/', () => {
  it('has only the rooms docs/architecture.md describes', () => {
    const rooms = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory() && files(join(src, n)).length > 0);
    expect(rooms.sort()).toEqual([...ORDER].sort());
    const doc = readFileSync(join(repoRoot, 'docs', 'architecture.md'), 'utf8');
    for (const r of ORDER) expect(doc).toContain(`src/${r}`);
  });

  it('imports downward only, in the documented order', () => {
    const upward = [...graph()].flatMap(([from, edges]) => [...edges].filter(([to]) => ORDER.indexOf(to) < ORDER.indexOf(from)).map(([, witness]) => witness));
    expect(upward).toEqual([]);
  });

  it('has no import cycle between its folders', () => {
    expect(findCycle(graph())).toBeUndefined();
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const g = new Map([
      ['a', new Map([['b', 'a/x.ts -> b/y.ts']])],
      ['b', new Map([['c', 'b/y.ts -> c/z.ts']])],
      ['c', new Map([['a', 'c/z.ts -> a/x.ts']])],
    ]);
    expect(findCycle(g)).toEqual(['a/x.ts -> b/y.ts', 'b/y.ts -> c/z.ts', 'c/z.ts -> a/x.ts']);
  });

  it('keeps every file in a folder that says what it holds', () => {
    expect(readdirSync(src).filter((n) => statSync(join(src, n)).isFile())).toEqual([]);
  });

  it('prints and exits only in the cli', () => {
    const offenders = files(src)
      .filter((f) => room(f) !== 'cli')
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(src, f)}:${i + 1}` }))
          .filter(({ line }) => !/^\s*(\/\/|\*|\/\*)/.test(line) && /process\.(stdout|stderr)\.write|console\.\w+\(|process\.exit\(/.test(line))
          .map(({ at }) => at),
      );
    expect(offenders).toEqual([]);
  });

  it('lets commands reach the core only through use cases', () => {
    const allowed = new Set(['cli', 'app', 'home', 'util']);
    const reached = files(join(src, 'cli')).flatMap((f) => imports(f).filter((t) => !allowed.has(room(t))).map((t) => `${relative(src, f)} -> ${relative(src, t)}`));
    expect(reached).toEqual([]);
  });

  it('has one engine, started in one place, and no host of its own in TypeScript', () => {
    const code = (f: string) => readFileSync(f, 'utf8').replace(/^\s*(\/\/|\*|\/\*).*$/gm, '');
    // the engine process is made only in src/engine/process.ts
    const starts = files(src).filter((f) => /new EngineProcess\(|spawn\([^)]*engineBinary|fabricks-engine['"]/.test(code(f)));
    expect(starts.map((f) => relative(src, f))).toEqual(['engine/process.ts']);
    // no second engine to choose: no in-process host, no engine switch (src/tools runs build
    // tools, jco's among them, never a guest)
    const second = files(src).filter((f) => room(f) !== 'tools' && /preview2-shim|jco-transpile\/transpile|FABRICKS_ENGINE\b(?!_BIN)|wasmtime-py|node:worker_threads/.test(code(f)));
    expect(second.map((f) => relative(src, f))).toEqual([]);
  });

  it('enforces grants in the engine only: the TypeScript side sends rules, it never judges a request', () => {
    const code = (f: string) => readFileSync(f, 'utf8');
    // resolving names, judging addresses and opening connections for a guest are the engine's
    const judges = files(src).filter((f) => /\bBlockList\b|checkAddress|checkName|node:dns|resolveAddresses|createConnection\(/.test(code(f)));
    expect(judges.map((f) => relative(src, f))).toEqual([]);
    const engine = readdirSync(join(repoRoot, 'crates', 'engine', 'src')).map((n) => readFileSync(join(repoRoot, 'crates', 'engine', 'src', n), 'utf8')).join('\n');
    expect(engine).toContain('fn check_name');
    expect(engine).toContain('fn check_address');
    expect(engine).toContain('fn checked_addresses');
  });
});
