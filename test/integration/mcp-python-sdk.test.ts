import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, fabricks, project, pyToml, repoRoot } from '../helpers.js';
import { fabricksServe } from '../hosts/fabricks-run-serve.js';
import { mcpPython, mcpPythonJson } from '../mcp-tools.js';

/**
 * The official MCP Python SDK (the `mcp` package from the index, with pydantic 2) run unchanged
 * in the fabricks runtime, driven by the official Python client: pydantic-core and rpds-py are
 * built from their sdists (tools/cargo-wasm.ts), cryptography and cffi, which only pyjwt[crypto]
 * brings in, are left out. One native cache for the whole file, so pydantic-core builds at most
 * once per run (FABRICKS_TEST_NATIVE_CACHE names one that outlives the run, for a warm cache).
 */

const MCP1 = 'mcp==1.30.0';
const fixture = (name: string) => readFile(join(repoRoot, 'test', 'fixtures', name), 'utf8');
type Lock = { python: { packages: Array<Record<string, string | string[]>> } };
const lockOf = async (dir: string): Promise<Lock> => (await import('smol-toml')).parse(await readFile(join(dir, 'fabricks.lock'), 'utf8')) as Lock;

describe('the official MCP Python SDK, unchanged', () => {
  let env: Record<string, string>;
  let catalog: string;
  let built: { status: number | null; stderr: string };

  beforeAll(async () => {
    env = { FABRICKS_NATIVE_CACHE: process.env.FABRICKS_TEST_NATIVE_CACHE ?? (await mkdtemp(join(tmpdir(), 'fabricks-native-sdk-'))) };
    // the fixture the FastMCP tests use, written for the official SDK's FastMCP (mcp 1.x)
    catalog = await project({
      'fabricks.toml': pyToml('server.py'),
      'requirements.txt': `${MCP1}\n`,
      'server.py': await fixture('mcp-python/server.py'),
      'catalog.py': await fixture('mcp-python/catalog.py'),
    });
    built = await fabricks(['build', catalog, '--progress', 'json'], { env });
  }, 1_500_000);

  it('builds mcp 1.x with pydantic-core and rpds-py built for WebAssembly, and leaves out cryptography and cffi with one warning each', async () => {
    expect(built.status, built.stderr).toBe(0);
    const notes = events(built.stderr).flatMap((e) => (e.event === 'note' && e.code === 'native-left-out' ? [[e.subject, e.detail]] : []));
    expect(notes).toEqual([
      ['package cffi 2.1.1', expect.stringMatching(/^left out of the build: only an optional feature needs it \(required by mcp → PyJWT\[crypto\] → cryptography\), and fabricks cannot build it for WebAssembly: its build for WebAssembly failed: .*dlfcn\.h.*\[source\] strict-native = true makes this a build error/)],
      ['package cryptography 51.0.1', expect.stringMatching(/^left out of the build: only an optional feature needs it \(required by mcp → PyJWT\[crypto\]\), and fabricks cannot build it for WebAssembly: it requires cffi 2\.1\.1, which cannot be built/)],
    ]);
    const packages = (await lockOf(catalog)).python.packages;
    const by = (name: string) => packages.find((p) => p.name === name);
    expect(by('pydantic_core')).toMatchObject({ sdist: expect.stringMatching(/^pydantic_core-[\d.]+\.tar\.gz$/), built: expect.stringMatching(/^sha256:/) });
    expect(by('rpds-py')).toMatchObject({ sdist: expect.stringMatching(/\.tar\.gz$/) });
    expect(by('cryptography')).toMatchObject({ 'left-out': expect.stringContaining('it requires cffi'), reason: 'requires-left-out', 'required-by': 'mcp → PyJWT[crypto]' });
    // why, as the compiler said it; and the modules each is imported by, as its wheel says (cffi's top_level.txt)
    expect(by('cffi')).toMatchObject({ reason: 'missing-header', modules: ['_cffi_backend', 'cffi'] });
    expect(by('cryptography')).toMatchObject({ modules: ['cryptography'] });
    // what only cffi needed goes with it
    expect(by('pycparser')).toBeUndefined();
    expect(by('PyJWT')).toMatchObject({ wheel: expect.stringMatching(/none-any\.whl$/) });
  });

  it('serves FastMCP over stdio as the official SDK does on this host: tools with pydantic models, resources, prompts', async () => {
    // the same server on the host's Python with the same SDK gives the expected answers
    const theirs = await mcpPythonJson('mcp_client.py', ['fixture', 'stdio', mcpPython, join(repoRoot, 'test', 'fixtures', 'mcp-python', 'server.py')]);
    const ours = await mcpPythonJson('mcp_client.py', ['fixture', 'stdio', process.execPath, join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', catalog], { FABRICKS_HOME: inject('fabricksHome'), ...env });
    expect(ours.initialize.serverInfo).toEqual({ name: 'catalog', version: '1.30.0' });
    expect(ours.point.structuredContent).toEqual({ x: 1, y: 2 });
    expect(ours).toEqual(theirs);
  });

  it('serves the same server over Streamable HTTP (its app found in the entrypoint)', async () => {
    const served = await fabricksServe(catalog, [], { env, allowListen: true });
    try {
      const ours = await mcpPythonJson('mcp_client.py', ['fixture', 'http', `${served.url}/mcp`]);
      const stdio = await mcpPythonJson('mcp_client.py', ['fixture', 'stdio', mcpPython, join(repoRoot, 'test', 'fixtures', 'mcp-python', 'server.py')]);
      expect(ours).toEqual(stdio);
    } finally {
      await served.stop();
    }
  });

  it('runs the low-level Server with stdio_server', async () => {
    const dir = await project({ 'fabricks.toml': pyToml('server.py'), 'requirements.txt': `${MCP1}\n`, 'server.py': await fixture('mcp-python-sdk/lowlevel_v1.py') });
    const steps = JSON.stringify([['initialize'], ['tools'], ['call', 'shout', { text: 'hi' }]]);
    const out = await mcpPythonJson('mcp_steps.py', [steps, 'stdio', process.execPath, join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir], { FABRICKS_HOME: inject('fabricksHome'), ...env });
    expect(out[0].serverInfo).toEqual({ name: 'low', version: '1.30.0' });
    expect(out[1].map((t: { name: string }) => t.name)).toEqual(['shout']);
    expect(out[2]).toEqual({ content: [{ type: 'text', text: 'HI' }], isError: false });
  });

  it('mcp 2.x builds, and its server stops at its import of cryptography with an error that says why (the wall: cryptography needs OpenSSL and cffi)', async () => {
    const dir = await project({ 'fabricks.toml': pyToml('server.py'), 'requirements.txt': 'mcp==2.3.0\n', 'server.py': await fixture('mcp-python-sdk/server_v2.py') });
    const r = await fabricks(['run', '-q', dir], { env, input: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('from cryptography.exceptions import InvalidTag');
    expect(r.stderr).toMatch(
      /ModuleNotFoundError: No module named 'cryptography': the Python package cryptography 51\.0\.1 \(required by mcp → PyJWT\[crypto\], an optional feature\) was left out of the fabricks build, which cannot build it for WebAssembly: it requires cffi 2\.1\.1/,
    );
  });
});

describe('a compiled package only an extra needs', () => {
  const main = [
    'import jwt',
    'try:',
    '    import cryptography',
    'except ModuleNotFoundError as e:',
    '    print(type(e).__name__, e.name)',
    '    print(e)',
    'print("has_crypto", jwt.algorithms.has_crypto)',
    'print(jwt.decode(jwt.encode({"a": 1}, "k" * 32, algorithm="HS256"), "k" * 32, algorithms=["HS256"]))',
    '',
  ].join('\n');

  it('is left out: the rest works, and importing it raises ModuleNotFoundError naming it, who needs it and why', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'fabricks-native-'));
    const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'pyjwt[crypto]==2.15.1\n', 'main.py': main });
    const r = await fabricks(['run', dir], { env: { FABRICKS_NATIVE_CACHE: cache } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.match(/warning: package \S+ [\d.]+: left out of the build/g)).toEqual(['warning: package cffi 2.1.1: left out of the build', 'warning: package cryptography 51.0.1: left out of the build']);
    expect(r.stderr).toContain('(required by PyJWT[crypto])');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('ModuleNotFoundError cryptography');
    expect(lines[1]).toMatch(/^No module named 'cryptography': the Python package cryptography 51\.0\.1 \(required by PyJWT\[crypto\], an optional feature\) was left out of the fabricks build, which cannot build it for WebAssembly: it requires cffi 2\.1\.1, which cannot be built: its build for WebAssembly failed: .*dlfcn\.h/);
    expect(lines.slice(2)).toEqual(['has_crypto False', "{'a': 1}", '']);
  });

  it('is a build error with [source] strict-native = true, as is one the project requires itself', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'fabricks-native-'));
    const strict = await project({ 'fabricks.toml': pyToml('main.py', 'strict-native = true\n'), 'requirements.txt': 'pyjwt[crypto]==2.15.1\n', 'main.py': main });
    const r = await fabricks(['build', strict], { env: { FABRICKS_NATIVE_CACHE: cache } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: the Python package cffi 2\.1\.1 \(required by PyJWT\[crypto\] → cryptography\) has compiled code and no pure-Python wheel, and fabricks cannot build it for WebAssembly: its build for WebAssembly failed: .*dlfcn\.h/);
    expect(r.stderr).toContain('hint: only an optional feature needs it (PyJWT[crypto] → cryptography), so without [source] strict-native = true the build leaves it out');

    // required without an extra: an error as soon as cffi's C build fails (seconds; nothing else is built), with the chain and the compiler's line
    const direct = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': 'cryptography==51.0.1\n', 'main.py': 'import cryptography\n' });
    const started = Date.now();
    const d = await fabricks(['build', direct], { env: { FABRICKS_NATIVE_CACHE: cache } });
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(/error: building the C extension of cffi 2\.1\.1 \(required by cryptography\) for WebAssembly failed: [\s\S]*'dlfcn\.h' file not found/);
    expect(d.stderr).not.toContain('ResolutionImpossible');
    expect(d.stderr).not.toContain('building cryptography');
    expect(Date.now() - started).toBeLessThan(120_000);
  });
});
