import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileUrl, guestPath, metaDeclaration, staticAssets, withMeta } from '../../src/runtimes/node/module-meta.js';
import { packageDirOf } from '../../src/runtimes/node/packed-assets.js';
import { isNodeBuiltin, NODE_BUILTINS, stubModule, UnavailableImports } from '../../src/runtimes/node/unavailable-builtins.js';
import { project } from '../helpers.js';

describe('module meta (import.meta, __dirname, __filename)', () => {
  it('places a bundled file where the guest sees it', () => {
    expect(guestPath('/p/app/lib/a.js', '/p/app')).toBe('/lib/a.js');
    expect(guestPath('/p/app/node_modules/@s/n/dist/i.js', '/p/app')).toBe('/node_modules/@s/n/dist/i.js');
    // pnpm's store, reached through a link: where Node would have found the package
    expect(guestPath('/p/node_modules/.pnpm/x@1.0.0/node_modules/x/index.js', '/p/app')).toBe('/node_modules/x/index.js');
    // a workspace package linked from outside: under its name
    expect(guestPath('/p/packages/shared/src/i.js', '/p/app', { root: '/p/packages/shared', name: '@ws/shared' })).toBe('/node_modules/@ws/shared/src/i.js');
  });

  it('declares the meta on the line the code starts, after a #! line and the directive prologue, so that no line moves', () => {
    const decl = metaDeclaration('/lib/a b#.js');
    expect(decl).toContain('"file:///lib/a%20b%23.js"');
    expect(decl).toContain('dirname: "/lib"');
    const plain = withMeta('line1\nline2\n', decl);
    expect(plain.text.split('\n')).toEqual([`${decl}line1`, 'line2', '']);
    expect(plain.shift).toEqual({ line: 0, column: 0, length: decl.length });
    const bang = withMeta('#!/usr/bin/env node\nimport x from "y";\n', decl);
    expect(bang.text.split('\n')).toEqual(['#!/usr/bin/env node', `${decl}import x from "y";`, '']);
    expect(bang.shift).toEqual({ line: 1, column: 0, length: decl.length });
    // 'use strict' stays the first statement, so a CommonJS module stays strict
    const strict = withMeta('/* license */\n"use strict"\nexports.a = __dirname;\n', decl);
    expect(strict.text.split('\n')).toEqual(['/* license */', `"use strict";${decl}`, 'exports.a = __dirname;', '']);
    expect(strict.shift).toEqual({ line: 1, column: 12, length: decl.length + 1 });
    // a string that starts an expression is not a directive
    expect(withMeta("'a'.length;\n", decl).text).toBe(`${decl}'a'.length;\n`);
    expect(withMeta("'use strict'; 'use asm';go();", decl).text).toBe(`'use strict'; 'use asm';${decl}go();`);
    // the same encoding as Node's
    expect(fileUrl('/a b/c?d#e%.js')).toBe(pathToFileURL('/a b/c?d#e%.js').href);
  });

  it('takes the declaration back out of the source map: a position on its line is the one in the file again', async () => {
    const { build } = await import('esbuild');
    const { decode } = await import('@jridgewell/sourcemap-codec');
    const dir = await project({ 'a.js': 'export const where = import.meta.url; throw new Error("x");\n', 'main.js': 'import "./a.js";\n' });
    const shifts = new Map();
    const { moduleMetaPlugin, META_DEFINE, unshiftColumns } = await import('../../src/runtimes/node/module-meta.js');
    const r = await build({
      entryPoints: [join(dir, 'main.js')],
      absWorkingDir: dir,
      outfile: join(dir, 'out.js'),
      bundle: true,
      write: false,
      format: 'esm',
      sourcemap: 'external',
      define: META_DEFINE,
      logLevel: 'silent',
      plugins: [moduleMetaPlugin('/main.js', async () => '/a.js', () => {}, (file, shift) => shifts.set(file.slice(dir.length + 1), shift))],
    });
    const code = r.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
    const map = JSON.parse(r.outputFiles.find((f) => f.path.endsWith('.map'))!.text);
    const lines = code.split('\n');
    const line = lines.findIndex((l) => l.includes('throw new Error'));
    const column = lines[line]!.indexOf('throw');
    const segment = decode(unshiftColumns(map, shifts))[line]!.find((s) => s[0] === column)!;
    expect([map.sources[segment[1]!], segment[2], segment[3]]).toEqual(['a.js', 0, 'export const where = import.meta.url; '.length]);
    // without the correction, the column is off by the declaration
    expect(decode(map.mappings)[line]!.find((s) => s[0] === column)![3]).toBeGreaterThan('export const where = import.meta.url; '.length + 40);
  });

  it('finds the files a module reads by a literal path: createRequire requires and new URL(…, import.meta.url)', () => {
    const text = [
      "const require = createRequire(import.meta.url);",
      "const pkg = require('../package.json');",
      'const other = require("./data/x.json");',
      "const t = new URL('./tpl.html', import.meta.url);",
      "const dyn = require(`./${name}.json`);",
      "const dep = require('zod');",
      "const a = readFileSync(path.join(__dirname, '..', 'package.json'));",
      'const b = resolve(import.meta.dirname, "templates/page.html");',
      "const c = join(__dirname, name, 'x.json');",
    ].join('\n');
    expect(staticAssets(text).sort()).toEqual(['../package.json', './data/x.json', './templates/page.html', './tpl.html']);
    // a require that esbuild bundles itself (no createRequire) is not an asset
    expect(staticAssets("const pkg = require('./package.json');")).toEqual([]);
    expect(staticAssets("import data from './data.json'; const d = await import('./more.json');")).toEqual([]);
  });

  it('finds a data file named by a literal relative path that minified code resolves against a variable', () => {
    // @notionhq/notion-mcp-server's bundle: the folder is a variable, the path a literal
    const text = 'let t=cle(import.meta.url),r=xS.dirname(t),n=xS.resolve(r,"../scripts/notion-openapi.json");const s=`./${x}.json`,u="./lib/a.js";';
    expect(staticAssets(text)).toEqual(['../scripts/notion-openapi.json']);
  });

  it('finds the built-ins an ES module requires by a literal name through createRequire, as Bun bundles do', async () => {
    const { requiredBuiltins } = await import('../../src/runtimes/node/module-meta.js');
    const bun = 'import{createRequire as X4}from"node:module";var _l=X4(import.meta.url);var b=_l("buffer"),c=_l("node:crypto"),p=_l( "left-pad" ),u=o("url");';
    expect(requiredBuiltins(bun, isNodeBuiltin)).toEqual(['buffer', 'crypto', 'url']);
    // without createRequire, or in CommonJS, esbuild bundles require() itself
    expect(requiredBuiltins('const b = require("buffer");', isNodeBuiltin)).toEqual([]);
    expect(requiredBuiltins('const { createRequire } = require("module"); createRequire(__filename)("buffer");', isNodeBuiltin)).toEqual([]);
  });

  it('names the package folder a file is in', () => {
    expect(packageDirOf('/a/node_modules/x/lib/i.js')).toBe('/a/node_modules/x');
    expect(packageDirOf('/a/node_modules/@s/n/lib/i.js')).toBe('/a/node_modules/@s/n');
    expect(packageDirOf('/a/src/i.js')).toBeUndefined();
  });
});

