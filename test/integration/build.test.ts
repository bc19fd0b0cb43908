import { describe, expect, it, inject, beforeAll } from 'vitest';
import { cp, mkdtemp, readFile, writeFile, stat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { fabricks, exists, copyExample } from '../helpers.js';
import { readComponentWorld } from '../../src/compose/component-info.js';
import { wacPath } from '../../src/tools/wac.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function buildJson(dir: string) {
  const r = await fabricks(['build', dir, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const blob = (digest: string) => join(inject('fabricksHome'), 'store', 'blobs', 'sha256', digest.slice(7));

describe('fabricks build (JavaScript)', () => {
  let hello: string;
  let first: any;
  beforeAll(async () => {
    hello = await copyExample('hello-js');
    first = await buildJson(hello);
  });

  it('prints manifest, runtime, module and component as JSON', () => {
    expect(first).toMatchObject({
      reference: 'hello-js:0.1.0',
      manifest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      runtime: { ref: 'fabricks.dev/runtimes/node:0.1', digest: expect.stringMatching(/^sha256:/), size: expect.any(Number) },
      module: { digest: expect.stringMatching(/^sha256:/), size: expect.any(Number) },
      component: { path: join(hello, '.fabricks', 'app.wasm'), digest: expect.stringMatching(/^sha256:/), size: expect.any(Number) },
    });
  });

  it('writes .fabricks/app.wasm: a component that exports wasi:cli/run and needs no fabricks import', async () => {
    const bytes = await readFile(first.component.path);
    expect(sha(bytes)).toBe(first.component.digest);
    const world = readComponentWorld(bytes);
    expect(world.exports).toContain('wasi:cli/run@0.2.10');
    expect(world.imports.filter((i) => i.startsWith('fabricks:'))).toEqual([]);
    // jco's own reading of the component agrees
    const { componentWit } = await import('@bytecodealliance/jco-transpile/wasm-tools');
    const wit = String(await componentWit(bytes));
    expect(wit).toMatch(/export wasi:cli\/run@0\.2\.10;/);
  });

  it('keeps the module layer of hello-js under 4 KiB', () => {
    expect(first.module.size).toBeLessThan(4096);
  });

  it('recomposes runtime layer + module layer to exactly app.wasm', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'fabricks-recompose-')), 'app.wasm');
    await promisify(execFile)(wacPath(), ['plug', blob(first.runtime.digest), '--plug', blob(first.module.digest), '-o', out]);
    expect(sha(await readFile(out))).toBe(first.component.digest);
  });

  it('puts nothing of the user source into the runtime layer', async () => {
    const runtime = await readFile(blob(first.runtime.digest));
    const module = await readFile(blob(first.module.digest));
    const marker = 'from a WebAssembly component!';
    expect(module.includes(marker)).toBe(true);
    expect(runtime.includes(marker)).toBe(false);
  });

  it('stores a two-layer manifest with the media types and annotations of DESIGN.md, tagged name:version', async () => {
    const index = JSON.parse(await readFile(join(inject('fabricksHome'), 'store', 'index.json'), 'utf8'));
    const entry = index.manifests.find((m: any) => m.annotations['org.opencontainers.image.ref.name'] === 'hello-js:0.1.0');
    expect(entry.digest).toBe(first.manifest);
    const manifest = JSON.parse(await readFile(blob(first.manifest), 'utf8'));
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.artifactType).toBe('application/vnd.fabricks.config.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.fabricks.config.v1+json');
    expect(manifest.annotations).toBeUndefined(); // no timestamp without SOURCE_DATE_EPOCH
    expect(manifest.layers).toEqual([
      { mediaType: 'application/vnd.fabricks.runtime.v1+wasm', digest: first.runtime.digest, size: first.runtime.size, annotations: { 'fabricks.runtime': 'node:0.1', 'org.opencontainers.image.title': 'runtime.wasm' } },
      { mediaType: 'application/vnd.fabricks.module.v1+wasm', digest: first.module.digest, size: first.module.size, annotations: { 'fabricks.entrypoint': 'main.js', 'org.opencontainers.image.title': 'module.wasm' } },
    ]);
    const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8'));
    expect(config).toMatchObject({
      runtime: { reference: 'fabricks.dev/runtimes/node:0.1', digest: first.runtime.digest },
      entrypoint: 'main.js',
      component: { digest: first.component.digest, size: first.component.size },
      // prepare: the entry the engine calls to pre-initialize the app on this machine (docs/architecture.md)
      wit: { exports: ['prepare', 'wasi:cli/run@0.2.10', 'wasi:http/incoming-handler@0.2.10'] },
    });
  });

  it('writes fabricks.lock with the runtime digest, and later builds use it', async () => {
    const lock = await readFile(join(hello, 'fabricks.lock'), 'utf8');
    expect(lock).toContain(`digest = "${first.runtime.digest}"`);
    expect(lock).toContain('image = "fabricks.dev/runtimes/node"');
    // A lock pinning a runtime this machine does not have and cannot build is an error, not a silent switch.
    const pinned = lock.replace(first.runtime.digest, `sha256:${'0'.repeat(64)}`);
    const other = await copyExample('hello-js', 'pinned-js');
    await writeFile(join(other, 'fabricks.lock'), pinned);
    const r = await fabricks(['build', other]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/fabricks\.lock pins runtime sha256:0{64}/);
    expect(r.stderr).toMatch(/delete fabricks\.lock/);
    expect(await exists(join(other, '.fabricks'))).toBe(false);
  });

  it('answers a rebuild with nothing changed from the cache, with the same manifest digest', async () => {
    const before = await stat(first.component.path);
    const again = await buildJson(hello);
    expect(again.cached).toBe(true);
    expect(again.manifest).toBe(first.manifest);
    expect((await stat(first.component.path)).mtimeMs).toBe(before.mtimeMs);
  });

  it('restores a deleted app.wasm from the store without rebuilding', async () => {
    await rm(join(hello, '.fabricks'), { recursive: true });
    const again = await buildJson(hello);
    expect(again.cached).toBe(true);
    expect(sha(await readFile(first.component.path))).toBe(first.component.digest);
  });

  it('rebuilds when a source file changes, on the same runtime layer', async () => {
    const other = await copyExample('hello-js', 'changed-js');
    await writeFile(join(other, 'greet.js'), 'export const greeting = (n) => `Hi ${n}`;\n');
    const changed = await buildJson(other);
    expect(changed.cached).toBe(false);
    expect(changed.module.digest).not.toBe(first.module.digest);
    expect(changed.manifest).not.toBe(first.manifest);
    expect(changed.runtime.digest).toBe(first.runtime.digest);
  });

  it("checks a dependency in node_modules by its stamp, and rebuilds when it changes even with the same size and mtime", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricks-external-'));
    await writeFile(join(dir, 'fabricks.toml'), '[package]\nname = "external-dep"\nversion = "0.1.0"\n\n[from]\nimage = "fabricks.dev/runtimes/node"\n\n[source]\nentrypoint = "main.js"\n');
    await writeFile(join(dir, 'main.js'), "import { word } from 'dep';\nconsole.log(word);\n");
    const dep = join(dir, 'node_modules', 'dep');
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await import('node:fs/promises').then((fs) => fs.mkdir(dep, { recursive: true }));
    await writeFile(join(dep, 'package.json'), '{ "name": "dep", "version": "1.0.0", "main": "index.js" }\n');
    await writeFile(join(dep, 'index.js'), "exports.word = 'alpha';\n");
    const one = await buildJson(dir);
    expect(one.cached).toBe(false);
    // touched, same bytes: the digest still matches, and the build is the cached one
    const { utimes } = await import('node:fs/promises');
    await utimes(join(dep, 'index.js'), new Date(), new Date(Date.now() + 5000));
    expect((await buildJson(dir)).cached).toBe(true);
    expect((await buildJson(dir)).cached).toBe(true);
    // other bytes of the same size, its mtime put back: the stamp's ctime still tells
    const before = await stat(join(dep, 'index.js'));
    await writeFile(join(dep, 'index.js'), "exports.word = 'omega';\n");
    await utimes(join(dep, 'index.js'), before.atime, before.mtime);
    const two = await buildJson(dir);
    expect(two.cached).toBe(false);
    expect(two.module.digest).not.toBe(one.module.digest);
    const ran = await fabricks(['run', '-q', dir]);
    expect(ran.stdout.trim()).toBe('omega');
  });

  it('gives two different apps the same runtime layer digest', async () => {
    const echo = await buildJson(await copyExample('echo-js'));
    expect(echo.runtime.digest).toBe(first.runtime.digest);
    expect(echo.module.digest).not.toBe(first.module.digest);
  });

  it('inspect --json shows the manifest, layers, runtime, entrypoint, component and WIT', async () => {
    const r = await fabricks(['inspect', hello, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.manifest.digest).toBe(first.manifest);
    expect(info.layers.map((l: any) => [l.mediaType, l.digest, l.size])).toEqual([
      ['application/vnd.fabricks.runtime.v1+wasm', first.runtime.digest, first.runtime.size],
      ['application/vnd.fabricks.module.v1+wasm', first.module.digest, first.module.size],
    ]);
    expect(info.runtime.reference).toBe('fabricks.dev/runtimes/node:0.1');
    expect(info.entrypoint).toBe('main.js');
    expect(info.component.digest).toBe(first.component.digest);
    expect(info.wit.exports).toEqual(['prepare', 'wasi:cli/run@0.2.10', 'wasi:http/incoming-handler@0.2.10']);
    const unversioned = info.wit.imports.map((i: string) => i.replace(/@.*/, ''));
    expect(unversioned).toEqual(expect.arrayContaining(['wasi:cli/environment', 'wasi:cli/stdout', 'wasi:cli/stdin', 'wasi:cli/exit']));
    expect(info.wit.imports.every((i: string) => /^wasi:[a-z-]+\/[a-z-]+@0\.2\.\d+$/.test(i))).toBe(true);
    const byRef = await fabricks(['inspect', 'hello-js:0.1.0', '--json']);
    expect(JSON.parse(byRef.stdout).manifest.digest).toBe(first.manifest);
  });

  it('packs the same module layer from the same sources wherever the project lives (fabricks\' own files are named by their place in fabricks)', async () => {
    const deep = join(await mkdtemp(join(tmpdir(), 'fabricks-depth-')), 'a', 'b', 'c');
    await cp(hello, deep, { recursive: true, filter: (s) => !s.includes('.fabricks') && !s.endsWith('fabricks.lock') });
    const out = await buildJson(deep);
    expect(out.module.digest).toBe(first.module.digest);
    const text = Buffer.from(await readFile(blob(out.module.digest))).toString('latin1');
    expect(text).toContain('// fabricks/polyfills/node/buffer-global.js');
    expect(text).not.toMatch(/\.\.\/[^"\n]*runtimes\/node-polyfills/);
    await buildJson(hello); // put the hello-js:0.1.0 tag back for the other tests
  });

  it('records SOURCE_DATE_EPOCH as the creation time, and only then', async () => {
    const other = await copyExample('hello-js');
    const r = await fabricks(['build', other, '--json'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    await buildJson(hello); // put the hello-js:0.1.0 tag back for the other tests
    const out = JSON.parse(r.stdout);
    const manifest = JSON.parse(await readFile(blob(out.manifest), 'utf8'));
    expect(manifest.annotations).toEqual({ 'org.opencontainers.image.created': '2023-11-14T22:13:20Z' });
    expect(out.manifest).not.toBe(first.manifest);
    expect(out.component.digest).toBe(first.component.digest);
  });
});
