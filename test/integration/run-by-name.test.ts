import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stdioClient, textOf } from '../mcp-client.js';
import { events, exists, fabricks, project, repoRoot } from '../helpers.js';
import { unchangedPackageBuild } from '../../src/app/package.js';
import { openContext } from '../../src/home/context.js';

/**
 * Published MCP servers built and run by name (issue 22): `fabricks build npm:...` and
 * `pypi:...` resolve, check and install the package once into the home's cache and build it as
 * a project; `fabricks run npm:...` drives it over stdio with the official TypeScript client;
 * grants come only from the flags; `fabricks init --from` writes a project that plain `fabricks
 * build` builds. The packages are ones the corpora pin (test/corpus), at the same versions.
 */
const bin = join(repoRoot, 'bin', 'fabricks.js');
const EVERYTHING = 'npm:@modelcontextprotocol/server-everything@2026.8.31';
const GITLAB = 'npm:@modelcontextprotocol/server-gitlab@2025.4.25';
const HELLO = 'npm:mcp-hello-world@1.1.2';
const CALCULATOR = 'pypi:mcp-server-calculator==0.2.1';
// the newest mcp asks for mcp 2, which does not build here (test/corpus/python/servers.mjs)
const WITH_MCP = ['--with', 'mcp==1.30.0'];

/** The Python corpus's shared cache of wheels built for the runtime: pydantic-core is built once per machine. */
let pyEnv: Record<string, string>;
beforeAll(async () => {
  pyEnv = { FABRICKS_NATIVE_CACHE: process.env.FABRICKS_TEST_NATIVE_CACHE ?? (await mkdtemp(join(tmpdir(), 'fabricks-native-byname-'))) };
});


describe('a published npm MCP server by name', () => {
  it('builds with fabricks build npm:..., showing and recording the resolved package', async () => {
    const r = await fabricks(['build', '--json', '-q', EVERYTHING]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.reference).toBe('modelcontextprotocol-server-everything:2026.8.31');
    expect(out.package).toMatchObject({ pinned: EVERYTHING, version: '2026.8.31', program: 'mcp-server-everything' });
    expect(out.package.integrity).toMatch(/^sha512-/);
    // the project in the cache: package.json, the lock npm wrote (the same integrity) and fabricks.toml
    const dir: string = out.package.dir;
    expect(dir.startsWith(join(inject('fabricksHome'), 'cache', 'packages', 'npm'))).toBe(true);
    const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8'));
    expect(lock.packages['node_modules/@modelcontextprotocol/server-everything'].integrity).toBe(out.package.integrity);
    expect(await readFile(join(dir, 'fabricks.toml'), 'utf8')).toContain('entrypoint = "node_modules/@modelcontextprotocol/server-everything/dist/index.js"');
    // granted nothing
    const inspected = await fabricks(['inspect', '--json', EVERYTHING]);
    expect(inspected.status, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      reference: 'modelcontextprotocol-server-everything:2026.8.31',
      entrypoint: 'node_modules/@modelcontextprotocol/server-everything/dist/index.js',
      capabilities: { network: { connect: [], listen: [] }, env: { allow: [] }, filesystem: { mounts: [] } },
      published: { package: EVERYTHING, integrity: out.package.integrity },
    });
  }, 600_000);

  it('runs with fabricks run npm:..., driven by the official TypeScript client', async () => {
    const { client } = await stdioClient(['run', '-q', EVERYTHING, '--', 'stdio']);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));
      const echoed = await client.callTool({ name: 'echo', arguments: { message: 'hi from a package' } });
      expect(echoed.isError ?? false).toBe(false);
      expect(textOf(echoed)).toBe('Echo: hi from a package');
    } finally {
      await client.close();
    }
  }, 600_000);

  it('runs again from the cache: nothing resolved, installed or built', async () => {
    const before = await readdir(join(inject('fabricksHome'), 'cache', 'packages', 'npm'));
    const { client, stderr } = await stdioClient(['run', '--progress', 'json', EVERYTHING, '--', 'stdio']);
    try {
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    const r = { stderr: stderr() };
    const steps = events(r.stderr).filter((e) => e.event === 'step-start').map((e) => (e as { step: string }).step);
    expect(steps).not.toContain('resolve');
    expect(steps).not.toContain('install');
    expect(steps).not.toContain('bundle');
    const build = events(r.stderr).find((e) => e.event === 'step-done' && e.step === 'build');
    expect(build, r.stderr).toMatchObject({ cached: true });
    expect(await readdir(join(inject('fabricksHome'), 'cache', 'packages', 'npm'))).toEqual(before);
    // what a spawn granted the same finds: the package's fingerprint, not a no-op build
    const ctx = await openContext({ home: inject('fabricksHome') });
    const fingerprinted = await unchangedPackageBuild(EVERYTHING, { grants: { connect: [], env: [], mount: [] }, values: true }, ctx);
    expect(fingerprinted?.manifest.digest).toBe(build && (build as { digest?: string }).digest);
    // granted something else, it is another build
    expect(await unchangedPackageBuild(EVERYTHING, { grants: { connect: ['example.com'], env: [], mount: [] }, values: true }, ctx)).toBeUndefined();
  }, 600_000);
});

