import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe as describeBlob } from '../../src/oci/manifest.js';
import { RegistryClient } from '../../src/oci/registry/client.js';
import { CHUNK_SIZE, RemoteRepository } from '../../src/oci/registry/repository.js';
import { startProxy, startRegistry, type CountingProxy, type Fault, type RegistryServer } from '../registry-servers.js';

/**
 * What the registry client tries again is decided by the answer's status and the socket error's
 * code, never by message text: dropped connections and 5xx are retried, a 404 is an answer.
 */

let registry: RegistryServer;
let proxy: CountingProxy;
let n = 0;

beforeAll(async () => {
  registry = await startRegistry('distribution');
  proxy = await startProxy(registry.host);
});
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});
beforeEach(() => {
  proxy.fault = undefined;
  proxy.reset();
});

const repository = () =>
  new RemoteRepository(new RegistryClient(proxy.host, { plainHttp: true, credential: async () => undefined, retry: { attempts: 3, baseMs: 5, maxMs: 10 } }), `retry/case-${++n}`);

const blob = (size: number) => {
  const bytes = new Uint8Array(randomBytes(size));
  return { bytes, desc: describeBlob('application/octet-stream', bytes) };
};

/** A fault for the first `times` requests that `match` picks, then none. */
function faultOnce(match: (req: IncomingMessage) => boolean, fault: Fault, times = 1): void {
  let left = times;
  proxy.fault = (req) => (match(req) && left-- > 0 ? fault : undefined);
}

const blobGet = (digest: string) => (req: IncomingMessage) => req.method === 'GET' && (req.url ?? '').endsWith(`/blobs/${digest}`);
const requestsTo = (method: string, suffix: string) => proxy.requests.filter((r) => r.method === method && r.path.endsWith(suffix)).length;

describe('registry retries', () => {
  it.each<[string, Fault]>([
    ['a connection dropped before the answer', { kind: 'drop' }],
    ['a connection dropped instead of the answer', { kind: 'drop-response' }],
    ['a 503', { kind: 'status', status: 503 }],
    ['a 429 with Retry-After', { kind: 'status', status: 429, retryAfter: '0' }],
  ])('a download survives %s', async (_what, fault) => {
    const repo = repository();
    const { desc, bytes } = blob(50_000);
    await repo.push(desc, bytes);
    proxy.reset();
    faultOnce(blobGet(desc.digest), fault);
    expect(Buffer.from(await repo.fetch(desc)).equals(Buffer.from(bytes))).toBe(true);
    expect(requestsTo('GET', `/blobs/${desc.digest}`)).toBe(2);
  });

  it('a 404 is an answer: NOT_FOUND with its status, asked once', async () => {
    const repo = repository();
    const { desc } = blob(100);
    await expect(repo.fetch(desc)).rejects.toEqual(expect.objectContaining({ code: 'NOT_FOUND', status: 404 }));
    expect(requestsTo('GET', `/blobs/${desc.digest}`)).toBe(1);
  });

  it('a registry that keeps failing: REGISTRY_REFUSED with the status, after the policy\'s attempts', async () => {
    const repo = repository();
    const { desc } = blob(100);
    proxy.fault = (req) => (blobGet(desc.digest)(req) ? { kind: 'status', status: 502 } : undefined);
    await expect(repo.fetch(desc)).rejects.toEqual(expect.objectContaining({ code: 'REGISTRY_REFUSED', status: 502 }));
    expect(requestsTo('GET', `/blobs/${desc.digest}`)).toBe(3);
  });

  it('a chunk answered with a 503 is resumed from the offset the registry reports, not resent whole', async () => {
    const repo = repository();
    const { desc, bytes } = blob(CHUNK_SIZE * 2 + 1000);
    // the second chunk fails once
    let patches = 0;
    proxy.fault = (req) => (req.method === 'PATCH' && ++patches === 2 ? { kind: 'status', status: 503 } : undefined);
    await repo.push(desc, bytes);
    expect(await repo.exists(desc)).toBe(true);
    expect(Buffer.from(await repo.fetch(desc)).equals(Buffer.from(bytes))).toBe(true);
    // one upload session: every chunk once, and the failed one once more
    expect(proxy.requests.filter((r) => r.method === 'POST').length).toBe(1);
    expect(proxy.requests.filter((r) => r.method === 'PATCH').length).toBe(Math.ceil(bytes.length / CHUNK_SIZE) + 1);
    expect(proxy.counts().sent).toBeLessThan(bytes.length + CHUNK_SIZE + 200_000);
  });
});
