import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseProject } from '../../src/config/project.js';
import { parseReference } from '../../src/oci/reference.js';
import { compileGlob, MAX_PATTERN_LENGTH } from '../../src/config/glob.js';
import { FabricksError } from '../../src/util/errors.js';
import { project, jsToml } from '../helpers.js';

async function problemsOf(text: string, files: Record<string, string> = { 'main.js': '' }): Promise<FabricksError> {
  const dir = await project(files);
  try {
    await parseProject(text, join(dir, 'fabricks.toml'));
  } catch (e) {
    return e as FabricksError;
  }
  throw new Error('expected the config to be rejected');
}

describe('fabricks.toml', () => {
  it('applies defaults: name from the folder, version 0.1.0, source path ".", include everything', async () => {
    const dir = await project({ 'main.js': '' });
    const c = await parseProject(jsToml(), join(dir, 'fabricks.toml'));
    expect(c.name).toMatch(/^fabricks-test-/);
    expect(c.version).toBe('0.1.0');
    expect(c.source).toMatchObject({ path: '.', entrypoint: 'main.js', include: ['**'], exclude: [] });
    expect(c.from.reference).toEqual({ registry: 'fabricks.dev', repository: 'runtimes/node' });
  });

  it('reports a TOML syntax error with line and column', async () => {
    const e = await problemsOf('[from]\nimage = "x\n');
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/fabricks\.toml:2:\d+: TOML syntax error/);
  });

  it('reports every problem at once, each with file, line and field, and suggests close keys', async () => {
    const e = await problemsOf('[package]\nname = "Bad Name"\nverison = "1"\n\n[from]\nimage = "UPPER/case"\n\n[source]\nentrypoint = "nope.js"\nincldue = ["*"]\n\n[capabilites]\n');
    const text = e.problems.join('\n');
    expect(e.problems.length).toBeGreaterThanOrEqual(6);
    expect(text).toMatch(/fabricks\.toml:2: \[package\] name: "Bad Name" must be lowercase/);
    expect(text).toMatch(/fabricks\.toml:3: \[package\] verison: unknown key; did you mean "version"\?/);
    expect(text).toMatch(/fabricks\.toml:6: \[from\] image: "UPPER\/case" is not a valid OCI reference/);
    expect(text).toMatch(/fabricks\.toml:9: \[source\] entrypoint: "nope\.js" does not exist/);
    expect(text).toMatch(/fabricks\.toml:10: \[source\] incldue: unknown key; did you mean "include"\?/);
    expect(text).toMatch(/fabricks\.toml:12: \[capabilites\]: unknown table; did you mean \[capabilities\]\?/);
  });

  it('rejects a source path and patterns that leave the project folder', async () => {
    const e = await problemsOf(jsToml('main.js', 'path = "../elsewhere"\ninclude = ["../secrets/*"]\nexclude = ["/etc/*"]\n'));
    const text = e.problems.join('\n');
    expect(text).toMatch(/\[source\] path: "\.\.\/elsewhere" leaves the project folder/);
    expect(text).toMatch(/\[source\] include: pattern "\.\.\/secrets\/\*" goes up with "\.\."/);
    expect(text).toMatch(/\[source\] exclude: pattern "\/etc\/\*" is an absolute path/);
  });

  it('checks types and port ranges', async () => {
    const e = await problemsOf(jsToml('main.js', 'include = "x"\n[capabilities.network]\nlisten = [0, 8080]\n'));
    const text = e.problems.join('\n');
    expect(text).toMatch(/\[source\] include: must be a list of strings/);
    expect(text).toMatch(/\[capabilities\.network\] listen: port 0 is not between 1 and 65535/);
  });

  it('reads [source] strict-builtins as true or false (false when absent) and refuses anything else', async () => {
    const dir = await project({ 'main.js': '' });
    expect((await parseProject(jsToml(), join(dir, 'fabricks.toml'))).source.strictBuiltins).toBe(false);
    expect((await parseProject(jsToml('main.js', 'strict-builtins = true\n'), join(dir, 'fabricks.toml'))).source.strictBuiltins).toBe(true);
    const e = await problemsOf(jsToml('main.js', 'strict-builtins = 1\n'));
    expect(e.problems.join('\n')).toMatch(/fabricks\.toml:6: \[source\] strict-builtins: must be true or false, not number 1/);
  });
});

describe('OCI references', () => {
  it.each([
    ['fabricks.dev/runtimes/node', { registry: 'fabricks.dev', repository: 'runtimes/node' }],
    ['fabricks.dev/runtimes/node:0.1', { registry: 'fabricks.dev', repository: 'runtimes/node', tag: '0.1' }],
    ['localhost:5000/a/b:v1', { registry: 'localhost:5000', repository: 'a/b', tag: 'v1' }],
    ['library/ubuntu', { registry: 'docker.io', repository: 'library/ubuntu' }],
    [`ghcr.io/x/y@sha256:${'a'.repeat(64)}`, { registry: 'ghcr.io', repository: 'x/y', digest: `sha256:${'a'.repeat(64)}` }],
  ])('parses %s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it.each(['', 'Upper/case', 'a/b:bad tag', 'a/b@sha256:short', 'a//b'])('rejects %j', (input) => {
    expect(parseReference(input)).toHaveProperty('error');
  });
});

