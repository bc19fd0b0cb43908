import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, fabricks, project, pyToml, repoRoot } from '../helpers.js';
import { fabricksServe } from '../hosts/fabricks-run-serve.js';
import { mcpPython, mcpPythonJson } from '../mcp-tools.js';

/**
 * The official MCP Python SDK (the `mcp` package from the index, with pydantic 2) run unchanged
 * in the fabricks runtime, driven by the official Python client: pydantic-core, rpds-py and
 * cryptography (Rust, with OpenSSL built for WebAssembly) and cffi (C) are built from their
 * sdists. One native cache for the whole file, so each builds at most once per run
 * (FABRICKS_TEST_NATIVE_CACHE names one that outlives the run, for a warm cache).
 *
 * cryptography 51.0.1's Cargo.lock names asn1 0.25.1, which the crates.io this build machine
 * reaches does not have (cargo: failed to select a version for the requirement `asn1 =
 * "^0.25.0"`); 50.0.2's crates are all there. The mcp 2.3.0 server's requirements name mcp
 * alone, as its users' would, and fabricks passes 51.0.1 over for 50.0.2 by itself (and says
 * so); the others pin 50.0.2, as a user may, which skips that attempt.
 */

const MCP1 = 'mcp==1.30.0';
const MCP2 = 'mcp==2.3.0';
const CRYPTOGRAPHY = 'cryptography==50.0.2';
const fixture = (name: string) => readFile(join(repoRoot, 'test', 'fixtures', name), 'utf8');
type Lock = { python: { packages: Array<Record<string, string | string[]>> } };
const lockOf = async (dir: string): Promise<Lock> => (await import('smol-toml')).parse(await readFile(join(dir, 'fabricks.lock'), 'utf8')) as Lock;
const leftOutNotes = (stderr: string) => events(stderr).filter((e) => e.event === 'note' && e.code === 'native-left-out');
let nativeEnv: Promise<Record<string, string>> | undefined;
/** The one native cache of this file. */
const sharedEnv = () =>
  (nativeEnv ??= (async () => ({ FABRICKS_NATIVE_CACHE: process.env.FABRICKS_TEST_NATIVE_CACHE ?? (await mkdtemp(join(tmpdir(), 'fabricks-native-sdk-'))) }))());

describe('the official MCP Python SDK, unchanged', () => {
  let env: Record<string, string>;
  let catalog: string;
  let built: { status: number | null; stderr: string };

  beforeAll(async () => {
    env = await sharedEnv();
    // the fixture the FastMCP tests use, written for the official SDK's FastMCP (mcp 1.x)
    catalog = await project({
      'fabricks.toml': pyToml('server.py'),
      'requirements.txt': `${MCP1}\n${CRYPTOGRAPHY}\n`,
      'server.py': await fixture('mcp-python/server.py'),
      'catalog.py': await fixture('mcp-python/catalog.py'),
    });
    built = await fabricks(['build', catalog, '--progress', 'json'], { env });
  }, 1_500_000);

  it('builds mcp 1.x with pydantic-core, rpds-py, cryptography and cffi built for WebAssembly, leaving nothing out', async () => {
    expect(built.status, built.stderr).toBe(0);
    expect(leftOutNotes(built.stderr)).toEqual([]);
    const packages = (await lockOf(catalog)).python.packages;
    const by = (name: string) => packages.find((p) => p.name === name);
    expect(by('pydantic_core')).toMatchObject({ sdist: expect.stringMatching(/^pydantic_core-[\d.]+\.tar\.gz$/), built: expect.stringMatching(/^sha256:/) });
    expect(by('rpds-py')).toMatchObject({ sdist: expect.stringMatching(/\.tar\.gz$/) });
    expect(by('cryptography')).toMatchObject({ version: '50.0.2', sdist: 'cryptography-50.0.2.tar.gz', built: expect.stringMatching(/^sha256:/) });
    expect(by('cffi')).toMatchObject({ sdist: expect.stringMatching(/^cffi-[\d.]+\.tar\.gz$/), built: expect.stringMatching(/^sha256:/) });
    for (const p of packages) expect(p['left-out'], p.name as string).toBeUndefined();
    // cffi's pure-Python dependency comes with it now
    expect(by('pycparser')).toMatchObject({ wheel: expect.stringMatching(/none-any\.whl$/) });
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
    const dir = await project({ 'fabricks.toml': pyToml('server.py'), 'requirements.txt': `${MCP1}\n${CRYPTOGRAPHY}\n`, 'server.py': await fixture('mcp-python-sdk/lowlevel_v1.py') });
    const steps = JSON.stringify([['initialize'], ['tools'], ['call', 'shout', { text: 'hi' }]]);
    const out = await mcpPythonJson('mcp_steps.py', [steps, 'stdio', process.execPath, join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir], { FABRICKS_HOME: inject('fabricksHome'), ...env });
    expect(out[0].serverInfo).toEqual({ name: 'low', version: '1.30.0' });
    expect(out[1].map((t: { name: string }) => t.name)).toEqual(['shout']);
    expect(out[2]).toEqual({ content: [{ type: 'text', text: 'HI' }], isError: false });
  });

});

