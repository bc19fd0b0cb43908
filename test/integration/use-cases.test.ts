import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openContext, type Context } from '../../src/home/context.js';
import { build } from '../../src/app/build.js';
import { push } from '../../src/app/push.js';
import { pull } from '../../src/app/pull.js';
import { run } from '../../src/app/run.js';
import { inspect } from '../../src/app/inspect.js';
import { runtimeBuild, runtimeList, runtimePublish } from '../../src/app/runtime.js';
import { verify } from '../../src/app/verify.js';
import { login } from '../../src/app/login.js';
import { describe as describeBlob } from '../../src/oci/manifest.js';
import { mkdtemp, writeFile as writeBytes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { freePort } from '../registry-servers.js';
import { FabricksError } from '../../src/util/errors.js';
import type { ProgressEvent } from '../../src/util/progress.js';
import { jsToml, machine, project, repoRoot } from '../helpers.js';
import { startProxy, startRegistry, type CountingProxy, type RegistryServer } from '../registry-servers.js';

/** A context on the suite's home (its runtimes are built) that records every event. */
async function recording(options: { home?: string; onEvent?: (e: ProgressEvent) => void } = {}): Promise<Context & { events: ProgressEvent[] }> {
  const events: ProgressEvent[] = [];
  const ctx = await openContext({
    home: options.home ?? inject('fabricksHome'),
    registry: { plainHttp: true, retry: { attempts: 2, baseMs: 20, maxMs: 50 } },
    reporter: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
  });
  return { ...ctx, events };
}

const named = (name: string, body: string) => project({ 'fabricks.toml': jsToml('main.js', `\n[package]\nname = "${name}"\nversion = "1.0.0"\n`), 'main.js': body });

async function failure(p: Promise<unknown>): Promise<FabricksError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FabricksError);
  return e as FabricksError;
}

