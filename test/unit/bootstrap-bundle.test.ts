import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { bundleBootstrap } from '../../src/runtimes/node/bootstrap-bundle.js';

const dir = join(repoRoot, 'guest', 'node', 'bootstrap');
const modules = () => readdirSync(dir).filter((n) => n.endsWith('.js'));
const importsOf = (name: string) => [...readFileSync(join(dir, name), 'utf8').matchAll(/^(?:import|export) [^;]*? from '\.\/([^']+)';$/gm)].map((m) => m[1]!);

describe("the JavaScript runtime's bootstrap (guest/node/bootstrap)", () => {
  it('imports one way: no cycle, so each module finds what its top level uses already defined', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (n: string, path: string[]) => {
      state.set(n, 'open');
      for (const m of importsOf(n)) {
        if (state.get(m) === 'open') cycles.push([...path.slice(path.indexOf(m)), m].join(' -> '));
        else if (!state.has(m)) visit(m, [...path, m]);
      }
      state.set(n, 'done');
    };
    visit('index.js', ['index.js']);
    expect(cycles).toEqual([]);
    // and every module is part of the runtime
    expect([...state.keys()].sort()).toEqual(modules().sort());
  });

  it("takes the host's interfaces from host.js only", () => {
    const direct = modules().filter((n) => n !== 'host.js' && /from '(wasi|fabricks):/.test(readFileSync(join(dir, n), 'utf8')));
    expect(direct).toEqual([]);
  });

  it('bundles into one script that imports each host interface once and exports run, incomingHandler and prepare', async () => {
    const code = await bundleBootstrap(join(dir, 'index.js'));
    const specs = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
    expect(specs).toContain('fabricks:app/source@0.1.0');
    expect(specs.filter((s) => !/^(wasi|fabricks):/.test(s))).toEqual([]);
    expect(new Set(specs).size).toBe(specs.length);
    expect(code).toMatch(/^export \{\s*incomingHandler,\s*prepare,\s*run\s*\};/m);
  });
});