/** What the official client gets from test/fixtures/mcp-python-sdk/server_v2.py, in mcp_steps.py's steps. */
const V2_STEPS = [
  ['initialize'],
  ['tools'],
  ['call', 'total', { lines: [{ sku: 'ABC-1', quantity: 2, price: 3.5 }], discount: 0.1 }],
  ['call', 'total', { lines: [{ sku: 'bad', quantity: 0, price: 1 }] }],
  ['templates'],
  ['resource', 'orders://ABC-1/stock'],
  ['prompt', 'summarize', { order_id: '42' }],
];

function expectV2Answers(out: any[]) {
  expect(out[0]).toMatchObject({ serverInfo: { name: 'orders' }, instructions: 'Orders and their totals.' });
  expect(out[1].map((t: { name: string }) => t.name)).toEqual(['total', 'schema']);
  // pydantic's schema of the model with Field constraints, and the output schema of the return type
  expect(out[1][0].inputSchema.$defs.Line.properties.sku).toEqual({ description: 'Stock keeping unit', pattern: '^[A-Z]{3}-\\d+$', title: 'Sku', type: 'string' });
  expect(out[1][0].outputSchema).toMatchObject({ title: 'Total', required: ['lines', 'total'] });
  expect(out[2]).toMatchObject({ structuredContent: { lines: 1, total: 6.3 }, isError: false });
  expect(out[3].isError).toBe(true);
  expect(out[3].content[0].text).toMatch(/^Error executing tool total: 2 validation errors for totalArguments\nlines\.0\.sku\n {2}String should match pattern/);
  expect(out[4]).toEqual([{ name: 'stock', uriTemplate: 'orders://{sku}/stock', description: 'Units in stock.', mimeType: 'text/plain' }]);
  expect(out[5]).toEqual({ contents: [{ uri: 'orders://ABC-1/stock', mimeType: 'text/plain', text: 'ABC-1: 7 in stock' }] });
  expect(out[6]).toEqual({ description: 'Asks for a summary of an order.', messages: [{ role: 'user', content: { type: 'text', text: 'Summarize order 42.' } }] });
}

