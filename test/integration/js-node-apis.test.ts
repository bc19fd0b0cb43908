import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fabricks, jsToml, project, repoRoot } from '../helpers.js';

const fixture = join(repoRoot, 'test', 'fixtures', 'node-apis');

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

describe('Node modules in the JavaScript runtime', () => {
  it('Buffer, stream, util, path, url, string_decoder, crypto, os, events, Unicode regexps and normalize answer as in Node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-node-apis-'));
    await cp(fixture, dir, { recursive: true });
    const r = await fabricks(['run', dir]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    // the same program under Node on the host is the reference
    const native = join(dir, 'native');
    await mkdir(native);
    await cp(join(dir, 'main.js'), join(native, 'main.mjs'));
    const { stdout: expected } = await promisify(execFile)(process.execPath, [join(native, 'main.mjs')]);
    const lines = expected.trim().split('\n');
    expect(lines.length).toBeGreaterThan(30);
    expect(r.stdout.trim().split('\n')).toEqual(lines);
    expect(lines).toContain('regexp.constructor=true');
    expect(lines).toContain('normalize=true');
  });

  it('with [source] strict-builtins, an import of node:child_process in a package is a build error naming the file and the package', async () => {
    const dir = await project({
      'fabricks.toml': jsToml('main.js', 'strict-builtins = true\n'),
      'main.js': 'import run from "spawner";\nrun();\n',
      'node_modules/spawner/package.json': '{"name":"spawner","version":"1.0.0","main":"lib/index.js"}',
      'node_modules/spawner/lib/index.js': 'const { spawn } = require("node:child_process");\nmodule.exports = () => spawn("ls");\n',
    });
    const r = await fabricks(['build', dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/node_modules\/spawner\/lib\/index\.js:1:\d+: error: "node:child_process" is a Node\.js module that the fabricks JavaScript runtime does not provide; it is imported by node_modules\/spawner\/lib\/index\.js \(package spawner\)/);
    expect(r.stderr).toMatch(/cannot start processes/);
    expect(r.stderr).toMatch(/hint: docs\/javascript\.md lists the Node modules/);
  });

  it('a package that is not installed fails when import() or require() of it runs, as in Node; a static import of it is a build error', async () => {
    const esm = await project({
      'fabricks.toml': jsToml(),
      'main.js': 'import tryAll from "schemas";\nconsole.log(await tryAll());\n',
      // an optional peer dependency, tried in turn (xsschema does so with effect, sury, ...)
      'node_modules/schemas/package.json': '{"name":"schemas","version":"1.0.0","type":"module","main":"index.js"}',
      'node_modules/schemas/index.js': 'export default async function tryAll() {\n  try { await import("effect"); } catch (e) { return `${e.code}: ${e.message}`; }\n}\n',
    });
    expect((await fabricks(['build', '-q', esm])).status).toBe(0);
    const r = await fabricks(['run', '-q', esm]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("ERR_MODULE_NOT_FOUND: Cannot find package 'effect' imported from node_modules/schemas/index.js (it was not installed when the app was built)\n");
    const cjs = await project({ 'fabricks.toml': jsToml('main.cjs'), 'main.cjs': 'try { require("sury"); } catch (e) { console.log(`${e.code}: ${e.message}`); }\n' });
    expect((await fabricks(['build', '-q', cjs])).status).toBe(0);
    expect((await fabricks(['run', '-q', cjs])).stdout).toBe("MODULE_NOT_FOUND: Cannot find module 'sury' (it was not installed when the app was built)\n");
    const fixed = await project({ 'fabricks.toml': jsToml(), 'main.js': 'import "not-installed";\n' });
    const b = await fabricks(['build', fixed]);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/Could not resolve "not-installed"/);
  });

  it('code the engine rejects at load is reported at its source file and line', async () => {
    // esbuild passes regex bodies through unchecked; SpiderMonkey refuses this one when it parses the bundle
    const dir = await project({
      'fabricks.toml': jsToml(),
      'main.js': 'import { check } from "./lib/check.js";\nconsole.log(check("a"));\n',
      'lib/check.js': '// a helper\nexport function check(s) {\n  return /a(/.test(s);\n}\n',
    });
    const r = await fabricks(['run', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/SyntaxError: .*\n\s+at lib\/check\.js:3:\d+/);
  });

  it('bundles dependencies in the layouts pnpm and workspaces leave: linked node_modules, .pnpm store links, a package linked from a parent folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fabricks-layouts-'));
    const app = join(root, 'apps', 'app');
    // the workspace root's store, as pnpm lays it out: each package beside its own dependencies
    await writeFiles(root, {
      'node_modules/.pnpm/left-pad@1.0.0/node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.0.0","main":"index.js","dependencies":{"repeat":"1.0.0"}}',
      'node_modules/.pnpm/left-pad@1.0.0/node_modules/left-pad/index.js': 'const repeat = require("repeat");\nmodule.exports = (s, n) => repeat(" ", n - s.length) + s;\n',
      'node_modules/.pnpm/repeat@1.0.0/node_modules/repeat/package.json': '{"name":"repeat","version":"1.0.0","main":"index.js"}',
      'node_modules/.pnpm/repeat@1.0.0/node_modules/repeat/index.js': 'module.exports = (s, n) => s.repeat(n);\n',
      'packages/shared/package.json': '{"name":"@ws/shared","version":"1.0.0","type":"module","exports":"./index.js"}',
      'packages/shared/index.js': 'export const greeting = "hello from the workspace";\n',
      'store/app-modules/.keep': '',
      'apps/app/fabricks.toml': jsToml(),
      'apps/app/main.js': 'import pad from "left-pad";\nimport { greeting } from "@ws/shared";\nconsole.log(`[${pad("x", 3)}] ${greeting}`);\n',
    });
    await symlink('../../repeat@1.0.0/node_modules/repeat', join(root, 'node_modules/.pnpm/left-pad@1.0.0/node_modules/repeat'));
    // the app's node_modules is itself a link to a folder outside the project
    const modules = join(root, 'store', 'app-modules');
    await symlink(modules, join(app, 'node_modules'));
    await symlink(join(root, 'node_modules/.pnpm/left-pad@1.0.0/node_modules/left-pad'), join(modules, 'left-pad'));
    await mkdir(join(modules, '@ws'));
    await symlink(join(root, 'packages', 'shared'), join(modules, '@ws', 'shared'));
    const r = await fabricks(['run', app]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[  x] hello from the workspace\n');
  });

  it('packing still refuses a data file linked from outside the project', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'fabricks-outside-'));
    await writeFile(join(outside, 'data.txt'), 'secret');
    const dir = await project({ 'fabricks.toml': jsToml(), 'main.js': 'console.log(1);\n' });
    await symlink(join(outside, 'data.txt'), join(dir, 'data.txt'));
    const r = await fabricks(['build', dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/data\.txt is a link to .*, outside the project folder/);
  });
});