describe('grants from flags', () => {
  let api: Server;
  let port: number;
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  beforeAll(async () => {
    // GitLab's project search, as the server asks it, on loopback
    api = createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Total', '0');
      res.end('[]');
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    port = (api.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => api.close(() => r())));

  const gitlab = (extra: string[]) => ['run', '-q', GITLAB, '--env', 'GITLAB_PERSONAL_ACCESS_TOKEN=dummy-token', '--env', `GITLAB_API_URL=http://127.0.0.1:${port}/api/v4`, ...extra];

  it('without --connect, a request is refused, naming the capability; nothing reaches the host', async () => {
    const { client } = await stdioClient(gitlab([]));
    try {
      // the server lets fetch's TypeError through its handler: the client gets it as an MCP error
      const outcome = await client.callTool({ name: 'search_repositories', arguments: { search: 'webassembly' } }).then((r) => JSON.stringify(r), (e: Error) => e.message);
      expect(outcome).toContain(`network access to 127.0.0.1:${port} is not granted`);
      expect(outcome).toContain('[capabilities.network] connect');
      expect(seen).toEqual([]);
    } finally {
      await client.close();
    }
  }, 600_000);

  it('with --connect, it reaches the host, with the variable --env gave it; the artifact records the grants', async () => {
    const { client } = await stdioClient(gitlab(['--connect', `127.0.0.1:${port}`]));
    try {
      // past the policy: the request reaches the host, with the token --env gave, and its answer
      // comes back (node-fetch reads the body as a stream, from a stdin handler: node-http.test.ts)
      const result = await client.callTool({ name: 'search_repositories', arguments: { search: 'webassembly' } }, undefined, { timeout: 30_000 });
      expect(seen).toEqual([{ url: '/api/v4/projects?search=webassembly&page=1&per_page=20', auth: 'Bearer dummy-token' }]);
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect(JSON.parse(textOf(result))).toEqual({ count: 0, items: [] });
    } finally {
      await client.close();
    }
    const inspected = JSON.parse((await fabricks(['inspect', '--json', 'modelcontextprotocol-server-gitlab:2025.4.25'])).stdout);
    expect(inspected.capabilities.network.connect).toEqual([`127.0.0.1:${port}`]);
    expect(inspected.capabilities.env.allow.sort()).toEqual(['GITLAB_API_URL', 'GITLAB_PERSONAL_ACCESS_TOKEN']);
    // values are given at run time, never recorded
    expect(JSON.stringify(inspected)).not.toContain('dummy-token');
  }, 600_000);

  it('takes a --profile with the schema of fabricks.toml, and a --mount', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-profile-'));
    await writeFile(join(dir, 'profile.toml'), '[capabilities.network]\nconnect = ["api.example.com"]\n\n[capabilities.env]\nallow = ["LOG_LEVEL"]\n');
    const r = await fabricks(['build', '--json', '-q', HELLO, '--profile', join(dir, 'profile.toml'), '--mount', `${dir}:/data:rw`]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).reference).toBe('mcp-hello-world:1.1.2');
    const inspected = JSON.parse((await fabricks(['inspect', '--json', 'mcp-hello-world:1.1.2'])).stdout);
    expect(inspected.capabilities).toMatchObject({ network: { connect: ['api.example.com'] }, env: { allow: ['LOG_LEVEL'] }, filesystem: { mounts: [{ guest: '/data', mode: 'rw' }] } });
  }, 600_000);

  it('refuses the package flags for a project, which its fabricks.toml grants', async () => {
    const r = await fabricks(['run', join(repoRoot, 'examples', 'hello-js'), '--connect', 'example.com']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--connect example.com: this flag is for a package reference');
    const b = await fabricks(['build', join(repoRoot, 'examples', 'hello-js'), '--env', 'X']);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('--env is for building a published package');
    const v = await fabricks(['build', HELLO, '--env', 'TOKEN=secret']);
    expect(v.status).toBe(2);
    expect(v.stderr).toContain('a build records which variables the service may read, never their values');
  }, 120_000);
});