describe('the official MCP Python SDK 2.x, unchanged', () => {
  let env: Record<string, string>;
  let orders: string;
  let built: { status: number | null; stderr: string };

  beforeAll(async () => {
    env = await sharedEnv();
    orders = await project({ 'fabricks.toml': pyToml('server.py'), 'requirements.txt': `${MCP2}\n`, 'server.py': await fixture('mcp-python-sdk/server_v2.py') });
    built = await fabricks(['build', orders, '--progress', 'json'], { env });
  }, 1_500_000);

  it('builds mcp 2.3.0 with cryptography (and OpenSSL) and cffi for WebAssembly, leaving nothing out', async () => {
    expect(built.status, built.stderr).toBe(0);
    expect(leftOutNotes(built.stderr)).toEqual([]);
    const packages = (await lockOf(orders)).python.packages;
    expect(packages.find((p) => p.name === 'mcp')).toMatchObject({ version: '2.3.0' });
    // the newest cryptography cannot be built here (a crate the registry lacks): the newest that can
    expect(packages.find((p) => p.name === 'cryptography')).toMatchObject({ version: '50.0.2', built: expect.stringMatching(/^sha256:/) });
    const older = events(built.stderr).filter((e) => e.event === 'note' && e.code === 'native-older-release');
    // 51.0.1 and 51.0.0 both lock asn1 0.25 (found by this build, or remembered from an earlier one
    // on this machine when the native cache outlives the run)
    const passedOver = expect.stringMatching(/the Rust crate asn1 \^0\.25\.0 that its Cargo\.lock pins is not served by the crate registry this machine reaches[\s\S]*(resolving again without this release|\(found by an earlier build on this machine\); left out of the resolution)/);
    expect(older.map((e) => (e as { subject: string }).subject).sort()).toEqual(['package cryptography 51.0.0', 'package cryptography 51.0.1']);
    for (const e of older) expect(e).toMatchObject({ detail: passedOver });
  });

  it('serves MCPServer over stdio: tools with pydantic models, resources, prompts', async () => {
    const out = await mcpPythonJson('mcp_steps.py', [JSON.stringify(V2_STEPS), 'stdio', process.execPath, join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', orders], { FABRICKS_HOME: inject('fabricksHome'), ...env });
    expectV2Answers(out);
  });

  it('serves the same server over Streamable HTTP', async () => {
    const served = await fabricksServe(orders, [], { env, allowListen: true });
    try {
      expectV2Answers(await mcpPythonJson('mcp_steps.py', [JSON.stringify(V2_STEPS), 'http', `${served.url}/mcp`]));
    } finally {
      await served.stop();
    }
  });

  it('runs the low-level Server (handlers given to the constructor) with stdio_server', async () => {
    const dir = await project({ 'fabricks.toml': pyToml('server.py'), 'requirements.txt': `${MCP2}\n${CRYPTOGRAPHY}\n`, 'server.py': await fixture('mcp-python-sdk/lowlevel_v2.py') });
    const steps = JSON.stringify([['initialize'], ['tools'], ['call', 'shout', { text: 'hi' }]]);
    const out = await mcpPythonJson('mcp_steps.py', [steps, 'stdio', process.execPath, join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir], { FABRICKS_HOME: inject('fabricksHome'), ...env });
    expect(out[0].serverInfo).toMatchObject({ name: 'low' });
    expect(out[1].map((t: { name: string }) => t.name)).toEqual(['shout']);
    expect(out[2]).toEqual({ content: [{ type: 'text', text: 'HI' }], isError: false });
  });
});

/**
 * The `fastmcp` package 2.x (pydantic 2, the official SDK 1.x under it). 2.13.3 is its newest
 * 2.x that builds here: from 2.14 it requires pydocket, which requires burner-redis, a Rust
 * crate that embeds Lua through lua-src, whose build script panics "don't know how to build Lua
 * for wasm32-wasip1" (fabricks fails the build with cargo's lines).
 */
describe('fastmcp 2.x, unchanged', () => {
  it('builds and serves over stdio: tools with pydantic models, resources, prompts', async () => {
    const env = await sharedEnv();
    const dir = await project({ 'fabricks.toml': pyToml('server.py'), 'requirements.txt': 'fastmcp==2.13.3\n', 'server.py': await fixture('mcp-python-sdk/server_fastmcp2.py') });
    const built = await fabricks(['build', dir, '--progress', 'json'], { env });
    expect(built.status, built.stderr).toBe(0);
    expect(leftOutNotes(built.stderr)).toEqual([]);
    expect((await lockOf(dir)).python.packages.find((p) => p.name === 'fastmcp')).toMatchObject({ version: '2.13.3' });
    const steps = [
      ['initialize'],
      ['tools'],
      ['call', 'total', { lines: [{ sku: 'ABC-1', quantity: 2, price: 3.5 }], discount: 0.1 }],
      ['call', 'total', { lines: [{ sku: 'bad', quantity: 0, price: 1 }] }],
      ['resource', 'orders://ABC-1/stock'],
      ['prompt', 'summarize', { order_id: '42' }],
    ];
    const out = await mcpPythonJson('mcp_steps.py', [JSON.stringify(steps), 'stdio', process.execPath, join(repoRoot, 'bin', 'fabricks.js'), 'run', '-q', dir], { FABRICKS_HOME: inject('fabricksHome'), ...env });
    expect(out[0]).toMatchObject({ serverInfo: { name: 'orders', version: '2.13.3' }, instructions: 'Orders and their totals.' });
    expect(out[1].map((t: { name: string }) => t.name)).toEqual(['total']);
    expect(out[1][0].inputSchema.$defs.Line.properties.sku).toMatchObject({ pattern: '^[A-Z]{3}-\\d+$', type: 'string' });
    expect(out[2]).toMatchObject({ structuredContent: { lines: 1, total: 6.3 }, isError: false });
    expect(out[3].isError).toBe(true);
    expect(out[3].content[0].text).toMatch(/validation error[\s\S]*String should match pattern/);
    expect(out[4]).toMatchObject({ contents: [{ uri: 'orders://ABC-1/stock', text: 'ABC-1: 7 in stock' }] });
    expect(out[5].messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Summarize order 42.' } }]);
  });
});

describe('cryptography and cffi built for WebAssembly', () => {
  it('a release pinned by the project that the crate registry cannot build fails with the crate, not the resolver', async () => {
    // 51.0.1 locks asn1 0.25.1, which this machine's crates.io lacks; with it pinned there is no
    // older release to take, so the build says what cargo said (and never ResolutionImpossible)
    const env = await sharedEnv();
    const dir = await project({ 'fabricks.toml': pyToml('main.py'), 'requirements.txt': 'cryptography==51.0.1\n', 'main.py': 'import cryptography\n' });
    const r = await fabricks(['build', dir], { env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: building the Rust extension of cryptography 51\.0\.1 \(required by the project\) for WebAssembly failed/);
    expect(r.stderr).toMatch(/failed to select a version for the requirement `asn1 = "\^0\.25\.0"`/);
    expect(r.stderr).toMatch(/hint: the crate registry this machine reaches does not serve asn1 \^0\.25\.0, which cryptography 51\.0\.1's Cargo\.lock pins/);
    expect(r.stderr).not.toMatch(/ResolutionImpossible/);
  });

  const main = [
    'import os',
    'import cffi',
    'import jwt',
    'from cryptography.exceptions import InvalidTag',
    'from cryptography.hazmat.backends.openssl import backend',
    'from cryptography.hazmat.primitives import hashes',
    'from cryptography.hazmat.primitives.asymmetric import ec',
    'from cryptography.hazmat.primitives.ciphers.aead import AESGCM',
    'print(backend.openssl_version_text())',
    'aes = AESGCM(AESGCM.generate_key(bit_length=256))',
    'nonce = os.urandom(12)',
    'sealed = aes.encrypt(nonce, b"request state", b"mcp")',
    'print(aes.decrypt(nonce, sealed, b"mcp").decode(), len(sealed))',
    'try:',
    '    aes.decrypt(nonce, sealed[:-1] + bytes([sealed[-1] ^ 1]), b"mcp")',
    'except InvalidTag:',
    '    print("tampered: InvalidTag")',
    'h = hashes.Hash(hashes.SHA256())',
    'h.update(b"abc")',
    'print(h.finalize().hex())',
    // an EC key from OpenSSL's own random generator (WASI's getentropy), used by PyJWT
    'key = ec.generate_private_key(ec.SECP256R1())',
    'print("has_crypto", jwt.algorithms.has_crypto, jwt.decode(jwt.encode({"a": 1}, key, algorithm="ES256"), key.public_key(), algorithms=["ES256"]))',
    'ffi = cffi.FFI()',
    'print(ffi.sizeof("struct { char a; double b; }"), ffi.new("int[3]", [1, 2, 3])[2])',
    'try:',
    '    ffi.cast("int(*)(int)", 1)(3)',
    'except SystemError as e:',
    '    print(type(e.__cause__).__name__, e.__cause__)',
    'try:',
    '    ffi.callback("int(int)", lambda x: x)',
    'except MemoryError as e:',
    '    print("callback: MemoryError")',
    '',
  ].join('\n');

  it('AES-GCM round trip, SHA-256 and ES256 through OpenSSL; cffi types work, and an ABI-mode call or a callback fails with an exception the program can catch', async () => {
    const env = await sharedEnv();
    const dir = await project({ 'fabricks.toml': pyToml(), 'requirements.txt': `${CRYPTOGRAPHY}\npyjwt[crypto]==2.15.1\n`, 'main.py': main });
    const r = await fabricks(['run', dir], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('left out of the build');
    expect(r.stdout.split('\n')).toEqual([
      expect.stringMatching(/^OpenSSL 3\.5\.\d+ /),
      'request state 29',
      'tampered: InvalidTag',
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      "has_crypto True {'a': 1}",
      '16 3',
      expect.stringMatching(/^NotImplementedError cffi's ABI-mode calls .* are not available in WebAssembly .*use cffi's API mode/),
      'callback: MemoryError',
      '',
    ]);
  });
});
