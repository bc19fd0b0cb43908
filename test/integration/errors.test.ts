import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copySuiteHome, fabricks, project, jsToml, storeSnapshot, exists } from '../helpers.js';

// A store of its own (a copy of the suite's, runtime included), so other test files building in
// parallel cannot change it while these tests check that a failed build changed nothing.
let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'fabricks-errors-home-'));
  await copySuiteHome(join(home, 'store'), 'store');
});

/** A failed build: non-zero exit, the expected message, and nothing written to .fabricks or the store. */
async function failsCleanly(files: Record<string, string>, message: RegExp, args: string[] = []) {
  const dir = await project(files);
  const before = await storeSnapshot(home);
  const r = await fabricks(['build', dir, ...args], { home });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(await exists(join(dir, '.fabricks'))).toBe(false);
  expect(await exists(join(dir, 'fabricks.lock'))).toBe(false);
  expect(await storeSnapshot(home)).toBe(before);
  return r;
}

describe('bad input', () => {
  it('no fabricks.toml', async () => {
    const r = await failsCleanly({ 'main.js': '' }, /error: no fabricks\.toml in /);
    expect(r.stderr).toMatch(/hint: create one \(fabricks\.example\.toml documents every field\)/);
  });

  it('a TOML syntax error, with line and column', async () => {
    await failsCleanly({ 'fabricks.toml': '[from]\nimage = "fabricks.dev/runtimes/node"\n[source\nentrypoint = "main.js"\n', 'main.js': '' }, /fabricks\.toml:3:\d+: TOML syntax error/);
  });

  it('a missing entrypoint', async () => {
    await failsCleanly({ 'fabricks.toml': jsToml('server.js'), 'main.js': '' }, /fabricks\.toml:5: \[source\] entrypoint: "server\.js" does not exist/);
  });

  it('a JavaScript syntax error, with file and line', async () => {
    const r = await failsCleanly(
      { 'fabricks.toml': jsToml(), 'main.js': 'import "./lib/broken.js";\n', 'lib/broken.js': 'const a = 1;\nconst b = ;\n' },
      /lib\/broken\.js:2:11: error: Unexpected ";"/,
    );
    expect(r.stderr).toMatch(/hint: fix the error at that file and line/);
  });

  it('an import of a Node module the runtime does not provide, with [source] strict-builtins', async () => {
    await failsCleanly({ 'fabricks.toml': jsToml('main.js', 'strict-builtins = true\n'), 'main.js': 'import vm from "node:vm";\n' }, /main\.js:1:\d+: error: "node:vm" is a Node\.js module that the fabricks JavaScript runtime does not provide/);
  });

  it('an unknown runtime, listing the ones there are', async () => {
    const r = await failsCleanly({ 'fabricks.toml': jsToml().replace('runtimes/node', 'runtimes/ruby'), 'main.js': '' }, /fabricks\.dev\/runtimes\/ruby .* is not a runtime fabricks provides/);
    expect(r.stderr).toMatch(/the runtimes there are: fabricks\.dev\/runtimes\/node:0\.1/);
    await failsCleanly({ 'fabricks.toml': jsToml().replace('runtimes/node', 'runtimes/node:9'), 'main.js': '' }, /runtimes\/node:9 .* is not a runtime fabricks provides/);
  });

  it('a source path or include pattern that leaves the project folder', async () => {
    await failsCleanly({ 'fabricks.toml': jsToml('main.js', 'path = ".."\n'), 'main.js': '' }, /\[source\] path: "\.\." leaves the project folder/);
    await failsCleanly({ 'fabricks.toml': jsToml('main.js', 'include = ["../**"]\n'), 'main.js': '' }, /\[source\] include: pattern "\.\.\/\*\*" goes up with "\.\."/);
  });

  it('a pattern too long for [source] exclude: a config error with the limit, not a bug exit', async () => {
    const r = await failsCleanly({ 'fabricks.toml': jsToml('main.js', `exclude = ["${'*'.repeat(5000)}"]\n`), 'main.js': '' }, /\[source\] exclude: pattern "\*{40}\.\.\." is 5000 characters long; a pattern may be at most 1024/);
    expect(r.status).toBe(1);
  });

  it('an entrypoint the runtime does not run', async () => {
    await failsCleanly({ 'fabricks.toml': jsToml('main.py'), 'main.py': 'print(1)' }, /"main\.py" is not a file the node runtime runs/);
  });

  it('usage errors exit with status 2 and --help works on every command', async () => {
    expect((await fabricks(['build', '--nope'])).status).toBe(2);
    // every command the help lists, and the subcommands of runtime
    const names = (help: string) => [...help.slice(help.indexOf('Commands:')).matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
    const top = await fabricks(['--help']);
    const commands = names(top.stdout);
    expect(commands).toEqual(expect.arrayContaining(['build', 'run', 'inspect', 'push', 'pull', 'login', 'logout', 'runtime', 'verify']));
    const runtime = names((await fabricks(['runtime', '--help'])).stdout).map((n) => ['runtime', n]);
    expect(runtime.length).toBeGreaterThanOrEqual(3);
    for (const cmd of [[], ...commands.map((c) => [c]), ...runtime]) {
      const r = await fabricks([...cmd, '--help']);
      expect(r.status, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: fabricks/);
    }
  });
});