describe('fabricks init --from', () => {
  it('writes an npm project that plain fabricks build builds, and never overwrites one', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'fabricks-init-')), 'hello');
    const r = await fabricks(['init', '--from', HELLO, '--dir', dir, '--connect', 'api.example.com', '--env', 'LOG_LEVEL']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('wrote node_modules, package-lock.json, package.json, fabricks.toml');
    const toml = await readFile(join(dir, 'fabricks.toml'), 'utf8');
    expect(toml).toContain('entrypoint = "node_modules/mcp-hello-world/build/stdio.js"');
    expect(toml).toContain('connect = ["api.example.com"]');
    expect(toml).toContain('allow = ["LOG_LEVEL"]');
    const built = await fabricks(['build', '--json', '-q', dir]);
    expect(built.status, built.stderr).toBe(0);
    expect(JSON.parse(built.stdout).reference).toBe('mcp-hello-world:1.1.2');
    const { client } = await stdioClient(['run', '-q', dir]);
    try {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'kept' } }))).toBe('You said: kept');
    } finally {
      await client.close();
    }
    const again = await fabricks(['init', '--from', HELLO, '--dir', dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/fabricks\.toml already exists; fabricks init does not overwrite it/);
    expect(await readFile(join(dir, 'fabricks.toml'), 'utf8')).toBe(toml);
  }, 600_000);

  it('writes a PyPI project: requirements.txt and the console script\'s launcher', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-init-py-'));
    const r = await fabricks(['init', '--from', CALCULATOR, '--dir', dir, ...WITH_MCP]);
    expect(r.status, r.stderr).toBe(0);
    expect(await readFile(join(dir, 'requirements.txt'), 'utf8')).toBe('mcp-server-calculator==0.2.1\nmcp==1.30.0\n');
    expect(await readFile(join(dir, '_fabricks_launcher.py'), 'utf8')).toContain('from mcp_server_calculator import main\nsys.exit(main())');
    expect(await exists(join(dir, 'fabricks.toml'))).toBe(true);
  }, 120_000);
});

