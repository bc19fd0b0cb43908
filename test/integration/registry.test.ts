import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyExample, events, fabricks, machine } from '../helpers.js';
import { PASSWORD, startProxy, startRegistry, USER, type CountingProxy, type RegistryAuth, type RegistryKind, type RegistryServer } from '../registry-servers.js';

/** A second service on the same runtime: hello-js with its own name and greeting. */
async function services() {
  const a = await copyExample('hello-js', 'svc-a');
  const b = await copyExample('hello-js', 'svc-b');
  const main = join(b, 'greet.js');
  await writeFile(main, (await readFile(main, 'utf8')).replace('Hello', 'Good morning'));
  for (const dir of [a, b]) {
    const r = await fabricks(['build', '-q', dir]);
    expect(r.status, r.stderr).toBe(0);
  }
  return { a, b };
}

const json = (stdout: string) => JSON.parse(stdout) as {
  bytesSent?: number;
  bytesReceived?: number;
  component?: { digest: string; size: number; path?: string };
  layers: Array<{ title: string; mediaType: string; action: string; from?: string; bytes: number; size: number }>;
  manifest: { digest: string };
};
const layer = (r: ReturnType<typeof json>, title: string) => r.layers.find((l) => l.title === title)!;

let apps: { a: string; b: string };
let runtimeSize: number;

beforeAll(async () => {
  apps = await services();
  const inspect = await fabricks(['inspect', '--json', apps.a]);
  runtimeSize = (JSON.parse(inspect.stdout) as { runtime: { size: number } }).runtime.size;
  expect(runtimeSize).toBeGreaterThan(10_000_000);
});

// Each registry, once without and once with authentication (htpasswd Basic for Debian's 2.8,
// the token flow for distribution v3). All traffic goes through a byte-counting proxy.
const setups: Array<[RegistryKind, RegistryAuth]> = [
  ['distribution', 'none'],
  ['docker-registry', 'none'],
  ['distribution', 'bearer'],
  ['docker-registry', 'basic'],
];

