import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { wasmtimeRun } from '../hosts/wasmtime-run.js';
import { copyExample, fabricks, machine } from '../helpers.js';
import { startRegistry, tools, type RegistryServer } from '../registry-servers.js';

const exec = promisify(execFile);
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Inspected {
  config: { digest: string; mediaType: string };
  layers: Array<{ mediaType: string; digest: string; size: number }>;
  component: { digest: string; size: number };
}

// fabricks artifacts as oras and crane see them, and the other way round.
describe('interoperability with oras and crane', () => {
  let registry: RegistryServer;
  let host: string;
  let app: string;
  let inspected: Inspected;

  beforeAll(async () => {
    registry = await startRegistry('distribution');
    host = registry.host;
    app = await copyExample('hello-js', 'interop');
    expect((await fabricks(['build', '-q', app])).status).toBe(0);
    inspected = JSON.parse((await fabricks(['inspect', '--json', app])).stdout) as Inspected;
    const m = await machine({ shareStore: true });
    const push = await m.run(['push', app, `${host}/apps/interop:1`, '--plain-http', '-q']);
    expect(push.status, push.stderr).toBe(0);
  });
  afterAll(async () => registry?.stop());

  it('oras pull gets both layers by their titles', async () => {
    const out = await mkdtemp(join(tmpdir(), 'oras-pull-'));
    await exec(tools.oras, ['pull', '--plain-http', `${host}/apps/interop:1`, '-o', out]);
    expect((await readdir(out)).sort()).toEqual(['module.wasm', 'runtime.wasm']);
    expect(sha256(await readFile(join(out, 'runtime.wasm')))).toBe(inspected.layers[0]!.digest);
    expect(sha256(await readFile(join(out, 'module.wasm')))).toBe(inspected.layers[1]!.digest);
  });

  it('oras manifest fetch and crane manifest show the media types of DESIGN.md', async () => {
    const viaOras = JSON.parse((await exec(tools.oras, ['manifest', 'fetch', '--plain-http', `${host}/apps/interop:1`])).stdout);
    const viaCrane = JSON.parse((await exec(tools.crane, ['manifest', '--insecure', `${host}/apps/interop:1`])).stdout);
    for (const m of [viaOras, viaCrane]) {
      expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(m.artifactType).toBe('application/vnd.fabricks.config.v1+json');
      expect(m.config.mediaType).toBe('application/vnd.fabricks.config.v1+json');
      expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(['application/vnd.fabricks.runtime.v1+wasm', 'application/vnd.fabricks.module.v1+wasm']);
      expect(m.layers[0].annotations).toMatchObject({ 'fabricks.runtime': 'node:0.1', 'org.opencontainers.image.title': 'runtime.wasm' });
      expect(m.layers[1].annotations).toMatchObject({ 'fabricks.entrypoint': 'main.js', 'org.opencontainers.image.title': 'module.wasm' });
    }
  });

  it('pulls and runs an artifact that oras pushed with those media types', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oras-push-'));
    const blobs = join(inject('fabricksHome'), 'store', 'blobs', 'sha256');
    const blob = (d: string) => join(blobs, d.slice('sha256:'.length));
    await copyFile(blob(inspected.config.digest), join(dir, 'config.json'));
    await copyFile(blob(inspected.layers[0]!.digest), join(dir, 'runtime.wasm'));
    await copyFile(blob(inspected.layers[1]!.digest), join(dir, 'module.wasm'));
    await exec(
      tools.oras,
      [
        'push', '--plain-http', `${host}/apps/by-oras:1`,
        '--artifact-type', 'application/vnd.fabricks.config.v1+json',
        '--config', 'config.json:application/vnd.fabricks.config.v1+json',
        'runtime.wasm:application/vnd.fabricks.runtime.v1+wasm',
        'module.wasm:application/vnd.fabricks.module.v1+wasm',
      ],
      { cwd: dir },
    );
    const fresh = await machine();
    const out = join(fresh.root, 'app.wasm');
    const pulled = await fresh.run(['pull', `${host}/apps/by-oras:1`, '--plain-http', '-o', out, '--json']);
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(sha256(await readFile(out))).toBe(inspected.component.digest);
    const run = await fresh.run(['run', '-q', `${host}/apps/by-oras:1`, '--plain-http', '--', 'oras']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Hello, oras, from a WebAssembly component!');
  });

  it('push --format wasm writes the CNCF Wasm layout: one component layer that oras pulls and wasmtime runs', async () => {
    const m = await machine({ shareStore: true });
    const push = await m.run(['push', app, `${host}/wasm/interop:1`, '--format', 'wasm', '--plain-http', '--json']);
    expect(push.status, push.stderr).toBe(0);
    const manifest = JSON.parse((await exec(tools.crane, ['manifest', '--insecure', `${host}/wasm/interop:1`])).stdout);
    expect(manifest.config.mediaType).toBe('application/vnd.wasm.config.v0+json');
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]).toMatchObject({ mediaType: 'application/wasm', digest: inspected.component.digest, size: inspected.component.size });
    const config = JSON.parse((await exec(tools.crane, ['config', '--insecure', `${host}/wasm/interop:1`])).stdout);
    expect(config).toMatchObject({ architecture: 'wasm', os: 'wasip2', layerDigests: [inspected.component.digest] });
    expect(config.component.exports).toContain('wasi:cli/run@0.2.10');

    const out = await mkdtemp(join(tmpdir(), 'oras-wasm-'));
    await exec(tools.oras, ['pull', '--plain-http', `${host}/wasm/interop:1`, '-o', out]);
    const file = join(out, 'interop.wasm');
    expect(sha256(await readFile(file))).toBe(inspected.component.digest);
    const run = wasmtimeRun(file, ['wasm']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Hello, wasm, from a WebAssembly component!');

    // and fabricks pulls it back as a component
    const fresh = await machine();
    const back = join(fresh.root, 'back.wasm');
    const pulled = await fresh.run(['pull', `${host}/wasm/interop:1`, '--plain-http', '-o', back, '--json']);
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(JSON.parse(pulled.stdout)).toMatchObject({ kind: 'wasm', component: { digest: inspected.component.digest } });
    const runRef = await fresh.run(['run', '-q', `${host}/wasm/interop:1`, '--plain-http', '--', 'cncf']);
    expect(runRef.status, runRef.stderr).toBe(0);
    expect(runRef.stdout).toContain('Hello, cncf, from a WebAssembly component!');
  });
});
