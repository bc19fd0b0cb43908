import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../helpers.js';
import { BUILTIN_RUNTIMES } from '../../src/runtimes/catalogue.js';

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
const ORDER = ['cli', 'app', 'gateway', 'clients', 'builder', 'runtimes', 'artifact', 'compose', 'tools', 'engine', 'home', 'config', 'oci', 'util'];

/** The runtime modules: one folder of src/runtimes/ per kind of runtime, holding all it knows of its language. */
const runtimesDir = join(src, 'runtimes');
const runtimeFolders = () => readdirSync(runtimesDir).filter((n) => statSync(join(runtimesDir, n)).isDirectory());
const inRuntimeModule = (file: string) => runtimeFolders().some((n) => file.startsWith(join(runtimesDir, n) + '/'));

/** A file's code without its comments (line comments, and lines of block comments). */
const codeOf = (text: string) => text.replace(/^[ \t]*(\/\/|\*|\/\*).*$/gm, '').replace(/[ \t]\/\/ .*$/gm, '');

/**
 * The lines of `text` that decide something by a language: a comparison, a `case` or a
 * startsWith/endsWith/includes against a name in `words` (a runtime's name, its language, the
 * tool that builds it, its file extensions), or a `.language` or `.tool` compared with any
 * literal (a language fabricks does not know yet included).
 */
function languageBranches(text: string, words: string[]): number[] {
  const alt = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const q = `['"\`]`;
  const patterns = [
    new RegExp(`[!=]==?\\s*${q}(?:${alt})${q}`),
    new RegExp(`${q}(?:${alt})${q}\\s*[!=]==?`),
    new RegExp(`\\bcase\\s+${q}(?:${alt})${q}`),
    new RegExp(`\\.startsWith\\(\\s*${q}(?:${alt})`),
    new RegExp(`\\.(?:endsWith|includes)\\(\\s*${q}(?:${alt})${q}`),
    new RegExp(`\\.(?:language|tool)\\s*[!=]==?\\s*${q}|${q}\\s*[!=]==?\\s*[\\w.]+\\.(?:language|tool)\\b`),
  ];
  return codeOf(text)
    .split('\n')
    .flatMap((line, i) => (patterns.some((re) => re.test(line)) ? [i + 1] : []));
}

/** Every word that names a language: each built-in runtime's name, language, builder tool and file extensions. */
async function languageWords(): Promise<string[]> {
  const words = new Set<string>();
  for (const rt of BUILTIN_RUNTIMES) {
    words.add(rt.name);
    words.add(rt.kind.language);
    words.add((await rt.kind.builder()).tool);
    for (const ext of rt.kind.extensions) words.add(ext);
  }
  return [...words];
}

describe('runtimes as plug-ins', () => {
  it('has a folder of src/runtimes/ for each kind of runtime in the catalogue, and no other', () => {
    const kinds = new Set(BUILTIN_RUNTIMES.map((r) => r.kind));
    expect(runtimeFolders().length).toBe(kinds.size);
    for (const rt of BUILTIN_RUNTIMES) expect(runtimeFolders(), rt.name).toContain(rt.name);
  });

  it('branches on a language only inside the runtime modules', async () => {
    const words = await languageWords();
    expect(words).toEqual(expect.arrayContaining(['python', 'javascript', 'node', 'componentize-js', '.py']));
    const branches = files(src)
      .filter((f) => !inRuntimeModule(f))
      .flatMap((f) => languageBranches(readFileSync(f, 'utf8'), words).map((line) => `${relative(src, f)}:${line}`));
    expect(branches).toEqual([]);
  });

  it('finds a language branch when there is one (the check itself works)', () => {
    const words = ['python', 'javascript', 'componentize-py', '.py'];
    const text = [
      "if (runtime.language === 'python') pack();",
      "const packed = language !== 'javascript' ? a : b;",
      "  case 'componentize-py':",
      "if (name.startsWith('python')) x();",
      "if (file.endsWith('.py')) y();",
      "if (kind.language == 'ruby') z();",
      'const kind = KINDS.find((k) => k.language === language);',
      "if (name.endsWith('.json')) w();",
      "// runtime.language === 'python' in a comment is not code",
      "const hint = 'point entrypoint at a python file';",
    ].join('\n');
    expect(languageBranches(text, words)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('lets only the catalogue reach into a runtime module', () => {
    const catalogue = join(runtimesDir, 'catalogue.ts');
    const reached = files(src)
      .filter((f) => f !== catalogue)
      .flatMap((f) => imports(f).filter((t) => inRuntimeModule(t) && !(inRuntimeModule(f) && relative(runtimesDir, t).split('/')[0] === relative(runtimesDir, f).split('/')[0])).map((t) => `${relative(src, f)} -> ${relative(src, t)}`));
    expect(reached).toEqual([]);
  });
});

describe('the top level', () => {
  it('has only the folders the table in docs/architecture.md lists', () => {
    // made by tools, not kept: installed packages, compiled output, benchmark results
    const made = new Set(['node_modules', 'dist', 'bench-results']);
    const folders = readdirSync(repoRoot).filter((n) => !n.startsWith('.') && !made.has(n) && statSync(join(repoRoot, n)).isDirectory());
    const doc = readFileSync(join(repoRoot, 'docs', 'architecture.md'), 'utf8');
    const listed = [...doc.matchAll(/^\| `([^`/<]+)[^`]*` \|/gm)].map((m) => m[1]!);
    expect(folders.sort()).toEqual([...new Set(listed.filter((n) => !n.startsWith('src/')))].sort());
  });
});

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
