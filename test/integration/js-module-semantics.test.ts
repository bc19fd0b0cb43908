import { describe, expect, it } from 'vitest';
import { events, fabricks, jsToml, project } from '../helpers.js';

// Node's module semantics in a bundle (issue 19): each module knows its place in the packed
// tree, createRequire reads what the build packed, dynamic import() is lazy, and a built-in the
// runtime does not serve loads and throws only when called.

const SEMANTICS = {
  'fabricks.toml': jsToml('main.mjs'),
  // a #! line, as published servers' entrypoints have: it must stay the first line
  'main.mjs': [
    '#!/usr/bin/env node',
    "import { createRequire, builtinModules, isBuiltin } from 'node:module';",
    "import { readFileSync } from 'node:fs';",
    "import { fileURLToPath, pathToFileURL } from 'node:url';",
    "import { dirname } from 'node:path';",
    "import { where } from './lib/where.js';",
    "import cjs from 'cjs-dir';",
    "import { version, template } from 'versioned';",
    "import { hex, sep } from 'bun-bundled';",
    'const __dirname = dirname(fileURLToPath(import.meta.url));',
    'console.log(`main ${import.meta.url} ${import.meta.filename} ${import.meta.dirname} ${__dirname}`);',
    // how a script tells it is the program, not imported
    'console.log(`is main ${import.meta.url === pathToFileURL(process.argv[1]).href}`);',
    "console.log(`lib ${where.join(' ')}`);",
    'console.log(`cjs ${cjs.dir} ${cjs.file} ${cjs.banner} strict=${cjs.strict}`);',
    'console.log(`versioned ${version} ${template}`);',
    'console.log(`bun-bundled ${hex} ${sep}`);',
    "console.log(`data ${readFileSync(new URL('./lib/data.txt', import.meta.url), 'utf8').trim()}`);",
    'const require = createRequire(import.meta.url);',
    "console.log(`json ${require('./config/settings.json').mode}`);",
    "console.log(`plugin ${require('./plugins/plugin.cjs').hello('Ada')}`);",
    "console.log(`builtins ${builtinModules.includes('fs')} ${builtinModules.includes('child_process')} ${isBuiltin('node:fs')} ${isBuiltin('fs/promises')} ${isBuiltin('left-pad')} ${isBuiltin('node:test')} ${isBuiltin('test')}`);",
    "console.log(`require fs ${typeof require('node:fs').readFileSync}`);",
    "try { require('./missing.json'); } catch (e) { console.log(`missing ${e.code}`); }",
    "console.log('before');",
    "if (process.argv[2] === 'lazy') { const m = await import('./lib/lazy.js'); console.log(`lazy ${m.value}`); }",
    "console.log('after');",
    '',
  ].join('\n'),
  'lib/where.js': "export const where = [import.meta.url, import.meta.dirname, import.meta.filename, import.meta.resolve('./data.txt'), __filename];\n",
  'lib/data.txt': 'hello data\n',
  'lib/lazy.js': "console.log('lazy module evaluated');\nexport const value = 42;\n",
  'config/settings.json': '{ "mode": "production" }\n',
  // packed as it is (nothing imports it statically) and loaded by createRequire at run time
  'plugins/plugin.cjs': "const { greet } = require('./helper.cjs');\nconst path = require('path');\nexports.hello = (name) => `${greet(name)} from ${path.join(__dirname, '.')}`;\n",
  'plugins/helper.cjs': 'exports.greet = (name) => `hello ${name}`;\n',
  'node_modules/cjs-dir/package.json': '{"name":"cjs-dir","version":"1.0.0","main":"index.js"}',
  // 'use strict' must stay the module's first statement when the build declares its __dirname
  'node_modules/cjs-dir/index.js': "'use strict';\nexports.strict = (function () { return this === undefined; })();\nconst fs = require('fs');\nconst path = require('path');\nObject.assign(exports, { dir: __dirname, file: __filename, banner: fs.readFileSync(path.join(__dirname, 'banner.txt'), 'utf8').trim() });\n",
  'node_modules/cjs-dir/banner.txt': 'a banner beside the module\n',
  // a package that reads its own package.json and a file beside it, as published servers do
  'node_modules/versioned/package.json': '{"name":"versioned","version":"3.1.4","type":"module","exports":"./dist/index.js"}',
  'node_modules/versioned/dist/index.js': [
    "import { createRequire } from 'node:module';",
    "import { readFileSync } from 'node:fs';",
    'const require = createRequire(import.meta.url);',
    "export const version = require('../package.json').version;",
    "export const template = readFileSync(new URL('../templates/greeting.txt', import.meta.url), 'utf8').trim();",
    '',
  ].join('\n'),
  'node_modules/versioned/templates/greeting.txt': 'hi from a template\n',
  // a bundle made by Bun (or esbuild with a createRequire banner) requires every built-in at run time
  'node_modules/bun-bundled/package.json': '{"name":"bun-bundled","version":"1.0.0","type":"module","main":"dist/index.js"}',
  'node_modules/bun-bundled/dist/index.js': 'import { createRequire as X4 } from "node:module";\nvar _l = X4(import.meta.url);\nexport const hex = _l("buffer").Buffer.from("hi").toString("hex");\nexport const sep = _l("node:path").sep;\n',
};

