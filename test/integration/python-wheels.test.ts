import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copySuiteHome, events, machine, project, pyToml } from '../helpers.js';
import { freePort, PASSWORD, startProxy, startRegistry, USER, type CountingProxy, type RegistryServer } from '../registry-servers.js';
import type { ProgressEvent } from '../../src/util/progress.js';

// Wheels built for the runtime (native extensions), shared through a real registry: machine A
// builds rpds-py once (the one Rust build of this file: about a minute or two on 2 cores) and
// pushes it; every other machine here pulls it or shows what happens when it cannot. "No cargo":
// CARGO_PROFILE_RELEASE_OPT_LEVEL=9 makes every cargo build fail, so a build that succeeds with it
// ran no cargo, and one that fails with NATIVE_BUILD_FAILED fell back to building.

const RPDS = 'rpds-py==2026.9.1';
const main = 'import rpds\nprint(type(rpds.HashTrieMap({"a": 1})).__name__, sorted(rpds.HashTrieSet([2, 1])))\n';
const out = 'HashTrieMap [1, 2]\n';
const NO_CARGO = { CARGO_PROFILE_RELEASE_OPT_LEVEL: '9' };
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

type Built = { runtime: { ref: string }; wheels?: Array<{ name: string; version: string; digest: string; size: number; from: string; pulledFrom?: string; pushed?: string }> };
const step = (ev: ProgressEvent[], kind: 'step-start' | 'step-done', name: string) => ev.filter((e) => e.event === kind && e.step === name) as Array<ProgressEvent & { digest?: string; tool?: string }>;
const notes = (ev: ProgressEvent[], code: string) => ev.filter((e) => e.event === 'note' && e.code === code) as Array<ProgressEvent & { subject: string; detail: string }>;

/** The project as another machine checks it out: its files and fabricks.lock, not its build outputs. */
async function checkout(dir: string): Promise<string> {
  const dest = await mkdtemp(join(tmpdir(), 'fabricks-checkout-'));
  await cp(dir, dest, { recursive: true, filter: (s) => !s.includes('.fabricks') });
  return dest;
}

async function cacheEntries(cache: string): Promise<string[]> {
  return (await readdir(cache).catch(() => [] as string[])).filter((f) => /^[0-9a-f]{64}$/.test(f));
}

