import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseProject } from '../../src/config/project.js';
import { parseReference } from '../../src/oci/reference.js';
import { globToRegExp } from '../../src/config/glob.js';
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
    expect(globToRegExp('*.txt').test('a/b/c.txt')).toBe(true);
    expect(globToRegExp('data/*.json').test('data/x.json')).toBe(true);
    expect(globToRegExp('data/*.json').test('data/sub/x.json')).toBe(false);
    expect(globToRegExp('data/**').test('data/sub/x.json')).toBe(true);
    expect(globToRegExp('tests').test('tests/unit/a.js')).toBe(true);
    expect(globToRegExp('*.{md,txt}').test('README.md')).toBe(true);
    expect(globToRegExp('**').test('anything/at/all')).toBe(true);
  });
});
