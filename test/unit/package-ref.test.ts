import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { looksLikePackageRef, parsePackageRef } from '../../src/runtimes/package-ref.js';
import { npmProgram } from '../../src/runtimes/node/published.js';
import { consoleScripts, launcher, pickScript } from '../../src/runtimes/python/published.js';
import { appIdentity } from '../../src/app/package.js';
import { capabilitiesFromFlags, readProfile } from '../../src/config/grant-flags.js';
import { capabilitiesToml } from '../../src/app/package-toml.js';
import { parseCapabilities } from '../../src/config/capabilities.js';
import { parse as parseToml } from 'smol-toml';
import { FabricksError } from '../../src/util/errors.js';

/** The error `f` throws, for its message, hint and code. */
function thrown(f: () => unknown): FabricksError {
  try {
    f();
  } catch (e) {
    if (e instanceof FabricksError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('package references', () => {
  it('reads npm references: scope, exact version, range, tag, program', () => {
    expect(parsePackageRef('npm:@modelcontextprotocol/server-everything@2026.8.31').ref).toEqual({
      text: 'npm:@modelcontextprotocol/server-everything@2026.8.31',
      scheme: 'npm',
      name: '@modelcontextprotocol/server-everything',
      spec: '2026.8.31',
      exact: '2026.8.31',
    });
    expect(parsePackageRef('npm:time-mcp').ref).toMatchObject({ name: 'time-mcp', spec: '' });
    expect(parsePackageRef('npm:time-mcp').ref.exact).toBeUndefined();
    expect(parsePackageRef('npm:time-mcp@^1.0').ref).toMatchObject({ name: 'time-mcp', spec: '^1.0' });
    expect(parsePackageRef('npm:time-mcp@^1.0').ref.exact).toBeUndefined();
    expect(parsePackageRef('npm:time-mcp@latest').ref.exact).toBeUndefined();
    expect(parsePackageRef('npm:pkg@1.0.0-beta.2+build.5').ref.exact).toBe('1.0.0-beta.2+build.5');
    expect(parsePackageRef('npm:@a/b@1.2.3#serve').ref).toMatchObject({ name: '@a/b', exact: '1.2.3', program: 'serve' });
    expect(parsePackageRef('npm:@a/b@1.2.3', 'serve').ref.program).toBe('serve');
    expect(parsePackageRef('npm:@a/b').runtime.name).toBe('node');
  });

  it('reads PyPI references: exact, specifiers, extras, program', () => {
    expect(parsePackageRef('pypi:mcp-server-calculator==0.2.1').ref).toEqual({ text: 'pypi:mcp-server-calculator==0.2.1', scheme: 'pypi', name: 'mcp-server-calculator', spec: '==0.2.1', exact: '0.2.1' });
    expect(parsePackageRef('pypi:mcp-server-time').ref).toMatchObject({ name: 'mcp-server-time', spec: '' });
    expect(parsePackageRef('pypi:mcp-server-time>=2025.1').ref.exact).toBeUndefined();
    expect(parsePackageRef('pypi:pkg==1.*').ref.exact).toBeUndefined();
    expect(parsePackageRef('pypi:pkg[cli,http]==1.0#serve').ref).toMatchObject({ name: 'pkg[cli,http]', spec: '==1.0', exact: '1.0', program: 'serve' });
    expect(parsePackageRef('pypi:Some_Pkg.x').ref.name).toBe('Some_Pkg.x');
    expect(parsePackageRef('pypi:x').runtime.name).toBe('python');
  });

  it('tells package references from other targets', () => {
    expect(looksLikePackageRef('npm:x')).toBe(true);
    expect(looksLikePackageRef('pypi:x==1')).toBe(true);
    expect(looksLikePackageRef('hello-js:0.1.0')).toBe(false);
    expect(looksLikePackageRef('ghcr.io/a/b:1')).toBe(false);
    expect(looksLikePackageRef('./npm:x')).toBe(false);
  });

  it('refuses bad references, saying what is wrong and how to write one', () => {
    const bad = thrown(() => parsePackageRef('cargo:foo'));
    expect(bad.code).toBe('USAGE');
    expect(bad.message).toContain('npm:');
    expect(bad.hint).toContain('npm:@scope/pkg@1.2.3#bin');
    expect(thrown(() => parsePackageRef('npm:Bad_Name')).message).toMatch(/npm:Bad_Name: "Bad_Name" is not an npm package name/);
    expect(thrown(() => parsePackageRef('npm:pkg@')).message).toMatch(/nothing follows the "@"/);
    expect(thrown(() => parsePackageRef('pypi:pkg 1.0')).message).toMatch(/is not a version specifier/);
    expect(thrown(() => parsePackageRef('pypi:-pkg')).message).toMatch(/is not a Python package name/);
    expect(thrown(() => parsePackageRef('npm:a@1.0.0#x', 'y')).message).toMatch(/names the program x, and --bin y another/);
    expect(thrown(() => parsePackageRef('npm:a@1.0.0#a b')).message).toMatch(/is not a program's name/);
  });
});

describe("a package's program", () => {
  const ref = { text: 'npm:x' };
  it('npm: the one bin, the bin named like the package, the one asked for, else exports or main', () => {
    expect(npmProgram({ name: '@s/x', version: '1.0.0', bin: { 'mcp-x': 'dist/index.js' } }, ref)).toEqual({ program: 'mcp-x', file: 'dist/index.js' });
    expect(npmProgram({ name: '@s/x', version: '1.0.0', bin: './cli.js' }, ref)).toEqual({ program: 'x', file: './cli.js' });
    expect(npmProgram({ name: 'x', version: '1.0.0', bin: { x: 'a.js', y: 'b.js' } }, ref)).toEqual({ program: 'x', file: 'a.js' });
    expect(npmProgram({ name: 'x', version: '1.0.0', bin: { x: 'a.js', y: 'b.js' } }, { ...ref, program: 'y' })).toEqual({ program: 'y', file: 'b.js' });
    expect(npmProgram({ name: 'x', version: '1.0.0', exports: { '.': { import: './esm.js', require: './cjs.js' } }, main: 'main.js' }, ref).file).toBe('./esm.js');
    expect(npmProgram({ name: 'x', version: '1.0.0', exports: './e.js' }, ref).file).toBe('./e.js');
    expect(npmProgram({ name: 'x', version: '1.0.0', main: 'main.js' }, ref).file).toBe('main.js');
  });

  it('npm: several bins, an unknown one, or none at all is an error that says how to choose', () => {
    const several = thrown(() => npmProgram({ name: 'x', version: '1.0.0', bin: { a: 'a.js', b: 'b.js' } }, ref));
    expect(several.code).toBe('PACKAGE_INVALID');
    expect(several.message).toBe('npm:x: x 1.0.0 has 2 bins (a, b) and none is named like the package');
    expect(several.hint).toBe('choose one: npm:x@1.0.0#a, or --bin a');
    expect(thrown(() => npmProgram({ name: 'x', version: '1.0.0', bin: { a: 'a.js' } }, { ...ref, program: 'z' })).hint).toMatch(/its bins are a: name one \(npm:x@1.0.0#a, or --bin a\)/);
    expect(thrown(() => npmProgram({ name: 'x', version: '1.0.0' }, ref)).message).toMatch(/has no program to run: its package.json has no bin, exports or main/);
  });

  it('PyPI: reads [console_scripts] and picks one as npm does', () => {
    const text = '[console_scripts]\nmcp-server-time = mcp_server_time:main\nother = pkg.cli:app.run [extra]\n\n[gui_scripts]\ngui = pkg:gui\n';
    expect(consoleScripts(text)).toEqual({ 'mcp-server-time': 'mcp_server_time:main', other: 'pkg.cli:app.run [extra]' });
    const pkg = { name: 'mcp-server-time', version: '1.0' };
    expect(pickScript(consoleScripts(text), pkg, { text: 'pypi:mcp-server-time' })).toEqual(['mcp-server-time', 'mcp_server_time:main']);
    expect(pickScript({ serve: 'a:b' }, pkg, { text: 't' })).toEqual(['serve', 'a:b']);
    const several = thrown(() => pickScript({ a: 'a:b', b: 'b:c' }, pkg, { text: 'pypi:mcp-server-time' }));
    expect(several.message).toMatch(/has 2 console scripts \(a, b\) and none is named like the package/);
    expect(several.hint).toBe('choose one: pypi:mcp-server-time==1.0#a, or --bin a');
    expect(thrown(() => pickScript({}, pkg, { text: 't' })).message).toMatch(/declares no console script/);
    expect(thrown(() => pickScript({ a: 'a:b' }, pkg, { text: 't', program: 'z' })).hint).toMatch(/its console scripts are a/);
  });

  it("PyPI: the launcher does what pip's does", () => {
    expect(launcher('s', 'mcp_server_time:main', 'p')).toContain('from mcp_server_time import main\nsys.exit(main())\n');
    expect(launcher('s', 'pkg.cli:app.run [extra]', 'p')).toContain('from pkg.cli import app\nsys.exit(app.run())\n');
    expect(thrown(() => launcher('s', 'pkg.cli', 'p')).message).toMatch(/is not module:function/);
  });
});

describe('the app a package builds into', () => {
  it('is named after the package, tagged with its version', () => {
    expect(appIdentity({ name: '@modelcontextprotocol/server-everything', version: '2026.8.31' })).toEqual({ name: 'modelcontextprotocol-server-everything', version: '2026.8.31' });
    expect(appIdentity({ name: 'Mcp_Server.Time[cli]', version: '1.0+local' })).toEqual({ name: 'mcp_server.time', version: '1.0-local' });
  });
});

describe('grants from flags', () => {
  it('grants exactly what the flags name, as [capabilities] would', async () => {
    const caps = await capabilitiesFromFlags({ connect: ['api.example.com', '10.0.0.0/8:5432'], env: ['API_KEY', 'MODE=x'], mount: ['/tmp/data:/data', '/tmp/out:/out:rw'] }, '/work', { values: true });
    expect(caps).toEqual({
      network: { listen: [], connect: ['api.example.com', '10.0.0.0/8:5432'] },
      env: { allow: ['API_KEY', 'MODE'], set: {} },
      filesystem: { mounts: [{ guest: '/data', host: '/tmp/data', mode: 'ro' }, { guest: '/out', host: '/tmp/out', mode: 'rw' }] },
    });
    expect(await capabilitiesFromFlags({}, '/work', { values: false })).toEqual({ network: { listen: [], connect: [] }, env: { allow: [], set: {} }, filesystem: { mounts: [] } });
  });

  it('refuses what is not a grant, naming the flag', async () => {
    await expect(capabilitiesFromFlags({ connect: ['http://x'] }, '/', { values: true })).rejects.toThrow(/^--connect: "http:\/\/x"/);
    await expect(capabilitiesFromFlags({ env: ['A-B'] }, '/', { values: true })).rejects.toThrow(/--env A-B: "A-B" is not a variable name/);
    await expect(capabilitiesFromFlags({ env: ['TOKEN=x'] }, '/', { values: false })).rejects.toThrow(/records which variables the service may read, never their values/);
    await expect(capabilitiesFromFlags({ mount: ['/tmp:data'] }, '/', { values: true })).rejects.toThrow(/--mount: .*guest/);
    await expect(capabilitiesFromFlags({ mount: ['/tmp:/data:rx'] }, '/', { values: true })).rejects.toThrow(/write it as HOST:GUEST, HOST:GUEST:ro or HOST:GUEST:rw/);
  });

  it('reads a profile with the schema of fabricks.toml, flags added to it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-profile-'));
    const file = join(dir, 'grants.toml');
    await writeFile(file, '[capabilities.network]\nconnect = ["api.github.com"]\n[capabilities.env]\nallow = ["GITHUB_*"]\n[capabilities.filesystem]\nmounts = [{ guest = "/data", host = "data", mode = "rw" }]\n');
    const caps = await capabilitiesFromFlags({ profile: file, connect: ['x.org'], mount: ['/srv:/data'] }, '/', { values: true });
    expect(caps.network.connect).toEqual(['api.github.com', 'x.org']);
    expect(caps.env.allow).toEqual(['GITHUB_*']);
    // the flag's mount replaces the profile's at the same guest path
    expect(caps.filesystem.mounts).toEqual([{ guest: '/data', host: '/srv', mode: 'ro' }]);
    expect((await readProfile(file)).filesystem.mounts).toEqual([{ guest: '/data', host: join(dir, 'data'), mode: 'rw' }]);
    await writeFile(file, '[package]\nname = "x"\n[capabilities.network]\nconect = ["a"]\n');
    const bad = await readProfile(file).catch((e: FabricksError) => e);
    expect(bad).toBeInstanceOf(FabricksError);
    expect((bad as FabricksError).problems.join('\n')).toMatch(/\[package\]: a profile holds only \[capabilities\][\s\S]*conect: unknown key; did you mean "connect"/);
    await expect(readProfile(join(dir, 'missing.toml'))).rejects.toThrow(/--profile .*missing.toml: no such file/);
  });

  it('writes them back as [capabilities] tables that read the same', () => {
    const caps = { network: { listen: [], connect: ['a.com:443'] }, env: { allow: ['K'], set: { MODE: 'x' } }, filesystem: { mounts: [{ guest: '/d', host: '/p/data', mode: 'rw' as const }, { guest: '/e', mode: 'ro' as const }] } };
    const text = capabilitiesToml(caps, '/p').join('\n');
    expect(text).toContain('host = "data"');
    const doc = parseToml(text) as { capabilities: unknown };
    const problems: string[] = [];
    expect(parseCapabilities(doc.capabilities, '/p', (f, m) => problems.push(`${f} ${m}`))).toEqual(caps);
    expect(problems).toEqual([]);
  });
});