describe('unserved built-ins', () => {
  it('knows Node built-ins and their exports from the committed list', () => {
    expect(isNodeBuiltin('child_process')).toBe(true);
    expect(isNodeBuiltin('test')).toBe(true);
    expect(isNodeBuiltin('left-pad')).toBe(false);
    expect(NODE_BUILTINS.modules.child_process!.exports.spawn).toBe('function');
    expect(NODE_BUILTINS.modules.cluster!.exports.SCHED_RR).toEqual({ value: 2 });
  });

  it('node:module in bundles names the same built-ins as the list the stubs are made from (one script writes both)', async () => {
    const { builtinModules, prefixOnly } = (await import('../../polyfills/node/builtin-names.js' as string)) as { builtinModules: string[]; prefixOnly: string[] };
    expect([...builtinModules, ...prefixOnly].sort()).toEqual(Object.keys(NODE_BUILTINS.modules).sort());
    expect(prefixOnly).toEqual(Object.keys(NODE_BUILTINS.modules).filter((n) => NODE_BUILTINS.modules[n]!.prefixOnly));
  });

  it('a stub links like Node, and each function and class throws a catchable ERR_FABRICKS_UNAVAILABLE when called', async () => {
    const dir = await project({});
    const code = stubModule('child_process', 'no processes here', { spawn: 'function', ChildProcess: 'function', answer: { value: { n: 42 } }, agent: { object: ['destroy'] } });
    const stub = join(dir, 'stub.mjs');
    await writeFile(stub, code);
    const m = (await import(pathToFileURL(stub).href)) as Record<string, any>;
    expect(Object.keys(m).sort()).toEqual(['ChildProcess', 'agent', 'answer', 'default', 'spawn']);
    expect(m.answer).toEqual({ n: 42 });
    expect(m.default.spawn).toBe(m.spawn);
    const thrown = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as Error & { code: string };
      }
      throw new Error('expected a throw');
    };
    const e = thrown(() => m.spawn('ls'));
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('ERR_FABRICKS_UNAVAILABLE');
    expect(e.message).toBe('node:child_process is not available inside a fabricks sandbox: no processes here (child_process.spawn was called)');
    class Sub extends m.ChildProcess {}
    expect(thrown(() => new Sub()).code).toBe('ERR_FABRICKS_UNAVAILABLE');
    expect(thrown(() => m.agent.destroy()).message).toMatch(/\(child_process\.agent\.destroy was called\)$/);
  });

  it("a served polyfill's missing Node exports link: taken from its default export when it has them, else functions that throw", async () => {
    const dir = await project({ 'poly.mjs': "export const a = 1;\nexport default { a: 1, b: () => 'from default' };\n" });
    const poly = join(dir, 'poly.mjs');
    const { completedModule, esmExportsOf } = await import('../../src/runtimes/node/unavailable-builtins.js');
    const has = (await esmExportsOf(poly))!;
    expect(has.sort()).toEqual(['a', 'default']);
    await writeFile(join(dir, 'done.mjs'), completedModule('fake', poly, has, { a: 'function', b: 'function', c: 'function', K: { value: 1 } }));
    const m = (await import(pathToFileURL(join(dir, 'done.mjs')).href)) as Record<string, any>;
    expect([m.a, m.b(), m.K, m.default.a]).toEqual([1, 'from default', undefined, 1]);
    expect(() => m.c()).toThrow(expect.objectContaining({ code: 'ERR_FABRICKS_UNAVAILABLE', message: "node:fake c is not available inside a fabricks sandbox: the runtime's node:fake does not provide it (docs/javascript.md lists what it provides)" }));
    // a CommonJS polyfill needs none of this: its named imports always link
    const cjs = join(dir, 'cjs.js');
    await writeFile(cjs, 'module.exports = { a: 1 };\n');
    expect(await esmExportsOf(cjs)).toBeUndefined();
  });

  it('a node: built-in newer than the list links any named import, each a function that throws', async () => {
    const { build } = await import('esbuild');
    const dir = await project({});
    const { unknownStubModule } = await import('../../src/runtimes/node/unavailable-builtins.js');
    const r = await build({
      stdin: { contents: "import { DatabaseSync } from 'node:sqlite';\nimport all from 'node:sqlite';\nexport { DatabaseSync, all };\n", loader: 'js' },
      bundle: true,
      write: false,
      format: 'esm',
      logLevel: 'silent',
      plugins: [
        {
          name: 'stub',
          setup(b) {
            b.onResolve({ filter: /^node:sqlite$/ }, () => ({ path: 'sqlite', namespace: 'stub' }));
            b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: unknownStubModule('sqlite', 'not here'), loader: 'js', resolveDir: dir }));
          },
        },
      ],
    });
    await writeFile(join(dir, 'b.mjs'), r.outputFiles[0]!.text);
    const m = (await import(pathToFileURL(join(dir, 'b.mjs')).href)) as Record<string, any>;
    expect(() => new m.DatabaseSync(':memory:')).toThrow(expect.objectContaining({ code: 'ERR_FABRICKS_UNAVAILABLE', message: 'node:sqlite is not available inside a fabricks sandbox: not here (sqlite.DatabaseSync was called)' }));
    expect(m.all.backup).toBeTypeOf('function');
    expect(m.all.then).toBeUndefined(); // not taken for a promise by await import()
  });

  it('groups what each package imports, one entry per package', () => {
    const u = new UnavailableImports();
    u.add('express', 'node:http');
    u.add('express', 'node:net');
    u.add('express', 'node:http');
    u.add('', 'node:vm');
    expect(u.list()).toEqual([
      { owner: '', modules: ['node:vm'] },
      { owner: 'express', modules: ['node:http', 'node:net'] },
    ]);
  });
});
