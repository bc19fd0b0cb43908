import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asScript, CODE_CACHE_FILE, loadComponentScript } from '../../src/engine/component-script.js';

/** The shape of jco's sync-instantiation output: two exports, no imports. */
const jcoLike = [
  'const helper = (x) => x + 1;',
  'export function instantiate(getCoreModule, imports) {',
  '  return { value: helper(imports.n), strict: (function () { return this; })() === undefined };',
  '}',
  'export const _util = { helper };',
].join('\n');

describe('component-script (V8 code cache for component.js)', () => {
  it('turns jco-shaped output into a script returning its exports, strict like a module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-script-'));
    await writeFile(join(dir, 'component.js'), jcoLike);
    const first = await loadComponentScript(dir);
    expect((first.exports.instantiate as (g: unknown, i: { n: number }) => unknown)(null, { n: 1 })).toEqual({ value: 2, strict: true });
    first.saveCache();
    const cached = await readFile(join(dir, CODE_CACHE_FILE));
    expect(cached.length).toBeGreaterThan(0);
    // a usable cache is not written again
    const second = await loadComponentScript(dir);
    second.saveCache();
    expect((await readFile(join(dir, CODE_CACHE_FILE))).equals(cached)).toBe(true);
  });

  it('leaves anything else to the module loader', async () => {
    expect(asScript(jcoLike)).toBeDefined();
    expect(asScript(`import x from './x.js';\n${jcoLike}`)).toBeUndefined();
    expect(asScript(`${jcoLike}\nconst u = import.meta.url;`)).toBeUndefined();
    expect(asScript(`${jcoLike}\nconst m = () => import('./m.js');`)).toBeUndefined();
    expect(asScript(`${jcoLike}\nexport const other = 1;`)).toBeUndefined();
    expect(asScript(jcoLike.replace('export const _util', 'const _util'))).toBeUndefined();
    // a module that is not jco's shape still loads, as a module
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-script-'));
    await writeFile(join(dir, 'component.js'), 'export const instantiate = () => "module";\nexport const extra = 1;\n');
    const loaded = await loadComponentScript(dir);
    expect((loaded.exports.instantiate as () => string)()).toBe('module');
    // an import statement the shape check lets through: the script does not compile, the module loads
    const other = await mkdtemp(join(tmpdir(), 'fabricks-script-'));
    await writeFile(join(other, 'helper.js'), 'export const n = 41;\n');
    await writeFile(join(other, 'component.js'), `  import { n } from './helper.js';\n${jcoLike}`);
    const imported = await loadComponentScript(other);
    expect((imported.exports.instantiate as (g: unknown, i: { n: number }) => { value: number })(null, { n: 1 }).value).toBe(2);
  });
});