describe('Node module semantics in the JavaScript runtime', () => {
  it('import.meta, __dirname and __filename name each module in the packed tree; createRequire reads JSON, package.json and CommonJS files; import() is lazy', async () => {
    const dir = await project(SEMANTICS);
    const r = await fabricks(['run', '-q', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'main file:///main.mjs /main.mjs / /',
      'is main true',
      'lib file:///lib/where.js /lib /lib/where.js file:///lib/data.txt /lib/where.js',
      'cjs /node_modules/cjs-dir /node_modules/cjs-dir/index.js a banner beside the module strict=true',
      'versioned 3.1.4 hi from a template',
      'bun-bundled 6869 /',
      'data hello data',
      'json production',
      'plugin hello Ada from /plugins',
      'builtins true true true true false true false',
      'require fs function',
      'missing MODULE_NOT_FOUND',
      // the module imported only in a branch not taken never ran
      'before',
      'after',
      '',
    ]);
    const lazy = await fabricks(['run', '-q', dir, '--', 'lazy']);
    expect(lazy.status).toBe(0);
    expect(lazy.stdout).toMatch(/\nbefore\nlazy module evaluated\nlazy 42\nafter\n$/);
  });

  it('a built-in the runtime does not serve loads; calling it throws ERR_FABRICKS_UNAVAILABLE; the build warns once per importing package', async () => {
    const files = {
      'fabricks.toml': jsToml(),
      'main.js': [
        "import { spawn } from 'node:child_process';",
        "import user from 'vm-user';",
        'console.log(`typeof ${typeof spawn}`);',
        "try { spawn('ls', ['-l']); } catch (e) { console.log(`caught ${e instanceof Error} ${e.code}`); console.log(e.message); }",
        'console.log(`data ${user.rr}`);',
        'try { new user.MyScript("1 + 1"); } catch (e) { console.log(`class ${e.code} ${e.message.split(":")[0]}`); }',
        // a served module that lacks one of Node's functions, and a built-in newer than fabricks' list of them
        "import { setPriority, EOL } from 'node:os';",
        "import { DatabaseSync } from 'node:sqlite';",
        "try { setPriority(0, 10); } catch (e) { console.log(`os ${JSON.stringify(EOL)} ${e.code} ${e.message}`); }",
        "try { new DatabaseSync(':memory:'); } catch (e) { console.log(`sqlite ${e.code} ${e.message}`); }",
        'user.compile();',
        '',
      ].join('\n'),
      'node_modules/vm-user/package.json': '{"name":"vm-user","version":"1.0.0","main":"index.js"}',
      // CommonJS that extends a class and reads data of unserved modules at load, as express's dependencies do
      'node_modules/vm-user/index.js': [
        "const vm = require('vm');",
        "const cluster = require('node:cluster');",
        'class MyScript extends vm.Script {}',
        'module.exports = { MyScript, rr: cluster.SCHED_RR, compile: () => vm.compileFunction("return 1") };',
        '',
      ].join('\n'),
    };
    const dir = await project(files);
    const build = await fabricks(['build', dir, '--progress', 'json']);
    expect(build.status).toBe(0);
    const notes = events(build.stderr).flatMap((e) => (e.event === 'note' && e.code === 'unavailable-builtin' ? [[e.subject, e.detail]] : []));
    expect(notes).toEqual([
      ['your code', expect.stringMatching(/^imports node:child_process, node:sqlite, which the JavaScript runtime does not provide: .*ERR_FABRICKS_UNAVAILABLE.*strict-builtins = true/)],
      ['package vm-user', expect.stringMatching(/^imports node:cluster, node:vm, which/)],
    ]);
    // people see the same notes on stderr
    const human = await fabricks(['build', await project(files)]);
    expect(human.status).toBe(0);
    expect(human.stderr).toMatch(/note: package vm-user: imports node:cluster, node:vm, which the JavaScript runtime does not provide/);

    const r = await fabricks(['run', '-q', dir]);
    expect(r.stdout).toBe(
      [
        'typeof function',
        'caught true ERR_FABRICKS_UNAVAILABLE',
        'node:child_process is not available inside a fabricks sandbox: a fabricks service cannot start processes; do the work in the service, or run the tool as a service of its own (child_process.spawn was called)',
        'data 2',
        'class ERR_FABRICKS_UNAVAILABLE node',
        `os "\\n" ERR_FABRICKS_UNAVAILABLE node:os setPriority is not available inside a fabricks sandbox: the runtime's node:os does not provide it (docs/javascript.md lists what it provides)`,
        'sqlite ERR_FABRICKS_UNAVAILABLE node:sqlite is not available inside a fabricks sandbox: the fabricks JavaScript runtime does not provide it (docs/javascript.md lists the Node modules it provides) (sqlite.DatabaseSync was called)',
        '',
      ].join('\n'),
    );
    // not caught: the program fails with the message, at the user's line
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Error: node:vm is not available inside a fabricks sandbox: the runtime cannot create new JavaScript contexts \(vm\.compileFunction was called\)/);
    expect(r.stderr).toMatch(/at .*node_modules\/vm-user\/index\.js:4:\d+/);
  });

  it('[source] strict-builtins = true makes such an import a build error again; a value that is not true or false is refused', async () => {
    const files = {
      'main.js': 'import run from "spawner";\nrun();\n',
      'node_modules/spawner/package.json': '{"name":"spawner","version":"1.0.0","main":"lib/index.js"}',
      'node_modules/spawner/lib/index.js': 'const { spawn } = require("node:child_process");\nmodule.exports = () => spawn("ls");\n',
    };
    const strict = await project({ 'fabricks.toml': jsToml('main.js', 'strict-builtins = true\n'), ...files });
    const r = await fabricks(['build', strict]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/node_modules\/spawner\/lib\/index\.js:1:\d+: error: "node:child_process" is a Node\.js module that the fabricks JavaScript runtime does not provide; it is imported by node_modules\/spawner\/lib\/index\.js \(package spawner\)/);
    expect(r.stderr).toMatch(/\[source\] strict-builtins = true makes this an error/);

    const lenient = await project({ 'fabricks.toml': jsToml('main.js', 'strict-builtins = false\n'), ...files });
    const ok = await fabricks(['run', '-q', lenient]);
    expect(ok.status).toBe(1);
    expect(ok.stderr).toMatch(/node:child_process is not available inside a fabricks sandbox/);

    const bad = await project({ 'fabricks.toml': jsToml('main.js', 'strict-builtins = "yes"\n'), ...files });
    const refused = await fabricks(['build', bad]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/fabricks\.toml:6: \[source\] strict-builtins: must be true or false, not string "yes"/);
  });

  it('a CommonJS entrypoint is require.main: `if (require.main === module)` runs it, and only it', async () => {
    const dir = await project({
      'fabricks.toml': jsToml('bin/cli.js'),
      'bin/cli.js': '#!/usr/bin/env node\n"use strict";\nconst lib = require("../lib/util.js");\nif (require.main === module) console.log(`main ${require.main.filename} ${require.main.id} ${lib.isMain}`);\n',
      'lib/util.js': 'exports.isMain = require.main === module;\n',
    });
    const r = await fabricks(['run', '-q', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('main /bin/cli.js . false\n');
    expect(r.status).toBe(0);
  });

  it('an entrypoint in a package that says "sideEffects": false runs', async () => {
    const dir = await project({
      'fabricks.toml': jsToml('node_modules/hello-server/build/stdio.js'),
      'node_modules/hello-server/package.json': '{"name":"hello-server","version":"1.1.2","type":"module","sideEffects":false,"main":"./build/index.js","bin":{"hello-server":"./build/stdio.js"}}',
      'node_modules/hello-server/build/stdio.js': '#!/usr/bin/env node\nimport { greet } from "./server.js";\nconsole.log(greet(import.meta.url));\n',
      'node_modules/hello-server/build/server.js': 'export const greet = (where) => `hello from ${where}`;\n',
    });
    const r = await fabricks(['run', '-q', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello from file:///node_modules/hello-server/build/stdio.js\n');
    expect(r.status).toBe(0);
  });
});
