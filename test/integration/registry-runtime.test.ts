import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { events, fabricks, machine, project } from '../helpers.js';
import { startProxy, startRegistry, type CountingProxy, type RegistryServer } from '../registry-servers.js';

// CI publishes a runtime once; machines without it pull it on their first build.
describe('runtimes from registries', () => {
  let registry: RegistryServer;
  let proxy: CountingProxy;
  let host: string;
  let builtinRuntime: { digest: string; size: number };

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    proxy = await startProxy(registry.host);
    host = proxy.host;
    const list = JSON.parse((await fabricks(['runtime', 'list', '--json'])).stdout) as Array<{ reference: string; stored: { digest: string; size: number } }>;
    builtinRuntime = list.find((r) => r.reference === 'fabricks.dev/runtimes/node:0.1')!.stored;
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  const toml = (image: string, name: string) => `[package]\nname = "${name}"\nversion = "1.0.0"\n\n[from]\nimage = "${image}"\n\n[source]\nentrypoint = "main.js"\n`;

  it('runtime publish uploads a runtime once, and a build elsewhere pulls it once', async () => {
    const ci = await machine({ shareStore: true });
    proxy.reset();
    const published = await ci.run(['runtime', 'publish', `${host}/runtimes/node:0.1`, '--plain-http', '--json']);
    expect(published.status, published.stderr).toBe(0);
    expect(JSON.parse(published.stdout)).toMatchObject({ runtime: 'fabricks.dev/runtimes/node:0.1', reference: `${host}/runtimes/node:0.1` });
    expect(proxy.counts().sent).toBeGreaterThan(builtinRuntime.size);
    const again = await ci.run(['runtime', 'publish', `${host}/runtimes/node:0.1`, '--plain-http', '--json']);
    expect((JSON.parse(again.stdout) as { layers: Array<{ action: string }> }).layers.every((l) => l.action === 'skipped')).toBe(true);

    const laptop = await machine();
    const one = await project({ 'fabricks.toml': toml(`${host}/runtimes/node:0.1`, 'pulled-one'), 'main.js': 'console.log("one on a pulled runtime");\n' });
    proxy.reset();
    const built = await laptop.run(['build', one, '--plain-http', '--json', '--progress', 'json']);
    expect(built.status, built.stderr).toBe(0);
    expect(events(built.stderr)).toContainEqual({ event: 'transfer-start', direction: 'pull', reference: `${host}/runtimes/node:0.1` });
    expect(proxy.counts().received).toBeGreaterThan(builtinRuntime.size);
    const result = JSON.parse(built.stdout) as { runtime: { digest: string; ref: string } };
    expect(result.runtime.digest).toBe(builtinRuntime.digest);
    expect(await readFile(join(one, 'fabricks.lock'), 'utf8')).toContain(builtinRuntime.digest);

    // a second project on that runtime: no request reaches the registry at all
    const two = await project({ 'fabricks.toml': toml(`${host}/runtimes/node:0.1`, 'pulled-two'), 'main.js': 'console.log("two on a pulled runtime");\n' });
    proxy.reset();
    const run = await laptop.run(['run', '-q', two]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('two on a pulled runtime\n');
    expect(proxy.requests).toEqual([]);

    // pushing it to the same registry mounts the runtime from where it was pulled
    proxy.reset();
    const push = await laptop.run(['push', two, `${host}/apps/pulled-two:1`, '--plain-http', '--json']);
    expect(push.status, push.stderr).toBe(0);
    const runtimeLayer = (JSON.parse(push.stdout) as { layers: Array<{ title: string; action: string; from?: string }> }).layers.find((l) => l.title === 'runtime.wasm');
    expect(runtimeLayer).toMatchObject({ action: 'mounted', from: 'runtimes/node' });
    expect(proxy.counts().sent).toBeLessThan(64 * 1024);
  });

  it('names [from] image and the file when the reference is not a runtime, or is missing', async () => {
    const m = await machine({ shareStore: true });
    const app = await project({ 'fabricks.toml': toml(`${host}/runtimes/node:0.1`, 'to-push'), 'main.js': 'console.log(1);\n' });
    expect((await m.run(['push', app, `${host}/apps/not-a-runtime:1`, '--plain-http', '-q'])).status).toBe(0);
    const wrong = await project({ 'fabricks.toml': toml(`${host}/apps/not-a-runtime:1`, 'wrong'), 'main.js': 'console.log(1);\n' });
    const r = await m.run(['build', wrong, '--plain-http']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${host}/apps/not-a-runtime:1 ([from] image in ${join(wrong, 'fabricks.toml')}) is not a fabricks runtime`);
    const missing = await project({ 'fabricks.toml': toml(`${host}/runtimes/nope:1`, 'missing'), 'main.js': 'console.log(1);\n' });
    const r2 = await m.run(['build', missing, '--plain-http']);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(`runtime ${host}/runtimes/nope:1 ([from] image in ${join(missing, 'fabricks.toml')}) is not in registry ${host}`);
    expect(r2.stderr).toContain(`hint: check the reference, or publish it there first: fabricks runtime publish ${host}/runtimes/nope:1`);
  });
});