describe('use cases, called in-process', () => {
  let registry: RegistryServer;
  let proxy: CountingProxy;
  let host: string;

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    proxy = await startProxy(registry.host);
    host = proxy.host;
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('build returns its manifest, plans nothing on a second call, and reports typed steps', async () => {
    const dir = await named('uc-build', 'console.log("uc");\n');
    const first = await recording();
    const a = await build(dir, first);
    expect(a.cached).toBe(false);
    expect(a.manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const steps = first.events.filter((e) => e.event === 'step-done').map((e) => e.event === 'step-done' && e.step);
    expect(steps).toEqual(['bundle', 'pack', 'compose', 'build']);
    const again = await recording();
    const b = await build(dir, again);
    expect(b).toMatchObject({ cached: true, manifest: a.manifest, component: a.component });
    expect(again.events.map((e) => e.event === 'step-done' && e.step)).toEqual([false, 'build']);
  });

  it('push sends the build it made, even when another project retags the same name:version meanwhile', async () => {
    // two projects that share a name and version, as two checkouts or two CI jobs would
    const mine = await named('uc-same', 'console.log("mine");\n');
    const theirs = await named('uc-same', 'console.log("theirs");\n');
    const home = inject('fabricksHome');
    const mineBuilt = await build(mine, await recording());
    let interleaved = false;
    const ctx = await recording({
      onEvent: (e) => {
        // right after push's build of `mine`, the other project builds and takes the tag
        if (!interleaved && e.event === 'step-done' && e.step === 'build') {
          interleaved = true;
          execFileSync(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'build', '-q', theirs], { env: { ...process.env, FABRICKS_HOME: home } });
        }
      },
    });
    const pushed = await push(mine, `${host}/apps/uc-same:1`, 'fabricks', ctx);
    expect(interleaved).toBe(true);
    const tagged = JSON.parse(await readFile(join(home, 'store', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    const tagNow = tagged.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === 'uc-same:1.0.0')!.digest;
    expect(tagNow).not.toBe(mineBuilt.manifest.digest); // the other build did move the tag
    expect(pushed.manifest.digest).toBe(mineBuilt.manifest.digest);
  });

  it('run refuses a runtime reference from its manifest, before any layer is fetched', async () => {
    const ci = await recording();
    await runtimePublish(`${host}/runtimes/node:0.1`, undefined, ci);
    const laptop = await machine();
    const ctx = await recording({ home: laptop.home });
    proxy.reset();
    const e = await failure(run(`${host}/runtimes/node:0.1`, [], ctx));
    expect(e.code).toBe('WRONG_KIND');
    expect(e.message).toContain('is not a fabricks app');
    expect(ctx.events.filter((x) => x.event === 'blob-done')).toEqual([]);
    expect(proxy.counts().received).toBeLessThan(64 * 1024);
    expect(await runtimeList(ctx)).toEqual(expect.arrayContaining([expect.objectContaining({ reference: 'fabricks.dev/runtimes/node:0.1', stored: null })]));
  });

  it('pull -o of a runtime is refused from the manifest; pull, inspect and run of an app work in-process', async () => {
    const dir = await named('uc-roundtrip', 'console.log("round trip");\n');
    const built = await build(dir, await recording());
    await push(dir, `${host}/apps/uc-roundtrip:1`, 'fabricks', await recording());
    const laptop = await machine();
    const ctx = await recording({ home: laptop.home });
    const refused = await failure(pull(`${host}/runtimes/node:0.1`, join(laptop.root, 'rt.wasm'), ctx));
    expect(refused.code).toBe('WRONG_KIND');
    expect(ctx.events.filter((x) => x.event === 'blob-done')).toEqual([]);

    const shown = await inspect(`${host}/apps/uc-roundtrip:1`, ctx);
    expect(shown.component.digest).toBe(built.component.digest);
    const out = join(laptop.root, 'app.wasm');
    const pulled = await pull(`${host}/apps/uc-roundtrip:1`, out, ctx);
    expect(pulled).toMatchObject({ kind: 'app', component: { digest: built.component.digest } });
    expect((await readFile(out)).length).toBe(built.component.size);
    const stored = await run(`${host}/apps/uc-roundtrip:1`, [], ctx);
    expect(stored.status).toBe(0);
  });

  it('errors carry codes, not just words: a missing stored app is NOT_FOUND', async () => {
    const e = await failure(run('uc-nothing-here:9.9.9', [], await recording()));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.cause).toBeInstanceOf(FabricksError);
  });

  it('verify finds a damaged blob, moves it aside and reports it; runtimeBuild and login fail with codes', async () => {
    const ctx = await recording({ home: await mkdtemp(join(tmpdir(), 'fabricks-uc-verify-')) });
    const bytes = new TextEncoder().encode('a blob that will be damaged');
    const desc = describeBlob('application/octet-stream', bytes);
    await ctx.home.store.push(desc, bytes);
    expect(await verify(ctx)).toMatchObject({ ok: true, blobs: 1, bytes: bytes.length, damaged: [] });
    await writeBytes(ctx.home.store.blobPath(desc.digest), 'b blob that will be damaged');
    const report = await verify(ctx);
    expect(report).toMatchObject({ ok: false, damaged: [desc.digest] });
    expect(ctx.events).toContainEqual(expect.objectContaining({ event: 'note', code: 'damaged-blob', subject: desc.digest }));
    expect(await ctx.home.store.exists(desc)).toBe(false);

    expect((await failure(runtimeBuild('ruby', false, ctx))).code).toBe('RUNTIME_UNKNOWN');
    const closed = `127.0.0.1:${await freePort()}`;
    const refused = await failure(login(closed, 'u', 'p', { plainHttp: true, retry: { attempts: 1, baseMs: 1, maxMs: 1 } }));
    expect(refused.code).toBe('REGISTRY_UNREACHABLE');
    expect(refused.message).toContain(closed);
  });
});
