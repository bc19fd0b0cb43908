import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Descriptor, Target } from '../../src/oci/content.js';
import { digestHex } from '../../src/oci/digest.js';
import { LayoutStore } from '../../src/oci/layout-store.js';
import { decodeManifest, describe as describeBlob, pushImageManifest } from '../../src/oci/manifest.js';
import { Annotation, MediaType } from '../../src/oci/media-types.js';
import { parseRemote } from '../../src/oci/reference.js';
import { RegistryClient, type RegistryOptions } from '../../src/oci/registry/client.js';
import { CHUNK_SIZE, RemoteRepository } from '../../src/oci/registry/repository.js';
import { uploadSessionKey } from '../../src/oci/registry/upload-sessions.js';
import { pullToStore, pushManifest, remoteRepository, uploadSessionsFile } from '../../src/oci/transfer.js';
import { silentReporter } from '../../src/util/progress.js';
import { copyExample, events, fabricks, machine, repoRoot, storeSnapshot, type CliResult } from '../helpers.js';
import { startBlackhole, startProxy, startRegistry, type CountingProxy, type RegistryServer } from '../registry-servers.js';

/**
 * The registry client against registries that misbehave on the network: never answering,
 * stalling mid-body, streaming without end, cutting a transfer off. Real distribution registry
 * behind the fault proxy; every case would fail without the protection it names.
 */

const code = (code: string) => expect.objectContaining({ name: 'FabricksError', code });
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const tempStore = async () => LayoutStore.open(await mkdtemp(join(tmpdir(), 'fabricks-net-store-')));
const tempHome = () => mkdtemp(join(tmpdir(), 'fabricks-net-home-'));
const RUNTIME = 3 * CHUNK_SIZE + 300_000;

function blob(size: number, mediaType: string, title: string) {
  const bytes = new Uint8Array(randomBytes(size));
  return { bytes, desc: describeBlob(mediaType, bytes, { annotations: { [Annotation.title]: title } }) };
}

/** An app-shaped artifact (config, a runtime layer of several upload chunks, a module layer) in `store`. */
async function artifact(store: Target) {
  const runtime = blob(RUNTIME, MediaType.runtimeLayer, 'runtime.wasm');
  const module = blob(200_000, MediaType.moduleLayer, 'module.wasm');
  for (const b of [runtime, module]) await store.push(b.desc, b.bytes);
  const root = await pushImageManifest(store, { config: { mediaType: MediaType.appConfig, value: { name: 'net-test', id: randomBytes(8).toString('hex') } }, layers: [runtime.desc, module.desc] });
  const config = decodeManifest(root.desc, root.bytes, 'test').config;
  return { root, config, runtime, module };
}

let registry: RegistryServer;
let proxy: CountingProxy;
let source: LayoutStore;
let app: Awaited<ReturnType<typeof artifact>>;
let n = 0;