describe('native wheels shared through an OCI repository', () => {
  let registry: RegistryServer;
  let proxy: CountingProxy;
  let repo: string;
  let dir: string;
  let cacheA: string;
  let a: Awaited<ReturnType<typeof machine>>;
  /** What machine A built and pushed. */
  let wheel: { digest: string; tag: string; bytes: Uint8Array };

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    proxy = await startProxy(registry.host);
    repo = `${proxy.host}/team/wheels`;
    a = await machine({ shareStore: true });
    cacheA = await mkdtemp(join(tmpdir(), 'fabricks-native-a-'));
    dir = await project({ 'fabricks.toml': pyToml('main.py', `wheels = "${repo}"\n`), 'requirements.txt': `${RPDS}\n`, 'main.py': main });
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it(
    'machine A builds rpds-py once and pushes it; machine B, with a fresh home and cache and no working cargo, pulls it, links it and runs it',
    async () => {
      const built = await a.run(['build', dir, '--plain-http', '--push-wheels', '--json', '--progress', 'json'], { env: { FABRICKS_NATIVE_CACHE: cacheA } });
      expect(built.status, built.stderr).toBe(0);
      const ev = events(built.stderr);
      const [buildDone] = step(ev, 'step-done', 'native-build');
      expect(buildDone).toMatchObject({ subject: 'rpds-py 2026.9.1', digest: expect.stringMatching(/^sha256:/) });
      // not there yet, so built here, then pushed under a tag of the action key
      expect(notes(ev, 'wheel-missing')).toHaveLength(1);
      const [pushDone] = step(ev, 'step-done', 'native-push');
      expect(pushDone).toMatchObject({ subject: 'rpds-py 2026.9.1', digest: buildDone!.digest });
      const result = JSON.parse(built.stdout) as Built;
      expect(result.wheels).toEqual([{ name: 'rpds-py', version: '2026.9.1', digest: buildDone!.digest, size: expect.any(Number), from: 'built', pushed: 'sent' }]);

      // in the registry: one tag, name-version-key, one layer (the wheel), annotated with its inputs
      const tags = (await (await fetch(`http://${registry.host}/v2/team/wheels/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags).toHaveLength(1);
      const tag = tags.tags[0]!;
      expect(tag).toMatch(/^rpds-py-2026\.9\.1-[0-9a-f]{64}$/);
      const manifest = (await (await fetch(`http://${registry.host}/v2/team/wheels/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as {
        artifactType: string;
        layers: Array<{ mediaType: string; digest: string; annotations: Record<string, string> }>;
      };
      expect(manifest.artifactType).toBe('application/vnd.fabricks.wheel.config.v1+json');
      expect(manifest.layers).toHaveLength(1);
      expect(manifest.layers[0]).toMatchObject({
        mediaType: 'application/vnd.fabricks.wheel.v1+zip',
        digest: buildDone!.digest,
        annotations: {
          'org.opencontainers.image.title': 'rpds_py-2026.9.1-cp314-cp314-wasi_0_0_0_wasm32.whl',
          'fabricks.wheel.package': 'rpds-py',
          'fabricks.wheel.version': '2026.9.1',
          'fabricks.wheel.sdist-sha256': expect.stringMatching(/^[0-9a-f]{64}$/),
          'fabricks.wheel.toolchain': expect.stringContaining('rustc-web 1.96.0'),
          'fabricks.runtime': 'python:3.14',
        },
      });
      const [entryA] = await cacheEntries(cacheA);
      expect(tag.endsWith(entryA!)).toBe(true);
      const bytes = await readFile(join(cacheA, entryA!, 'rpds_py-2026.9.1-cp314-cp314-wasi_0_0_0_wasm32.whl'));
      wheel = { digest: buildDone!.digest!, tag, bytes };

      // machine B: its own home (the suite's built runtimes copied in, as CI restores them) and native cache, and the checkout with A's lock
      const b = await machine();
      await copySuiteHome(join(b.home, 'store'), 'store');
      const cacheB = await mkdtemp(join(tmpdir(), 'fabricks-native-b-'));
      const dirB = await checkout(dir);
      proxy.reset();
      const pulled = await b.run(['build', dirB, '--plain-http', '--json', '--progress', 'json'], { env: { FABRICKS_NATIVE_CACHE: cacheB, ...NO_CARGO } });
      expect(pulled.status, pulled.stderr).toBe(0);
      const evB = events(pulled.stderr);
      expect(step(evB, 'step-start', 'native-build')).toEqual([]);
      expect(step(evB, 'step-done', 'native-pull')).toEqual([expect.objectContaining({ subject: 'rpds-py 2026.9.1', digest: wheel.digest })]);
      expect((JSON.parse(pulled.stdout) as Built).wheels).toEqual([
        { name: 'rpds-py', version: '2026.9.1', digest: wheel.digest, size: bytes.length, from: 'pulled', pulledFrom: `${repo}:${tag}` },
      ]);
      expect(proxy.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${wheel.digest}`))).toBe(true);
      // in B's cache, the same bytes; the lock still records A's wheel
      const [entryB] = await cacheEntries(cacheB);
      expect(entryB).toBe(entryA);
      expect(sha(await readFile(join(cacheB, entryB!, 'rpds_py-2026.9.1-cp314-cp314-wasi_0_0_0_wasm32.whl')))).toBe(wheel.digest);
      expect(await readFile(join(dirB, 'fabricks.lock'), 'utf8')).toContain(`built = "${wheel.digest}"`);

      const ran = await b.run(['run', '-q', dirB], { env: { FABRICKS_NATIVE_CACHE: cacheB, ...NO_CARGO } });
      expect(ran.status, ran.stderr).toBe(0);
      expect(ran.stdout).toBe(out);

      // once in the cache, a build asks the repository nothing
      proxy.reset();
      const again = await b.run(['build', dirB, '--plain-http', '--json', '-q'], { env: { FABRICKS_NATIVE_CACHE: cacheB, ...NO_CARGO } });
      expect(again.status, again.stderr).toBe(0);
      expect((JSON.parse(again.stdout) as Built).wheels?.[0]?.from).toBe('cache');
      expect(proxy.requests).toEqual([]);
    },
    900_000,
  );

  it('a wheel that is not the expected one is refused (corrupted on the way, not the one fabricks.lock records, not a wheel) and the build falls back to building it', async () => {
    expect(wheel, 'the first test pushed the wheel').toBeDefined();
    const c = await machine({ shareStore: true });
    const cacheC = await mkdtemp(join(tmpdir(), 'fabricks-native-c-'));
    const dirC = await checkout(dir);
    const env = { FABRICKS_NATIVE_CACHE: cacheC, ...NO_CARGO };

    // bytes changed on the way: they do not match the digest the manifest names
    proxy.fault = (req) => (req.method === 'GET' && req.url?.endsWith(`/blobs/${wheel.digest}`) ? { kind: 'corrupt' } : undefined);
    const corrupted = await c.run(['build', dirC, '--plain-http', '--verbose'], { env });
    proxy.fault = undefined;
    expect(corrupted.status).toBe(1);
    expect(corrupted.stderr).toMatch(new RegExp(`warning: ${repo}:${wheel.tag}: not taking the shared wheel of rpds-py 2026\\.9\\.1; building it here: .*${wheel.digest}.*bytes whose digest is sha256:`));
    expect(corrupted.stderr).toContain('code: NATIVE_BUILD_FAILED');
    expect(await cacheEntries(cacheC)).toEqual([]);

    // the tag replaced by another wheel for the same inputs: fabricks.lock records A's, so it is refused before it is downloaded
    const { remoteRepository, pushManifest } = await import('../../src/oci/transfer.js');
    const { decodeManifest, fetchJson } = await import('../../src/oci/manifest.js');
    const { MemoryStore } = await import('../../src/oci/memory-store.js');
    const { storeWheelArtifact } = await import('../../src/artifact/wheel.js');
    const ref = { registry: registry.host, repository: 'team/wheels', tag: wheel.tag };
    const remote = remoteRepository(ref, { plainHttp: true });
    const original = await remote.fetchReference(wheel.tag);
    const m = decodeManifest(original.desc, original.bytes, wheel.tag);
    const config = await fetchJson<{ package: string; version: string; sdist: { sha256: string }; toolchain: string; runtime: string; key: string }>(remote, m.config);
    const id = { package: config.package, version: config.version, sdistSha256: config.sdist.sha256, toolchain: config.toolchain, runtime: config.runtime, key: config.key, file: m.layers[0]!.annotations!['org.opencontainers.image.title']! };
    const other = new Uint8Array([...wheel.bytes, 0]);
    const store = new MemoryStore();
    const home = await mkdtemp(join(tmpdir(), 'fabricks-tamper-'));
    await pushManifest(store, await storeWheelArtifact(store, id, other), ref, { registry: { plainHttp: true }, reporter: () => {}, home });
    try {
      proxy.reset();
      const replaced = await c.run(['build', dirC, '--plain-http', '--verbose'], { env });
      expect(replaced.status).toBe(1);
      expect(replaced.stderr).toContain(`warning: ${repo}:${wheel.tag}: not taking the shared wheel of rpds-py 2026.9.1; building it here: ${repo}:${wheel.tag} holds the wheel ${sha(other)}, but fabricks.lock records ${wheel.digest} for rpds-py 2026.9.1`);
      expect(replaced.stderr).toContain('delete the built = line of rpds-py from fabricks.lock');
      expect(replaced.stderr).toContain('code: NATIVE_BUILD_FAILED');
      expect(proxy.requests.filter((r) => r.path.includes('/blobs/'))).toEqual([]);
      expect(await cacheEntries(cacheC)).toEqual([]);

      // with no wheel recorded in the lock, a tag whose "wheel" is not one is refused too, and the cache keeps nothing of it
      const lock = join(dirC, 'fabricks.lock');
      await writeFile(lock, (await readFile(lock, 'utf8')).replace(/^built = .*\n/m, ''));
      const garbage = new TextEncoder().encode('not a zip');
      await pushManifest(store, await storeWheelArtifact(store, id, garbage), ref, { registry: { plainHttp: true }, reporter: () => {}, home });
      const broken = await c.run(['build', dirC, '--plain-http', '--verbose'], { env });
      expect(broken.status).toBe(1);
      expect(broken.stderr).toContain(`warning: ${repo}:${wheel.tag}: not taking the shared wheel of rpds-py 2026.9.1; building it here: ${repo}:${wheel.tag}: rpds_py-2026.9.1-cp314-cp314-wasi_0_0_0_wasm32.whl is not a readable wheel (zip)`);
      expect(broken.stderr).toContain('code: NATIVE_BUILD_FAILED');
      expect(await cacheEntries(cacheC)).toEqual([]);
    } finally {
      await remote.pushReference(original.desc, original.bytes, wheel.tag);
      await rm(home, { recursive: true, force: true });
    }
  });

  it('an unreachable repository falls back to building, with a warning (FABRICKS_WHEELS wins over [source] wheels)', async () => {
    const d = await machine({ shareStore: true });
    const dead = `127.0.0.1:${await freePort()}/team/wheels`;
    proxy.reset();
    const r = await d.run(['build', await checkout(dir), '--plain-http', '--verbose'], {
      env: { FABRICKS_NATIVE_CACHE: await mkdtemp(join(tmpdir(), 'fabricks-native-d-')), FABRICKS_WHEELS: dead, FABRICKS_REGISTRY_RETRIES: '2', ...NO_CARGO },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`warning: ${dead}:rpds-py-2026\\.9\\.1-[0-9a-f]{64}: not taking the shared wheel of rpds-py 2026\\.9\\.1; building it here: cannot reach registry 127\\.0\\.0\\.1:\\d+`));
    expect(r.stderr).toContain('code: NATIVE_BUILD_FAILED');
    expect(proxy.requests).toEqual([]);
  });

  it('pushing needs credentials: without them it is a warning and the build succeeds; after fabricks login it pushes, then finds the wheel there', async () => {
    expect(wheel, 'the first test built the wheel').toBeDefined();
    const secured = await startRegistry('distribution', 'basic');
    try {
      const target = `${secured.host}/ci/wheels`;
      const env = { FABRICKS_NATIVE_CACHE: cacheA, ...NO_CARGO };
      const push = () => a.run(['build', dir, '--plain-http', '--wheels', target, '--push-wheels', '--json'], { env });
      const refused = await push();
      expect(refused.status, refused.stderr).toBe(0);
      expect(refused.stderr).toMatch(new RegExp(`warning: ${target}:rpds-py-2026\\.9\\.1-[0-9a-f]{64}: the wheel of rpds-py 2026\\.9\\.1 was not shared \\(the build goes on\\): registry ${secured.host} refused .*anonymous access.*log in first: fabricks login ${secured.host}`));
      expect((JSON.parse(refused.stdout) as Built).wheels).toEqual([expect.objectContaining({ from: 'cache', pushed: 'failed', digest: wheel.digest })]);

      const login = await a.run(['login', secured.host, '-u', USER, '--password-stdin', '--plain-http'], { input: PASSWORD });
      expect(login.status, login.stderr).toBe(0);
      const sent = await push();
      expect(sent.status, sent.stderr).toBe(0);
      expect(sent.stderr).toMatch(/shared rpds-py 2026\.9\.1: /);
      expect((JSON.parse(sent.stdout) as Built).wheels?.[0]?.pushed).toBe('sent');
      const present = await push();
      expect((JSON.parse(present.stdout) as Built).wheels?.[0]?.pushed).toBe('present');
      expect(present.stderr).not.toContain('warning');
    } finally {
      await secured.stop();
    }
  });
});