describe('globs', () => {
  it('matches like .gitignore patterns', () => {
    expect(compileGlob('*.txt').test('a/b/c.txt')).toBe(true);
    expect(compileGlob('data/*.json').test('data/x.json')).toBe(true);
    expect(compileGlob('data/*.json').test('data/sub/x.json')).toBe(false);
    expect(compileGlob('data/**').test('data/sub/x.json')).toBe(true);
    expect(compileGlob('tests').test('tests/unit/a.js')).toBe(true);
    expect(compileGlob('*.{md,txt}').test('README.md')).toBe(true);
    expect(compileGlob('**').test('anything/at/all')).toBe(true);
    expect(compileGlob('src/**/x/*.ts').test('src/x/a.ts')).toBe(true);
    expect(compileGlob('src/**/x/*.ts').test('src/a/b/x/c.ts')).toBe(true);
    expect(compileGlob('src/**/x/*.ts').test('src/a/bx/c.ts')).toBe(false);
    expect(compileGlob('a?c').test('d/abc')).toBe(true);
    expect(compileGlob('a?c').test('a/c')).toBe(false);
    expect(compileGlob('{').test('{')).toBe(true);
  });

  it('takes stars and question marks inside braces (a RegExp of them was a bug exit)', () => {
    expect(compileGlob('{*.md,*.txt}').test('docs/README.md')).toBe(true);
    expect(compileGlob('{*.md,*.txt}').test('notes.txt')).toBe(true);
    expect(compileGlob('{*.md,*.txt}').test('main.js')).toBe(false);
    expect(compileGlob('data/{a?,b*}.json').test('data/a1.json')).toBe(true);
    expect(compileGlob('data/{a?,b*}.json').test('data/bcd.json')).toBe(true);
    expect(compileGlob('data/{a?,b*}.json').test('data/a12.json')).toBe(false);
  });

  it('matches in time linear in the path, however many stars (no backtracking)', () => {
    const name = 'a'.repeat(40);
    // 15 stars and an x: the RegExp this used to be took seconds on this name (a minute at 18)
    const cases: Array<[string, string, boolean]> = [
      [`${'*'.repeat(15)}x`, name, false],
      [`${'*'.repeat(MAX_PATTERN_LENGTH - 1)}x`, `${'a'.repeat(300)}/${name}`, false],
      [`${'*a'.repeat(MAX_PATTERN_LENGTH / 2 - 1)}b`, `${name}/${'a'.repeat(300)}`, false],
      [`${'{a,b}'.repeat(200)}`, `x/${'ab'.repeat(100)}`, true],
      [`${'a/'.repeat(MAX_PATTERN_LENGTH / 2)}`, `${'a/'.repeat(600)}b`, true],
      [`${'**/'.repeat(300)}x`, `${'a/'.repeat(300)}y`, false],
    ];
    for (const [pattern, path, expected] of cases) {
      const started = performance.now();
      const glob = compileGlob(pattern);
      for (let i = 0; i < 100 && performance.now() - started < 500; i++) expect(glob.test(path)).toBe(expected);
      expect(performance.now() - started, pattern.slice(0, 20)).toBeLessThan(500);
    }
  });
});

describe('[source] include and exclude', () => {
  it.each([
    ['*'.repeat(5000)],
    ['a/'.repeat(5000)],
    ['{a,b}'.repeat(2000)],
  ])('refuse a pattern longer than the limit, naming the field and the limit (was exit 70): %#', async (pattern) => {
    const e = await problemsOf(jsToml('main.js', `exclude = ["${pattern}"]\ninclude = ["${pattern}"]\n`));
    expect(e.code).toBe('CONFIG_INVALID');
    const text = e.problems.join('\n');
    expect(text).toMatch(new RegExp(`fabricks\\.toml:\\d+: \\[source\\] exclude: pattern ".{40}\\.\\.\\." is ${pattern.length} characters long; a pattern may be at most ${MAX_PATTERN_LENGTH}`));
    expect(text).toMatch(/\[source\] include: pattern .* may be at most 1024/);
    // the message shows the start of the pattern, not all of it
    expect(text.length).toBeLessThan(1000);
  });

  it('takes a pattern as long as the limit', async () => {
    const dir = await project({ 'main.js': '' });
    const pattern = `${'{a,b}'.repeat(204)}${'*'.repeat(MAX_PATTERN_LENGTH - 1020)}`;
    expect(pattern.length).toBe(MAX_PATTERN_LENGTH);
    const c = await parseProject(jsToml('main.js', `exclude = ["${pattern}"]\n`), join(dir, 'fabricks.toml'));
    expect(c.source.exclude).toEqual([pattern]);
  });
});
