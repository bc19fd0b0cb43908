import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleEntrypoint } from '../../src/runtimes/node/bundle.js';
import { markAhead, placeAhead } from '../../src/runtimes/node/bundle-ahead.js';

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

/** What ran before the gate and after it: the runtime's split, evaluated here (Node has the same semantics). */
async function steps(code: string, word = 'await'): Promise<string[][]> {
  const mark = /\n\/\/# fabricksAhead=(\d+) (await|yield)\n?$/.exec(code);
  expect(mark?.[2], 'the bundle is marked').toBe(word);
  const at = Number(mark![1]);
  const g = globalThis as { order?: string[]; __fabricksAhead?: () => Promise<void> };
  g.order = [];
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  let reached = false;
  g.__fabricksAhead = () => {
    reached = true;
    return gate;
  };
  const main = (0, eval)(`(async () => {${code.slice(0, at)};${word} __fabricksAhead();${code.slice(at)}\n})`)() as Promise<unknown>;
  for (let i = 0; i < 20 && !reached; i++) await null;
  expect(reached, 'the bundle reached its gate').toBe(true);
  const ahead = g.order.splice(0);
  open();
  await main;
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

  it('waits with yield where async functions are lowered to generators (async_hooks)', async () => {
    const code = await bundle({
      ...DEPS,
      'main.js': "import { AsyncLocalStorage } from 'node:async_hooks';\nimport { y } from 'esm-dep';\nawait null;\nglobalThis.order.push('main ' + y + ' ' + typeof AsyncLocalStorage);\n",
    });
    expect(code).not.toContain('__fabricksAheadPlace');
    expect(await steps(code, 'yield')).toEqual([['esm-dep'], ['main 2 function']]);
  });

  it('places nothing when the entry cannot be found, or no statement ends before it', () => {
    expect(placeAhead('a();\n// other.js\nb();\n', 'main.js')).toBe('a();\n// other.js\nb();\n');
    expect(placeAhead('// a comment\n\n// main.js\nb();\n', 'main.js')).toBe('// a comment\n\n// main.js\nb();\n');
    const placed = placeAhead('a();\n\n// main.js\nb();\n', 'main.js');
    expect(placed).toBe('a();__fabricksAheadPlace();\n\n// main.js\nb();\n');
    // blanked with spaces: no column moves
    expect(markAhead(placed, false)).toBe(`a();${' '.repeat(23)}\n\n// main.js\nb();\n//# fabricksAhead=4 await\n`);
    expect(markAhead('a();\n', false)).toBe('a();\n');
  });
});
