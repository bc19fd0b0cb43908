import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { copyExample, exists, fabricks, machine, storeSnapshot } from '../helpers.js';
import { startProxy, startRegistry, tools, type CountingProxy, type RegistryServer } from '../registry-servers.js';

const exec = promisify(execFile);

interface Inspected {
  config: { digest: string };
  layers: Array<{ mediaType: string; digest: string; size: number }>;
  component: { digest: string };
}

/** Pushes files with oras, as another tool (or someone careless) would. */
async function orasPush(reference: string, files: Record<string, Uint8Array | string>, args: string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'oras-broken-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  await exec(tools.oras, ['push', '--plain-http', reference, ...args], { cwd: dir });
}

describe('a pull checks what it receives before it names it', () => {
  let registry: RegistryServer;
  let proxy: CountingProxy;
  let host: string;
  let inspected: Inspected;
  let app: string;
  const blob = (d: string) => join(inject('fabricksHome'), 'store', 'blobs', 'sha256', d.slice('sha256:'.length));

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    proxy = await startProxy(registry.host);
    host = proxy.host;
    app = await copyExample('hello-js', 'checked');
    expect((await fabricks(['build', '-q', app])).status).toBe(0);
    inspected = JSON.parse((await fabricks(['inspect', '--json', app])).stdout) as Inspected;
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('refuses a single-component artifact whose layer is not a component: nothing stored, nothing written, no crash', async () => {
    await orasPush(`${host}/apps/random:1`, { 'app.wasm': randomBytes(64 * 1024) }, ['--artifact-type', 'application/vnd.wasm.config.v0+json', '--config', '/dev/null:application/vnd.wasm.config.v0+json', 'app.wasm:application/wasm']);
    const m = await machine();
    expect((await m.run(['runtime', 'list', '--json'])).status).toBe(0);
    const before = await storeSnapshot(m.home);
    const out = join(m.root, 'random.wasm');
    const pulled = await m.run(['pull', `${host}/apps/random:1`, '--plain-http', '-o', out]);
    expect(pulled.status).toBe(1);
    expect(pulled.stderr).toContain('is not a WebAssembly component');
    expect(pulled.stderr).not.toContain('internal error');
    expect(await exists(out)).toBe(false);
    expect(await storeSnapshot(m.home)).toBe(before);
    const ran = await m.run(['run', `${host}/apps/random:1`, '--plain-http']);
    expect(ran.status).toBe(1);
    expect(ran.stderr).toContain('is not a WebAssembly component');
    expect(ran.stderr).not.toContain('internal error');
  });

  it('leaves the local index as it was when an app lacks a layer', async () => {
    await copyFile(blob(inspected.config.digest), join(tmpdir(), 'checked-config.json'));
    await orasPush(
      `${host}/apps/one-layer:1`,
      { 'config.json': await readFile(blob(inspected.config.digest)), 'runtime.wasm': await readFile(blob(inspected.layers[0]!.digest)) },
      ['--artifact-type', 'application/vnd.fabricks.config.v1+json', '--config', 'config.json:application/vnd.fabricks.config.v1+json', 'runtime.wasm:application/vnd.fabricks.runtime.v1+wasm'],
    );
    // a home of its own: other tests tag things in the shared one meanwhile
    const m = await machine();
    const before = await storeSnapshot(m.home);
    const r = await m.run(['pull', `${host}/apps/one-layer:1`, '--plain-http']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('lacks a runtime or module layer');
    expect(JSON.parse(await storeSnapshot(m.home)).index).toBe(JSON.parse(before).index);
  });

  it('leaves the local index as it was when the layers do not recompose to the recorded component', async () => {
    const config = JSON.parse(await readFile(blob(inspected.config.digest), 'utf8')) as { component: { digest: string } };
    config.component.digest = `sha256:${'0'.repeat(64)}`;
    await orasPush(
      `${host}/apps/mismatch:1`,
      { 'config.json': JSON.stringify(config), 'runtime.wasm': await readFile(blob(inspected.layers[0]!.digest)), 'module.wasm': await readFile(blob(inspected.layers[1]!.digest)) },
      ['--artifact-type', 'application/vnd.fabricks.config.v1+json', '--config', 'config.json:application/vnd.fabricks.config.v1+json', 'runtime.wasm:application/vnd.fabricks.runtime.v1+wasm', 'module.wasm:application/vnd.fabricks.module.v1+wasm'],
    );
    const m = await machine();
    const before = await storeSnapshot(m.home);
    const r = await m.run(['pull', `${host}/apps/mismatch:1`, '--plain-http']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`not the recorded sha256:${'0'.repeat(64)}`);
    expect(JSON.parse(await storeSnapshot(m.home)).index).toBe(JSON.parse(before).index);
    const again = await m.run(['run', `${host}/apps/mismatch:1`, '--plain-http']);
    expect(again.status).toBe(1);
  });

  it('never mounts or sends a damaged blob: the push stops, and a push of the project heals it first', { timeout: 300_000 }, async () => {
    // a machine of its own, with the app pushed once so the runtime could be mounted from there
    const m = await machine();
    const project = await copyExample('hello-js', 'mount-check');
    expect((await m.run(['push', project, `${host}/apps/mount-a:1`, '--plain-http', '-q'])).status).toBe(0);
    const built = JSON.parse((await m.run(['build', project, '--json', '-q'])).stdout) as { runtime: { digest: string } };
    const runtimeBlob = join(m.home, 'store', 'blobs', 'sha256', built.runtime.digest.slice(7));
    const fh = await open(runtimeBlob, 'r+');
    const size = (await stat(runtimeBlob)).size;
    await fh.write(Buffer.from([0x42]), 0, 1, Math.floor(size / 3));
    await fh.close();
    proxy.reset();
    const r = await m.run(['push', 'mount-check:0.1.0', `${host}/apps/mount-b:1`, '--plain-http', '--json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`blob ${built.runtime.digest} in the local store is damaged`);
    // the damaged runtime was neither mounted nor sent, and nothing was named
    const hex = built.runtime.digest.slice(7);
    expect(proxy.requests.filter((q) => q.path.includes(hex) && q.method !== 'HEAD')).toEqual([]);
    expect(proxy.requests.filter((q) => q.method === 'PUT' && q.path.includes('/manifests/'))).toEqual([]);
    expect((await readdir(join(m.home, 'store', '.fabricks', 'quarantine'))).length).toBe(1);

    const healed = await m.run(['push', project, `${host}/apps/mount-b:1`, '--plain-http', '--json']);
    expect(healed.status, healed.stderr).toBe(0);
    const fresh = await machine();
    const ran = await fresh.run(['run', '-q', `${host}/apps/mount-b:1`, '--plain-http', '--', 'healed']);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('healed');
  });

  it('a push of a stored build whose module blob is gone says how to restore it, and sends nothing', async () => {
    const m = await machine({ shareStore: true });
    const project = await copyExample('hello-js', 'lost-module');
    // a module of its own: the store is shared, and other tests push hello-js's module concurrently
    const { appendFile } = await import('node:fs/promises');
    // (code, not a comment: the bundler drops comments)
    await appendFile(join(project, 'main.js'), `globalThis.lostModule = '${process.pid} ${Date.now()}';\n`);
    const built = JSON.parse((await m.run(['build', project, '--json', '-q'])).stdout) as { module: { digest: string } };
    const { rm } = await import('node:fs/promises');
    await rm(join(m.home, 'store', 'blobs', 'sha256', built.module.digest.slice(7)));
    proxy.reset();
    const r = await m.run(['push', 'lost-module:0.1.0', `${host}/apps/lost-module:1`, '--plain-http']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: blob ${built.module.digest} is not in the local store`);
    expect(r.stderr).toContain('hint: build or pull again to restore it');
    expect(proxy.requests.filter((q) => q.method === 'PUT' && q.path.includes('/manifests/'))).toEqual([]);
    // the project's own push builds first, which restores the blob
    const pushed = await m.run(['push', project, `${host}/apps/lost-module:1`, '--plain-http', '-q']);
    expect(pushed.status, pushed.stderr).toBe(0);
  });
});