describe.each(setups)('push and pull through %s (auth: %s)', (kind, auth) => {
  let registry: RegistryServer;
  let proxy: CountingProxy;
  let host: string;
  // the machine that builds and pushes (the suite's store, with the runtime built)
  let builder: Awaited<ReturnType<typeof machine>>;
  // a machine that only pulls and runs
  let other: Awaited<ReturnType<typeof machine>>;

  beforeAll(async () => {
    registry = await startRegistry(kind, auth);
    proxy = await startProxy(registry.host);
    host = proxy.host;
    builder = await machine({ shareStore: true });
    other = await machine();
    if (auth !== 'none') {
      // the builder logs in with fabricks login; the other machine has a Docker config.json
      const login = await builder.run(['login', host, '-u', USER, '--password-stdin', '--plain-http'], { input: `${PASSWORD}\n` });
      expect(login.status, login.stderr).toBe(0);
      expect(login.stdout).toContain(`logged in to ${host} as ${USER}`);
      expect(login.stdout + login.stderr).not.toContain(PASSWORD);
      const saved = join(builder.env.FABRICKS_CONFIG_DIR, 'auth.json');
      expect((await stat(saved)).mode & 0o777).toBe(0o600);
      await writeFile(join(other.env.DOCKER_CONFIG, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
    }
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('pushes the runtime once: a second service on it sends no runtime bytes', async () => {
    proxy.reset();
    const first = await builder.run(['push', apps.a, `${host}/apps/svc-a:1.0`, '--plain-http', '--json', '--progress', 'json']);
    expect(first.status, first.stderr).toBe(0);
    const pushedA = json(first.stdout);
    expect(layer(pushedA, 'runtime.wasm').action).toBe('sent');
    expect(events(first.stderr)).toContainEqual(expect.objectContaining({ event: 'blob-done', direction: 'push', title: 'runtime.wasm', action: 'sent', bytes: runtimeSize }));
    // the 12 MB runtime goes up in 4 MiB chunks (PATCH), the rest in one request each
    expect(proxy.requests.filter((r) => r.method === 'PATCH').length).toBeGreaterThanOrEqual(2);
    const wireA = proxy.counts().sent;
    expect(wireA).toBeGreaterThan(runtimeSize);
    expect(pushedA.bytesSent).toBeGreaterThan(runtimeSize);
    expect(pushedA.bytesSent).toBeLessThanOrEqual(wireA);

    // another repository of the same registry: the runtime is mounted, not sent
    proxy.reset();
    const second = await builder.run(['push', apps.b, `${host}/apps/svc-b:1.0`, '--plain-http', '--json', '--progress', 'json']);
    expect(second.status, second.stderr).toBe(0);
    const pushedB = json(second.stdout);
    expect(layer(pushedB, 'runtime.wasm')).toMatchObject({ action: 'mounted', from: 'apps/svc-a', bytes: 0 });
    expect(layer(pushedB, 'module.wasm').action).toBe('sent');
    expect(events(second.stderr)).toContainEqual(expect.objectContaining({ event: 'blob-done', title: 'runtime.wasm', action: 'mounted', from: 'apps/svc-a', bytes: 0 }));
    expect(proxy.counts().sent).toBeLessThan(64 * 1024);
    // two small uploads (config and module, one request each), no chunks
    expect(proxy.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    expect(proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/blobs/'))).toHaveLength(2);

    // the same repository again: every blob is already there, found with HEAD
    proxy.reset();
    const again = await builder.run(['push', apps.b, `${host}/apps/svc-b:1.0`, '--plain-http', '--json', '--progress', 'json']);
    expect(again.status, again.stderr).toBe(0);
    expect(json(again.stdout).layers.map((l) => l.action)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(events(again.stderr).filter((e) => e.event === 'blob-done').map((e) => e.event === 'blob-done' && e.action)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(proxy.counts().sent).toBeLessThan(16 * 1024);
  });

  it('pulls the runtime once onto another machine, recomposes and runs from the reference', async () => {
    proxy.reset();
    const out = join(other.root, 'svc-a.wasm');
    const first = await other.run(['pull', `${host}/apps/svc-a:1.0`, '--plain-http', '--json', '--progress', 'json', '-o', out]);
    expect(first.status, first.stderr).toBe(0);
    const pulledA = json(first.stdout);
    expect(proxy.counts().received).toBeGreaterThan(runtimeSize);
    expect(pulledA.bytesReceived).toBeGreaterThan(runtimeSize);
    expect(events(first.stderr)).toContainEqual(expect.objectContaining({ event: 'step-done', step: 'recompose', digest: pulledA.component!.digest }));
    const inspected = JSON.parse((await fabricks(['inspect', '--json', apps.a])).stdout) as { component: { digest: string; size: number } };
    expect((await stat(out)).size).toBe(inspected.component.size);

    proxy.reset();
    const second = await other.run(['pull', `${host}/apps/svc-b:1.0`, '--plain-http', '--json', '--progress', 'json']);
    expect(second.status, second.stderr).toBe(0);
    expect(layer(json(second.stdout), 'runtime.wasm').action).toBe('skipped');
    expect(events(second.stderr)).toContainEqual(expect.objectContaining({ event: 'blob-done', direction: 'pull', title: 'runtime.wasm', action: 'skipped', bytes: 0 }));
    expect(proxy.counts().received).toBeLessThan(64 * 1024);

    // each pull readied what it brought for this machine (the suite's homes share one compiled
    // cache, so here it is found compiled; test/integration/prepare.test.ts compiles afresh)
    for (const pulled of [pulledA, json(second.stdout)]) {
      expect((pulled as unknown as { prepared: { components: Array<{ role: string }> } }).prepared.components.map((c) => c.role)).toEqual(['runtime', 'module']);
    }

    // so the first run compiles nothing
    const run = await other.run(['run', '--progress', 'json', `${host}/apps/svc-b:1.0`, '--plain-http', '--', 'registry']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Good morning, registry, from a WebAssembly component!');
    expect(events(run.stderr).filter((e) => e.event === 'step-start' && e.step === 'compile')).toEqual([]);
    // fabricks prepare finds it ready; pull --no-prepare leaves it to the first run
    const again = await other.run(['prepare', '--json', `${host}/apps/svc-b:1.0`, '--plain-http']);
    expect(again.status, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { components: Array<{ compiled: boolean }> }).components.map((c) => c.compiled)).toEqual([false, false]);
    const unprepared = await other.run(['pull', '--no-prepare', '--json', `${host}/apps/svc-a:1.0`, '--plain-http']);
    expect(unprepared.status, unprepared.stderr).toBe(0);
    expect(JSON.parse(unprepared.stdout)).not.toHaveProperty('prepared');
  });

  it('inspects a reference from its manifest and config alone', async () => {
    const fresh = await machine();
    if (auth !== 'none') await writeFile(join(fresh.env.DOCKER_CONFIG, 'config.json'), await readFile(join(other.env.DOCKER_CONFIG, 'config.json')));
    proxy.reset();
    const r = await fresh.run(['inspect', '--json', `${host}/apps/svc-a:1.0`, '--plain-http']);
    expect(r.status, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as { layers: Array<{ mediaType: string }>; runtime: { reference: string }; entrypoint: string };
    expect(shown.layers.map((l) => l.mediaType)).toEqual(['application/vnd.fabricks.runtime.v1+wasm', 'application/vnd.fabricks.module.v1+wasm']);
    expect(shown.entrypoint).toBe('main.js');
    expect(proxy.counts().received).toBeLessThan(32 * 1024);
  });
});