/** Fresh options (so a fresh client): few quick retries, the given timeouts. */
const options = (timeouts: RegistryOptions['timeouts'] = {}, attempts = 2): RegistryOptions => ({
  plainHttp: true,
  credential: async () => undefined,
  retry: { attempts, baseMs: 10, maxMs: 20 },
  timeouts,
});
const ref = (path: string) => parseRemote(`${proxy.host}/${path}`, 'the test reference');
const blobGets = (digest: string) => proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${digest}`));
const isBlobGet = (digest: string) => (req: { method?: string; url?: string }) => req.method === 'GET' && (req.url ?? '').endsWith(`/blobs/${digest}`);
const partialFile = (store: LayoutStore, desc: Descriptor) => join(store.root, '.fabricks', 'partial', digestHex(desc.digest));
/** Leaves a partial download of `desc` in the store, as a pull cut off would. */
const leavePartial = async (store: LayoutStore, desc: Descriptor, bytes: Uint8Array) => writeFile(await store.partialPath(desc), bytes);
const sizeOf = (path: string) => stat(path).then((s) => s.size, () => -1);

/** Pushes the test app to a new repository (no faults) and returns its reference. */
async function published(): Promise<ReturnType<typeof ref>> {
  const r = ref(`net/app-${++n}:1`);
  await pushManifest(source, app.root, r, { registry: options(), reporter: silentReporter, home: await tempHome() });
  proxy.reset();
  return r;
}

beforeAll(async () => {
  registry = await startRegistry('distribution');
  proxy = await startProxy(registry.host);
  source = await tempStore();
  app = await artifact(source);
  await source.tag(app.root.desc, 'net-test:1');
});
afterAll(async () => {
  proxy.fault = undefined;
  await proxy?.stop();
  await registry?.stop();
});
beforeEach(() => {
  proxy.fault = undefined;
  proxy.onUploadBytes = undefined;
  proxy.reset();
});

describe('timeouts', () => {
  it('a registry that accepts and never answers: REGISTRY_UNREACHABLE naming the request and the wait, retried, within seconds', async () => {
    const r = await published();
    proxy.fault = (req) => (req.url?.includes('/manifests/') ? { kind: 'hang' } : undefined);
    const store = await tempStore();
    const started = Date.now();
    const failed = pullToStore(r, store, { registry: options({ headersMs: 1000 }), reporter: silentReporter, home: await tempHome() });
    await expect(failed).rejects.toEqual(code('REGISTRY_UNREACHABLE'));
    await expect(failed).rejects.toThrow(`registry ${proxy.host} sent no response headers within 1 s (access to ${proxy.host}/${r.repository}:1)`);
    expect(Date.now() - started).toBeLessThan(8000);
    // asked as often as the retry policy allows: a timeout is retried like a dropped connection
    expect(proxy.requests.filter((q) => q.path.includes('/manifests/'))).toHaveLength(2);
    expect(await store.references()).toEqual([]);
  });

  it('a registry that hangs once: the retry gets the blob', async () => {
    const r = await published();
    let left = 1;
    proxy.fault = (req) => (isBlobGet(app.module.desc.digest)(req) && left-- > 0 ? { kind: 'hang' } : undefined);
    const store = await tempStore();
    const pulled = await pullToStore(r, store, { registry: options({ headersMs: 1000 }), reporter: silentReporter, home: await tempHome() });
    expect(pulled.layers.map((l) => l.action)).toEqual(['sent', 'sent', 'sent']);
    expect(blobGets(app.module.desc.digest)).toHaveLength(2);
    expect(same(await store.fetch(app.module.desc), app.module.bytes)).toBe(true);
  });

  it('a connection that is never accepted: the connect timeout, named', async () => {
    const hole = await startBlackhole();
    try {
      const repo = new RemoteRepository(new RegistryClient(hole.host, options({ connectMs: 1000 }, 1)), 'net/nowhere');
      const started = Date.now();
      const failed = repo.fetchReference('1');
      await expect(failed).rejects.toEqual(code('REGISTRY_UNREACHABLE'));
      await expect(failed).rejects.toThrow(`registry ${hole.host} accepted no connection within 1 s (access to ${hole.host}/net/nowhere:1)`);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await hole.stop();
    }
  });

  it('a blob that stops coming mid-way: the error says after how much and for how long', async () => {
    const r = await published();
    proxy.fault = (req) => (isBlobGet(app.runtime.desc.digest)(req) ? { kind: 'stall-body', after: 1_500_000 } : undefined);
    const store = await tempStore();
    const started = Date.now();
    const failed = pullToStore(r, store, { registry: options({ stallMs: 1000 }), reporter: silentReporter, home: await tempHome() });
    await expect(failed).rejects.toEqual(code('REGISTRY_UNREACHABLE'));
    await expect(failed).rejects.toThrow(`registry ${proxy.host} stopped sending after 1.5 MB for 1 s (the download of blob ${app.runtime.desc.digest.slice(0, 19)} from ${proxy.host}/${r.repository})`);
    expect(Date.now() - started).toBeLessThan(10_000);
    // retried, and the retry asked only for what was missing
    const gets = blobGets(app.runtime.desc.digest);
    expect(gets.map((g) => g.range)).toEqual([undefined, 'bytes=1500000-']);
    expect(await store.references()).toEqual([]);
  });

  it('a push whose upload the registry stops reading: REGISTRY_UNREACHABLE within seconds, naming the upload', async () => {
    const repo = remoteRepository(ref(`net/stalled-${++n}`), options({ stallMs: 1000, headersMs: 1000 }, 1));
    proxy.fault = (req) => (req.method === 'PATCH' ? { kind: 'stall-upload', after: 64 * 1024 } : undefined);
    const started = Date.now();
    const failed = repo.push(app.runtime.desc, app.runtime.bytes);
    await expect(failed).rejects.toEqual(code('REGISTRY_UNREACHABLE'));
    // which deadline meets it first depends on how much of the 4 MiB chunk the kernel's buffers took
    await expect(failed).rejects.toThrow(
      new RegExp(`registry ${proxy.host} (stopped taking the upload after [\\d.]+ MB of 4\\.2 MB|sent no response headers within 1 s) .*\\(the upload of blob ${app.runtime.desc.digest.slice(0, 19)} to ${proxy.host}/net/stalled-${n}\\)`),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a request body the registry stops taking is caught by the stall timeout, however long the headers may take', async () => {
    const client = new RegistryClient(proxy.host, options({ stallMs: 1000, headersMs: 60_000 }, 1));
    proxy.fault = (req) => (req.method === 'PATCH' ? { kind: 'stall-upload', after: 64 * 1024 } : undefined);
    // larger than what loopback's socket buffers hold, so the stall shows while fabricks still sends
    const body = new Uint8Array(48 * 1024 * 1024);
    const started = Date.now();
    const failed = client.send({ method: 'PATCH', url: '/v2/net/stall/blobs/uploads/x', scopes: [], body, what: 'the test upload', retry: false });
    await expect(failed).rejects.toEqual(code('REGISTRY_UNREACHABLE'));
    await expect(failed).rejects.toThrow(new RegExp(`registry ${proxy.host} stopped taking the upload after [\\d.]+ MB of 50\\.3 MB for 1 s \\(the test upload\\)`));
    expect(Date.now() - started).toBeLessThan(6000);
  });
});

describe('upload bodies', () => {
  it('a large body, sent in watched pieces, still follows a 307: the bytes go again to where the registry points', async () => {
    const seen: Array<{ path: string; bytes: number; authorization?: string }> = [];
    const server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', bytes, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
        if (req.url === '/v2/net/redirect/blobs/uploads/x') res.writeHead(307, { Location: '/elsewhere' }).end();
        else res.writeHead(202, { Location: '/v2/net/redirect/blobs/uploads/y' }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const client = new RegistryClient(`127.0.0.1:${port}`, options());
      const body = new Uint8Array(randomBytes(300_000));
      const res = await client.send({ method: 'PATCH', url: '/v2/net/redirect/blobs/uploads/x', scopes: [], body, what: 'the test upload', retry: false });
      expect(res.status).toBe(202);
      expect(seen).toEqual([
        { path: '/v2/net/redirect/blobs/uploads/x', bytes: body.length },
        { path: '/elsewhere', bytes: body.length },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('bounded reads', () => {
  it('a manifest without end: ARTIFACT_INVALID at the 4 MiB cap, at once, in little memory', async () => {
    proxy.fault = (req) => (req.url?.includes('/manifests/') ? { kind: 'endless-body', contentType: MediaType.imageManifest } : undefined);
    const repo = remoteRepository(ref(`net/endless-${++n}`), options());
    const before = process.memoryUsage();
    const started = Date.now();
    const failed = repo.fetchReference('1');
    await expect(failed).rejects.toEqual(code('ARTIFACT_INVALID'));
    await expect(failed).rejects.toThrow(`registry ${proxy.host} sent a manifest larger than 4 MiB`);
    expect(Date.now() - started).toBeLessThan(3000);
    const after = process.memoryUsage();
    expect(after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)).toBeLessThan(64 * 1024 * 1024);
    // the proxy kept streaming only while fabricks read: a few MiB, not gigabytes
    await new Promise((r) => setTimeout(r, 200));
    expect(proxy.requests[0]!.bodyBytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('an error answer without end: its detail is cut at 64 KiB and the error arrives at once', async () => {
    proxy.fault = (req) => (req.url?.includes('/manifests/') ? { kind: 'endless-body', contentType: 'text/plain', status: 400 } : undefined);
    const repo = remoteRepository(ref(`net/endless-error-${++n}`), options());
    const started = Date.now();
    await expect(repo.fetchReference('1')).rejects.toEqual(expect.objectContaining({ code: 'REGISTRY_REFUSED', status: 400 }));
    expect(Date.now() - started).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 200));
    expect(proxy.requests[0]!.bodyBytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('a token service that answers without end: REGISTRY_AUTH at the 1 MiB cap', async () => {
    let tokenBytes = 0;
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const piece = Buffer.alloc(64 * 1024, 0x20);
        const until = Date.now() + 30_000;
        const pump = () => {
          while (!res.destroyed && Date.now() < until) {
            tokenBytes += piece.length;
            if (!res.write(piece)) return;
          }
          res.end();
        };
        res.on('drain', pump);
        pump();
        return;
      }
      const { port } = server.address() as { port: number };
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="endless"` }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const repo = new RemoteRepository(new RegistryClient(`127.0.0.1:${port}`, options()), 'net/token');
      const started = Date.now();
      const failed = repo.fetchReference('1');
      await expect(failed).rejects.toEqual(code('REGISTRY_AUTH'));
      await expect(failed).rejects.toThrow('sent more than 1 MiB');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(tokenBytes).toBeLessThan(64 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('resumable downloads', () => {
  it('a pull cut off after most of the runtime layer keeps it; the next pull asks for the rest only', async () => {
    const r = await published();
    const cutAt = 10_000_000;
    proxy.fault = (req) => (isBlobGet(app.runtime.desc.digest)(req) ? { kind: 'cut-after', after: cutAt } : undefined);
    const store = await tempStore();
    const home = await tempHome();
    await expect(pullToStore(r, store, { registry: options({}, 1), reporter: silentReporter, home })).rejects.toEqual(code('REGISTRY_UNREACHABLE'));
    expect(await store.references()).toEqual([]);
    expect(await readdir(join(store.root, 'blobs', 'sha256'))).toEqual([]);
    // what was kept: all the proxy sent, less what a reset connection dropped from the socket buffer
    const kept = await sizeOf(partialFile(store, app.runtime.desc));
    expect(kept).toBeLessThanOrEqual(cutAt);
    expect(kept).toBeGreaterThan(cutAt - 1024 * 1024);

    proxy.fault = undefined;
    proxy.reset();
    const pulled = await pullToStore(r, store, { registry: options({}, 1), reporter: silentReporter, home });
    const gets = blobGets(app.runtime.desc.digest);
    expect(gets.map((g) => [g.range, g.status, g.bodyBytes])).toEqual([[`bytes=${kept}-`, 206, RUNTIME - kept]]);
    expect(pulled.layers.find((l) => l.title === 'runtime.wasm')).toMatchObject({ action: 'sent', bytes: RUNTIME - kept });
    // counted on the wire: the rest of the runtime, the module and small change
    expect(proxy.counts().received).toBeLessThan(RUNTIME - kept + app.module.desc.size + 100_000);
    expect(same(await store.fetch(app.runtime.desc), app.runtime.bytes)).toBe(true);
    expect((await store.resolve(pulled.storeReference)).digest).toBe(app.root.desc.digest);
    expect(await sizeOf(partialFile(store, app.runtime.desc))).toBe(-1);
  });

  it('a partial file that does not lead to the digest is dropped and the blob fetched whole', async () => {
    const r = await published();
    const store = await tempStore();
    await leavePartial(store, app.runtime.desc, randomBytes(3_000_000));
    const pulled = await pullToStore(r, store, { registry: options(), reporter: silentReporter, home: await tempHome() });
    expect(blobGets(app.runtime.desc.digest).map((g) => g.range)).toEqual(['bytes=3000000-', undefined]);
    expect(pulled.layers.find((l) => l.title === 'runtime.wasm')!.bytes).toBe(RUNTIME - 3_000_000 + RUNTIME);
    expect(same(await store.fetch(app.runtime.desc), app.runtime.bytes)).toBe(true);
  });

  it('a registry that ignores Range: the whole blob comes and the file starts over', async () => {
    const r = await published();
    const store = await tempStore();
    await leavePartial(store, app.runtime.desc, app.runtime.bytes.subarray(0, 3_000_000));
    proxy.fault = (req) => (isBlobGet(app.runtime.desc.digest)(req) ? { kind: 'no-range' } : undefined);
    await pullToStore(r, store, { registry: options(), reporter: silentReporter, home: await tempHome() });
    expect(blobGets(app.runtime.desc.digest).map((g) => [g.range, g.status])).toEqual([['bytes=3000000-', 200]]);
    expect(same(await store.fetch(app.runtime.desc), app.runtime.bytes)).toBe(true);
  });

  it('staged first: a pull that fails after the runtime arrived adopts nothing; the next one fetches what arrived no more', async () => {
    const r = await published();
    proxy.fault = (req) => (isBlobGet(app.module.desc.digest)(req) ? { kind: 'corrupt' } : undefined);
    const store = await tempStore();
    const home = await tempHome();
    await expect(pullToStore(r, store, { registry: options(), reporter: silentReporter, home })).rejects.toEqual(code('DIGEST_MISMATCH'));
    expect(await readdir(join(store.root, 'blobs', 'sha256'))).toEqual([]);
    expect(await store.references()).toEqual([]);
    expect(await sizeOf(partialFile(store, app.runtime.desc))).toBe(RUNTIME);
    // the damaged download is not kept
    expect(await sizeOf(partialFile(store, app.module.desc))).toBe(-1);

    proxy.fault = undefined;
    proxy.reset();
    const pulled = await pullToStore(r, store, { registry: options(), reporter: silentReporter, home });
    expect(blobGets(app.runtime.desc.digest)).toEqual([]);
    expect(blobGets(app.config.digest)).toEqual([]);
    expect(pulled.layers.map((l) => l.bytes)).toEqual([0, 0, app.module.desc.size]);
    expect(same(await store.fetch(app.runtime.desc), app.runtime.bytes)).toBe(true);
  });
});

describe('resumable uploads', () => {
  it('a push cut off mid-blob goes on, in the next run, from where the registry stands', async () => {
    const destination = ref(`net/push-${++n}:1`);
    const home = await tempHome();
    let patches = 0;
    // the third chunk of the runtime is cut off after 1 MB; the registry keeps the first two
    proxy.fault = (req) => (req.method === 'PATCH' && ++patches === 3 ? { kind: 'cut-upload', after: 1_000_000 } : undefined);
    await expect(pushManifest(source, app.root, destination, { registry: options({}, 1), reporter: silentReporter, home })).rejects.toEqual(code('REGISTRY_UNREACHABLE'));
    const sessions = JSON.parse(await readFile(uploadSessionsFile(home), 'utf8')) as Record<string, { location: string }>;
    expect(Object.keys(sessions)).toEqual([uploadSessionKey(`http://${proxy.host}`, destination.repository, app.runtime.desc.digest)]);

    proxy.fault = undefined;
    proxy.reset();
    const report = await pushManifest(source, app.root, destination, { registry: options({}, 1), reporter: silentReporter, home });
    // the blobs moved in parallel: the module, under way when the runtime was cut, went up then
    expect(report.layers.map((l) => [l.title, l.action])).toEqual([
      ['config', 'skipped'],
      ['runtime.wasm', 'sent'],
      ['module.wasm', 'skipped'],
    ]);
    // the registry kept the two chunks and what arrived of the third (distribution keeps a cut PATCH's bytes)
    const resent = report.layers[1]!.bytes;
    expect(resent).toBeLessThanOrEqual(RUNTIME - 2 * CHUNK_SIZE);
    expect(resent).toBeGreaterThanOrEqual(RUNTIME - 2 * CHUNK_SIZE - 1_000_000);
    // asked where the upload stood, opened no new session for the runtime, and sent only the rest
    expect(proxy.requests.filter((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/')).map((q) => q.status)).toEqual([204]);
    expect(proxy.requests.filter((q) => q.method === 'POST')).toHaveLength(0);
    expect(proxy.requests.filter((q) => q.method === 'PATCH' || q.method === 'PUT').reduce((t, q) => t + q.uploadBytes, 0)).toBe(resent + app.root.bytes.length);
    expect(proxy.counts().sent).toBeLessThan(resent + 100_000);
    const repo = remoteRepository(destination, options());
    expect(same(await repo.fetch(app.runtime.desc), app.runtime.bytes)).toBe(true);
    expect(JSON.parse(await readFile(uploadSessionsFile(home), 'utf8'))).toEqual({});
  });

  it('an upload session the registry no longer knows: the upload starts over', async () => {
    const destination = ref(`net/push-${++n}:1`);
    const home = await tempHome();
    const key = uploadSessionKey(`http://${proxy.host}`, destination.repository, app.runtime.desc.digest);
    const gone = `http://${proxy.host}/v2/${destination.repository}/blobs/uploads/0b0e5d9c-0000-4000-8000-000000000000?_state=gone`;
    await writeFile(uploadSessionsFile(home), JSON.stringify({ [key]: { location: gone, at: Date.now() } }));
    const report = await pushManifest(source, app.root, destination, { registry: options(), reporter: silentReporter, home });
    expect(report.layers.find((l) => l.title === 'runtime.wasm')).toMatchObject({ action: 'sent', bytes: RUNTIME });
    expect(proxy.requests.some((q) => q.method === 'GET' && q.path.includes('0b0e5d9c'))).toBe(true);
    expect(same(await remoteRepository(destination, options()).fetch(app.runtime.desc), app.runtime.bytes)).toBe(true);
  });
});

describe('what a push vouches for', () => {
  it('a damaged blob in the local store is never mounted: STORE_CORRUPT, moved aside, no mount asked', async () => {
    const store = await tempStore();
    const a = await artifact(store);
    const home = await tempHome();
    const first = ref(`net/mount-a-${++n}:1`);
    await pushManifest(store, a.root, first, { registry: options(), reporter: silentReporter, home });
    // one byte of the runtime flips on disk after it was pushed (and checked) once
    const file = store.blobPath(a.runtime.desc.digest);
    const bytes = await readFile(file);
    bytes[1000] = bytes[1000]! ^ 0xff;
    await writeFile(file, bytes);
    proxy.reset();
    const failed = pushManifest(store, a.root, ref(`net/mount-b-${n}:1`), { registry: options(), reporter: silentReporter, home });
    await expect(failed).rejects.toEqual(code('STORE_CORRUPT'));
    expect(proxy.requests.filter((q) => q.path.includes(`mount=${encodeURIComponent(a.runtime.desc.digest)}`))).toEqual([]);
    // the config and the module (under way at the same time) were checked and mounted; the runtime went nowhere
    expect(proxy.requests.filter((q) => q.path.includes('mount='))).toHaveLength(2);
    expect(proxy.requests.filter((q) => q.method === 'PATCH' || (q.method === 'PUT' && q.path.includes('/blobs/')))).toEqual([]);
    expect(await readdir(join(store.root, '.fabricks', 'quarantine'))).toHaveLength(1);
  });
});

describe('pull hooks', () => {
  /** A store that already names something, so index.json exists and can be compared byte for byte. */
  async function storeWithIndex() {
    const store = await tempStore();
    const other = await artifact(store);
    await store.tag(other.root.desc, 'other:1');
    return { store, index: await readFile(join(store.root, 'index.json')), blobs: await readdir(join(store.root, 'blobs', 'sha256')) };
  }

  it('validate sees each received blob as a checked file before it is stored; when it throws, nothing is stored or named', async () => {
    const r = await published();
    const { store, index, blobs } = await storeWithIndex();
    const seen: Array<[string, number]> = [];
    const validate = async (desc: Descriptor, staged: { path: string } | { bytes: Uint8Array }) => {
      expect('path' in staged).toBe(true);
      if ('path' in staged) seen.push([desc.digest, await sizeOf(staged.path)]);
      if (desc.mediaType === MediaType.moduleLayer) throw new Error('not a component');
    };
    await expect(pullToStore(r, store, { registry: options(), reporter: silentReporter, home: await tempHome(), validate })).rejects.toThrow('not a component');
    // the three arrive in parallel, in any order
    expect(seen.sort()).toEqual([app.config, app.runtime.desc, app.module.desc].map((d) => [d.digest, d.size]).sort());
    expect(await readFile(join(store.root, 'index.json'))).toEqual(index);
    expect(await readdir(join(store.root, 'blobs', 'sha256'))).toEqual(blobs);
  });

  it('check runs once every blob and the manifest are stored, before the tag; when it throws, index.json is byte for byte as it was', async () => {
    const r = await published();
    const { store, index } = await storeWithIndex();
    const reference = `${proxy.host}/${r.repository}:1`;
    const check = async (manifest: { layers: Descriptor[] }, desc: Descriptor) => {
      // everything is there to recompose from, and nothing names it yet
      for (const d of [app.config, ...manifest.layers, desc]) expect(await store.exists(d)).toBe(true);
      await expect(store.resolve(reference)).rejects.toEqual(code('NOT_FOUND'));
      throw new Error('the component digest does not match');
    };
    await expect(pullToStore(r, store, { registry: options(), reporter: silentReporter, home: await tempHome(), check })).rejects.toThrow('the component digest does not match');
    expect(await readFile(join(store.root, 'index.json'))).toEqual(index);

    const calls: string[] = [];
    const pulled = await pullToStore(r, store, {
      registry: options(),
      reporter: silentReporter,
      home: await tempHome(),
      validate: async (d) => void calls.push(`validate ${d.digest}`),
      check: async (_m, d) => void calls.push(`check ${d.digest}`),
    });
    // the blobs were stored by the failed pull: only the check runs again, then the tag
    expect(calls).toEqual([`check ${app.root.desc.digest}`]);
    expect((await store.resolve(pulled.storeReference)).digest).toBe(app.root.desc.digest);
  });
});

describe('the CLI on a misbehaving network', () => {
  type Machine = Awaited<ReturnType<typeof machine>>;
  type Layer = { title: string; digest: string; size: number; action: string; bytes: number };
  let builder: Machine;
  let project: string;

  /** Runs the CLI as `m` would, and kills it (SIGKILL, as a crash) when `kill` is called. */
  function killable(m: Machine, args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), ...args], { env: { ...process.env, FABRICKS_HOME: m.home, ...m.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
    return { done, kill: () => child.kill('SIGKILL') };
  }

  beforeAll(async () => {
    builder = await machine({ shareStore: true });
    project = await copyExample('hello-js', 'net-cli');
    // a packed data file makes the module layer a 9 MB blob: three upload chunks
    await writeFile(join(project, 'data.bin'), randomBytes(9 * 1024 * 1024));
    const built = await fabricks(['build', '-q', project]);
    expect(built.status, built.stderr).toBe(0);
  });

  it('pull from a registry that never answers ends in seconds, naming the registry, the request and the wait', async () => {
    proxy.fault = () => ({ kind: 'hang' });
    const fresh = await machine();
    const started = Date.now();
    const r = await fresh.run(['pull', `${proxy.host}/net/silent:1`, '--plain-http'], { env: { FABRICKS_REGISTRY_HEADERS_TIMEOUT_MS: '1000', FABRICKS_REGISTRY_RETRIES: '2' } });
    expect(r.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.stderr).toContain(`registry ${proxy.host} sent no response headers within 1 s (access to ${proxy.host}/net/silent:1)`);
    expect(r.stderr).toMatch(/hint: .*FABRICKS_REGISTRY_CONNECT_TIMEOUT_MS/);
    expect(proxy.requests).toHaveLength(2);
  });

  it('says when it tries again, and why, as progress events', async () => {
    proxy.fault = () => ({ kind: 'hang' });
    const fresh = await machine();
    const r = await fresh.run(['pull', `${proxy.host}/net/silent:1`, '--plain-http', '--progress', 'json'], { env: { FABRICKS_REGISTRY_HEADERS_TIMEOUT_MS: '500', FABRICKS_REGISTRY_RETRIES: '3' } });
    expect(r.status).toBe(1);
    const retries = events(r.stderr).filter((e) => e.event === 'retry');
    expect(retries).toEqual([
      expect.objectContaining({ registry: proxy.host, attempt: 1, attempts: 3, reason: 'UND_ERR_HEADERS_TIMEOUT', what: `access to ${proxy.host}/net/silent:1` }),
      expect.objectContaining({ attempt: 2, attempts: 3, reason: 'UND_ERR_HEADERS_TIMEOUT' }),
    ]);
    const human = await fresh.run(['pull', `${proxy.host}/net/silent:1`, '--plain-http'], { env: { FABRICKS_REGISTRY_HEADERS_TIMEOUT_MS: '500', FABRICKS_REGISTRY_RETRIES: '2' } });
    expect(human.stderr).toMatch(/registry .*: access to .* failed \(UND_ERR_HEADERS_TIMEOUT\); trying again in .* \(2 of 2\)/);
  });

  it('Ctrl-C stops a pull that waits on a registry that never answers, at once', async () => {
    proxy.fault = () => ({ kind: 'hang' });
    proxy.reset();
    const fresh = await machine();
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'fabricks.js'), 'pull', `${proxy.host}/net/silent:1`, '--plain-http'], {
      env: { ...process.env, FABRICKS_HOME: fresh.home, ...fresh.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // the default timeouts (60 s for headers): only the interruption can end it this soon
    const deadline = Date.now() + 10_000;
    while (proxy.requests.length === 0 && Date.now() < deadline) await new Promise((w) => setTimeout(w, 50));
    await new Promise((w) => setTimeout(w, 300));
    const sent = Date.now();
    child.kill('SIGINT');
    const status = await closed;
    expect(status, stderr).toBe(130);
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(stderr).toContain('error: interrupted');
  });

  it('a push killed mid-blob resumes, when run again, from where the registry stands', async () => {
    const destination = `${proxy.host}/net/cli-push:1`;
    let patches = 0;
    // one blob at a time, so the blob cut off is the only one left half-sent
    const first = killable(builder, ['push', project, destination, '--plain-http', '-q'], { FABRICKS_TRANSFER_CONCURRENCY: '1' });
    // killed as the third upload chunk starts: two chunks are in the registry
    proxy.fault = (req) => {
      if (req.method === 'PATCH' && ++patches === 3) first.kill();
      return undefined;
    };
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    proxy.fault = undefined;
    proxy.reset();
    const again = await builder.run(['push', project, destination, '--plain-http', '--json']);
    expect(again.status, again.stderr).toBe(0);
    const layers = (JSON.parse(again.stdout) as { layers: Layer[] }).layers;
    const resumed = layers.filter((l) => l.action === 'sent' && l.bytes < l.size);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.bytes).toBeLessThanOrEqual(resumed[0]!.size - 2 * CHUNK_SIZE);
    expect(proxy.requests.filter((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/')).map((q) => q.status)).toEqual([204]);
    // on the wire: what the report says, not the whole blob again
    const sentBlobs = layers.filter((l) => l.action === 'sent').reduce((t, l) => t + l.bytes, 0);
    expect(proxy.counts().sent).toBeLessThan(sentBlobs + 200_000);

    const fresh = await machine();
    const run = await fresh.run(['run', '-q', destination, '--plain-http', '--', 'resumed']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Hello, resumed');
  });

  it('a pull cut off in its largest layer keeps what arrived; run again it receives only the rest', async () => {
    const reference = `${proxy.host}/net/cli-pull:1`;
    const pushed = await builder.run(['push', project, reference, '--plain-http', '--json']);
    expect(pushed.status, pushed.stderr).toBe(0);
    const largest = (JSON.parse(pushed.stdout) as { layers: Layer[] }).layers.sort((a, b) => b.size - a.size)[0]!;
    const cutAt = largest.size - 500_000;
    proxy.fault = (req) => (isBlobGet(largest.digest)(req) ? { kind: 'cut-after', after: cutAt } : undefined);
    const fresh = await machine();
    const before = await storeSnapshot(fresh.home);
    const cut = await fresh.run(['pull', reference, '--plain-http'], { env: { FABRICKS_REGISTRY_RETRIES: '1' } });
    expect(cut.status).toBe(1);
    expect(cut.stderr).toContain(`registry ${proxy.host} (http://${proxy.host}) broke off the download of blob ${largest.digest.slice(0, 19)}`);
    expect(await storeSnapshot(fresh.home)).toBe(before);

    proxy.fault = undefined;
    proxy.reset();
    const again = await fresh.run(['pull', reference, '--plain-http', '--json', '--progress', 'json']);
    expect(again.status, again.stderr).toBe(0);
    // what was kept is what arrived: at most the cut, less what a reset dropped from the socket buffer
    const gets = blobGets(largest.digest);
    expect(gets.map((g) => g.status)).toEqual([206]);
    const kept = Number(/^bytes=(\d+)-$/.exec(gets[0]!.range ?? '')?.[1]);
    expect(kept).toBeLessThanOrEqual(cutAt);
    expect(kept).toBeGreaterThan(cutAt - 1024 * 1024);
    const done = events(again.stderr).find((e) => e.event === 'blob-done' && e.digest === largest.digest);
    expect(done).toMatchObject({ action: 'received', bytes: largest.size - kept });
    const result = JSON.parse(again.stdout) as { bytesReceived: number; layers: Layer[] };
    expect(result.bytesReceived).toBeLessThan(result.layers.reduce((t, l) => t + l.size, 0) - kept + 50_000);
    expect(proxy.counts().received).toBeLessThan(result.bytesReceived + 100_000);
  });
});
