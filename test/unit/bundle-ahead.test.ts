import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleEntrypoint } from '../../src/runtimes/node/bundle.js';
import { markAhead } from '../../src/runtimes/node/bundle-ahead.js';

// The mark of stage B (src/runtimes/node/bundle-ahead.ts): evaluated as the runtime's prepare
// does (guest/node/bootstrap/prepare.js), the first step runs every dependency's top level and
// none of the entry's own statements, the second the rest, in the order of the plain bundle.

const pkg = (name: string, esm: boolean) => JSON.stringify({ name, version: '1.0.0', main: 'index.js', ...(esm ? { type: 'module' } : {}) });
const DEPS = {
  'node_modules/esm-dep/package.json': pkg('esm-dep', true),
  'node_modules/esm-dep/index.js': "globalThis.order.push('esm-dep');\nexport const y = 2;\n",
  'node_modules/cjs-dep/package.json': pkg('cjs-dep', false),
  'node_modules/cjs-dep/index.js': "globalThis.order.push('cjs-dep');\nexports.x = 1;\n",
  'lib.js': "globalThis.order.push('lib');\nexport const z = 3;\n",
};

async function bundle(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fabricks-bundle-ahead-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return new TextDecoder().decode((await bundleEntrypoint(dir, 'main.js')).code);
}

/** What each step ran: the runtime's split, evaluated here (Node has the same semantics). */
async function steps(code: string): Promise<string[][]> {
  const at = Number(/\n\/\/# fabricksAhead=(\d+)\n?$/.exec(code)?.[1]);
  expect(Number.isInteger(at), 'the bundle is marked').toBe(true);
  const g = globalThis as { order?: string[]; Buffer?: unknown };
  g.order = [];
  const gen = (0, eval)(`(async function* () {${code.slice(0, at)};yield;${code.slice(at)}\n})`)() as AsyncGenerator;
  const first = await gen.next();
  expect(first.done).toBe(false);
  const ahead = g.order.splice(0);
  expect((await gen.next()).done).toBe(true);
  return [ahead, g.order];
}

describe('the mark of where the entry module begins (stage B)', () => {
  it("puts every dependency's top level, ES and CommonJS, before it, and the entry's statements after", async () => {
    const code = await bundle({
      ...DEPS,
      'main.js': "import { x } from 'cjs-dep';\nimport { y } from 'esm-dep';\nimport { z } from './lib.js';\nglobalThis.order.push('main ' + (x + y + z));\n",
    });
    expect(await steps(code)).toEqual([['cjs-dep', 'esm-dep', 'lib'], ['main 6']]);
  });

  it("takes an entry's leading require() bindings ahead, not what follows them", async () => {
    const code = await bundle({
      ...DEPS,
      'main.js': "const { x } = require('cjs-dep');\nconst { y } = require('esm-dep');\nglobalThis.order.push('main ' + (x + y));\nconst { z } = require('./lib.js');\nglobalThis.order.push('late ' + z);\n",
    });
    expect(await steps(code)).toEqual([['cjs-dep', 'esm-dep'], ['main 3', 'lib', 'late 3']]);
  });

  it('marks nothing when the entry cannot be found, or no statement ends before it', () => {
    expect(markAhead('a();\n// other.js\nb();\n', 'main.js')).toBe('a();\n// other.js\nb();\n');
    expect(markAhead('// a comment\n\n// main.js\nb();\n', 'main.js')).toBe('// a comment\n\n// main.js\nb();\n');
    expect(markAhead('a();\n\n// main.js\nb();\n', 'main.js')).toBe('a();\n\n// main.js\nb();\n//# fabricksAhead=4\n');
  });
});
