import { describe, expect, it } from 'vitest';
import { builtinModules } from 'node:module';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { SERVED_NODE_MODULES } from '../../src/runtimes/node/node-modules.js';

/** docs/javascript.md has a row for every Node built-in, and says "not provided" only of those the runtime does not serve. */
describe('docs/javascript.md, the table of Node built-ins', () => {
  it('names every built-in of this Node once, and each served one as served', async () => {
    const docs = await readFile(join(repoRoot, 'docs', 'javascript.md'), 'utf8');
    const table = docs.slice(docs.indexOf('Every built-in of Node'), docs.indexOf('A module **not provided**'));
    const rows = [...table.matchAll(/^\| ([^|]+) \| ([^|]+) \|/gm)].slice(2);
    const status = new Map<string, string>();
    for (const [, names, state] of rows) {
      for (const [, name] of names!.matchAll(/`([^`]+)`/g)) {
        expect(status.has(name!), `${name} is listed twice`).toBe(false);
        status.set(name!, state!.trim());
      }
    }
    const covered = (name: string) => status.has(name) || [...status.keys()].some((k) => k.endsWith('*') && name.startsWith(k.slice(0, -1)));
    expect(builtinModules.filter((m) => !covered(m))).toEqual([]);
    for (const name of SERVED_NODE_MODULES) {
      const state = status.get(name) ?? [...status.entries()].find(([k]) => k.endsWith('*') && name.startsWith(k.slice(0, -1)))?.[1];
      expect(state, name).toMatch(/^(provided|partial|refused at use)$/);
    }
  });
});