describe('plain fabricks init', () => {
  it('writes fabricks.toml for the code in a folder, granted nothing, that builds and runs', async () => {
    const dir = await project({ 'main.js': 'console.log(`hi from ${process.argv[2]}`);\n' });
    const r = await fabricks(['init', '--dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    const toml = await readFile(join(dir, 'fabricks.toml'), 'utf8');
    expect(toml).toContain('image = "fabricks.dev/runtimes/node"');
    expect(toml).toContain('entrypoint = "main.js"');
    expect(toml).not.toMatch(/^\[capabilities/m);
    const ran = await fabricks(['run', '-q', dir, '--', 'init']);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('hi from init\n');
    const again = await fabricks(['init', '--dir', dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('fabricks.toml already exists; fabricks init does not overwrite it');
  }, 300_000);
});

describe('a published PyPI MCP server by name', () => {
  it('builds with fabricks build pypi:... --with, and runs, driven by the official TypeScript client', async () => {
    const r = await fabricks(['build', '--json', '-q', CALCULATOR, ...WITH_MCP], { env: pyEnv });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.reference).toBe('mcp-server-calculator:0.2.1');
    expect(out.package).toMatchObject({ pinned: CALCULATOR, program: 'mcp-server-calculator' });
    expect(out.package.integrity).toMatch(/^sha256:[0-9a-f]{64}$/);
    // the build pinned every wheel with its hash, the package's own among them, as checked when resolved
    const lock = await readFile(join(out.package.dir, 'fabricks.lock'), 'utf8');
    expect(lock).toContain(`sha256 = "${out.package.integrity.slice('sha256:'.length)}"`);
    const inspected = await fabricks(['inspect', '--json', CALCULATOR, ...WITH_MCP], { env: pyEnv });
    expect(inspected.status, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ reference: 'mcp-server-calculator:0.2.1', entrypoint: '_fabricks_launcher.py' });
    const { client } = await stdioClient(['run', '-q', CALCULATOR, ...WITH_MCP], pyEnv);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('calculate');
      const result = await client.callTool({ name: 'calculate', arguments: { expression: '2*(3+4)' } });
      expect(textOf(result)).toBe('14');
    } finally {
      await client.close();
    }
  }, 1_500_000);
});

describe('errors name the reference at fault and what to do', () => {
  it('an unknown npm package, a version it does not have, an unreachable registry', async () => {
    const unknown = await fabricks(['build', 'npm:fabricks-no-such-package-4f7a@1.0.0']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('error: npm:fabricks-no-such-package-4f7a@1.0.0: the npm registry has no package fabricks-no-such-package-4f7a');
    const version = await fabricks(['build', 'npm:@modelcontextprotocol/server-everything@9.9.9']);
    expect(version.status).toBe(1);
    expect(version.stderr).toContain('has no version 9.9.9 on the npm registry');
    expect(version.stderr).toContain('hint: see the versions it has with: npm view @modelcontextprotocol/server-everything versions');
    const offline = await fabricks(['build', 'npm:mcp-hello-world@^1'], { env: { npm_config_registry: 'http://127.0.0.1:1/', npm_config_fetch_retries: '0' } });
    expect(offline.status).toBe(1);
    expect(offline.stderr).toContain('error: npm:mcp-hello-world@^1: the npm registry could not be reached (ECONNREFUSED)');
  }, 120_000);

  it('an npm package with several programs, or none', async () => {
    const several = await fabricks(['build', 'npm:typescript@5.9.3']);
    expect(several.status).toBe(1);
    expect(several.stderr).toContain('typescript 5.9.3 has 2 bins (tsc, tsserver) and none is named like the package');
    expect(several.stderr).toContain('hint: choose one: npm:typescript@5.9.3#tsc, or --bin tsc');
    const none = await fabricks(['build', 'npm:@types/node@22.0.0']);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('@types/node 22.0.0 has no program to run: its package.json has no bin, exports or main');
  }, 120_000);

  it('an unknown PyPI package, a version it does not have, an unreachable index', async () => {
    const unknown = await fabricks(['build', 'pypi:fabricks-no-such-package-4f7a==1.0']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('error: pypi:fabricks-no-such-package-4f7a==1.0: the package index has no package fabricks-no-such-package-4f7a');
    const version = await fabricks(['build', 'pypi:mcp-server-calculator==9.9.9']);
    expect(version.status).toBe(1);
    expect(version.stderr).toContain('mcp-server-calculator has no version 9.9.9 on the package index');
    expect(version.stderr).toMatch(/hint: its newest versions: .*0\.2\.1.*; name one, e\.g\. pypi:mcp-server-calculator==/);
    const offline = await fabricks(['build', 'pypi:mcp-server-calculator'], { env: { PIP_INDEX_URL: 'http://127.0.0.1:1/simple' } });
    expect(offline.status).toBe(1);
    expect(offline.stderr).toContain('error: pypi:mcp-server-calculator: the package index http://127.0.0.1:1/simple could not be reached for mcp-server-calculator');
  }, 120_000);

  it('a reference that is not one', async () => {
    const r = await fabricks(['build', 'npm:Not Valid']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error: npm:Not Valid: "Not Valid" is not an npm package name');
  });
});

describe('fabricks gc', () => {
  it('removes package installs whose app is not stored, and interrupted ones, once an hour old', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fabricks-gc-packages-'));
    const packages = join(home, 'cache', 'packages', 'npm');
    const record = { name: 'gone-pkg', version: '1.0.0', pinned: 'npm:gone-pkg@1.0.0', integrity: 'sha512-x', program: 'gone-pkg', entrypoint: 'node_modules/gone-pkg/index.js', files: [] };
    const dirs = { interrupted: join(packages, '.install-abc'), removed: join(packages, 'gone-pkg-1.0.0-000000000000'), young: join(packages, 'young-pkg-1.0.0-000000000000') };
    for (const dir of Object.values(dirs)) await mkdir(join(dir, '.fabricks'), { recursive: true });
    await writeFile(join(dirs.removed, '.fabricks', 'published.json'), JSON.stringify(record));
    await writeFile(join(dirs.young, '.fabricks', 'published.json'), JSON.stringify({ ...record, name: 'young-pkg' }));
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(dirs.interrupted, old, old);
    await utimes(dirs.removed, old, old);
    const r = await fabricks(['gc', '--json'], { home });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).packages.sort()).toEqual([dirs.interrupted, dirs.removed].sort());
    expect(await readdir(packages)).toEqual(['young-pkg-1.0.0-000000000000']);
  }, 120_000);
});
