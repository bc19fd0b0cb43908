import { createHash } from 'node:crypto';
import { FabricksError } from '../../util/errors.js';
import { verifyContent, type Descriptor, type ManifestContent, type Mounter, type OnBytes, type Target } from '../content.js';
import { isDigest, sha256, type Digest } from '../digest.js';
import { decodeManifest } from '../manifest.js';
import { MediaType } from '../media-types.js';
import { pullScope, pushScope } from './challenge.js';
import { discard, type RegistryClient } from './client.js';
import { backoffMs, isNetworkError, retryableStatus, sleep } from './retry.js';

export type { OnBytes };

/** Blobs up to this size go up in one request; larger ones in chunks of this size. */
export const CHUNK_SIZE = 4 * 1024 * 1024;
const MAX_MANIFEST = 4 * 1024 * 1024;

const MANIFEST_TYPES: string[] = [
  MediaType.imageManifest,
  MediaType.imageIndex,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
export const isManifestType = (mediaType: string) => MANIFEST_TYPES.includes(mediaType);

/**
 * One repository of a registry, as the OCI distribution spec defines it: blobs checked with
 * HEAD, fetched with their digest and size verified, uploaded whole or in chunks (resumed
 * where the registry says it stands), mounted across repositories; manifests by tag or digest.
 */
export class RemoteRepository implements Target, Mounter {
  constructor(
    readonly client: RegistryClient,
    readonly name: string,
  ) {}

  /** registry/repository, as users write it. */
  get location(): string {
    return `${this.client.host}/${this.name}`;
  }

  private path(kind: 'blobs' | 'manifests', ref: string): string {
    return `/v2/${this.name}/${kind}/${ref}`;
  }

  /** HEAD: the registry holds this blob (or manifest) at this size. */
  async exists(desc: Pick<Descriptor, 'digest' | 'size' | 'mediaType'>): Promise<boolean> {
    const kind = isManifestType(desc.mediaType) ? 'manifests' : 'blobs';
    const what = `access to ${this.location}`;
    const res = await this.client.send({
      method: 'HEAD',
      url: this.path(kind, desc.digest),
      scopes: [pullScope(this.name)],
      what,
      ...(kind === 'manifests' ? { headers: { Accept: MANIFEST_TYPES.join(', ') } } : {}),
    });
    await discard(res);
    if (res.status === 404) return false;
    if (res.status !== 200) throw await this.client.failure(res, what);
    const length = res.headers.get('content-length');
    return length === null || Number(length) === desc.size;
  }

  /** Downloads a blob; its bytes are checked against size and digest before anyone sees them. */
  async fetch(desc: Descriptor, onBytes?: OnBytes): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.fetchOnce(desc, onBytes);
      } catch (e) {
        // a connection dropped mid-body: fetch the blob again (not a digest error: that is final)
        if (!isNetworkError(e) || attempt >= this.client.retry.attempts) throw e;
        await sleep(backoffMs(this.client.retry, attempt));
      }
    }
  }

  private async fetchOnce(desc: Descriptor, onBytes?: OnBytes): Promise<Uint8Array> {
    const what = `the download of blob ${desc.digest.slice(0, 19)} from ${this.location}`;
    const res = await this.client.expect({ method: 'GET', url: this.path('blobs', desc.digest), scopes: [pullScope(this.name)], what }, [200]);
    const hash = createHash('sha256');
    const out = new Uint8Array(desc.size);
    let received = 0;
    const reader = res.body?.getReader();
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (received + value.length > desc.size) {
          await reader.cancel();
          throw digestError(this.location, desc, `more than the ${desc.size} bytes its descriptor gives`);
        }
        out.set(value, received);
        hash.update(value);
        received += value.length;
        onBytes?.(received);
      }
    }
    if (received !== desc.size) throw digestError(this.location, desc, `${received} bytes, not the ${desc.size} its descriptor gives`);
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== desc.digest) throw digestError(this.location, desc, `bytes whose digest is ${got}`);
    return out;
  }

  /** Uploads a blob (a manifest goes to the manifests endpoint, by digest). */
  async push(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes): Promise<void> {
    verifyContent(desc, content, this.location);
    if (isManifestType(desc.mediaType)) {
      await this.pushReference(desc, content, desc.digest);
      onBytes?.(content.length);
      return;
    }
    for (let session = 1; ; session++) {
      try {
        return await this.uploadOnce(desc, content, onBytes);
      } catch (e) {
        // the session itself broke (e.g. the registry restarted and forgot it): start over
        if (!(e instanceof UploadLost) || session >= 3) throw e instanceof UploadLost ? e.cause : e;
      }
    }
  }

  private async startUpload(what: string): Promise<string> {
    const res = await this.client.expect({ method: 'POST', url: `/v2/${this.name}/blobs/uploads/`, scopes: [pushScope(this.name)], what }, [202]);
    await discard(res);
    return locationOf(res, this.client.base, what);
  }

  private async uploadOnce(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes): Promise<void> {
    const what = `the upload of blob ${desc.digest.slice(0, 19)} to ${this.location}`;
    const scopes = [pushScope(this.name)];
    let location = await this.startUpload(what);
    let offset = 0;
    if (content.length > CHUNK_SIZE) {
      let failures = 0;
      while (offset < content.length) {
        const end = Math.min(offset + CHUNK_SIZE, content.length);
        try {
          const res = await this.client.expect(
            {
              method: 'PATCH',
              url: location,
              scopes,
              what,
              retry: false,
              body: content.subarray(offset, end),
              headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end - 1}` },
            },
            [202],
          );
          await discard(res);
          location = locationOf(res, this.client.base, what);
          offset = end;
          failures = 0;
          onBytes?.(offset);
        } catch (e) {
          if (++failures >= this.client.retry.attempts || !(isNetworkError(e) || isServerError(e))) throw new UploadLost(e);
          await sleep(backoffMs(this.client.retry, failures));
          // ask the registry how much it has, and go on from there
          const status = await this.client.send({ method: 'GET', url: location, scopes, what }).catch((err: unknown) => err);
          if (!(status instanceof Response) || status.status !== 204) throw new UploadLost(e);
          await discard(status);
          const range = /^(?:bytes=)?0-(\d+)$/.exec(status.headers.get('range') ?? '');
          offset = range ? Number(range[1]) + 1 : 0;
          location = locationOf(status, this.client.base, what);
        }
      }
    }
    const url = new URL(location, this.client.base);
    url.searchParams.set('digest', desc.digest);
    const last = content.subarray(offset);
    const res = await this.client
      .expect({ method: 'PUT', url: url.toString(), scopes, what, body: last, headers: { 'Content-Type': 'application/octet-stream' } }, [201])
      .catch((e: unknown) => {
        throw isNetworkError(e) || isServerError(e) ? new UploadLost(e) : e;
      });
    await discard(res);
    onBytes?.(content.length);
  }

  /**
   * Asks the registry to link a blob another of its repositories holds: no bytes move. False
   * when it would not (the blob is not there, or no pull rights on `from`); then upload it.
   */
  async mount(desc: Descriptor, from: string): Promise<boolean> {
    const what = `mount blob ${desc.digest.slice(0, 19)} from ${from} into ${this.name}`;
    const url = `/v2/${this.name}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`;
    let res: Response;
    try {
      res = await this.client.send({ method: 'POST', url, scopes: [pushScope(this.name), pullScope(from)], what });
    } catch {
      return false;
    }
    await discard(res);
    if (res.status === 201) return true;
    if (res.status === 202) {
      // the registry opened an upload instead; close it rather than leave it dangling
      const location = res.headers.get('location');
      if (location) await this.client.send({ method: 'DELETE', url: location, scopes: [pushScope(this.name)], what, retry: false }).then(discard, () => undefined);
    }
    return false;
  }

  private shown(reference: string): string {
    return `${this.location}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  private notFound(reference: string): FabricksError {
    return new FabricksError('NOT_FOUND', `${this.shown(reference)} is not in registry ${this.client.host}`, {
      hint: 'check the repository and tag (fabricks push prints the reference it pushed)',
      status: 404,
    });
  }

  /** Any manifest by tag or digest, its bytes checked against the digest asked for or the one the registry names. */
  private async getManifest(reference: string): Promise<ManifestContent> {
    const shown = this.shown(reference);
    const what = `access to ${shown}`;
    const res = await this.client.send({ method: 'GET', url: this.path('manifests', reference), scopes: [pullScope(this.name)], what, headers: { Accept: MANIFEST_TYPES.join(', ') } });
    if (res.status === 404) {
      await discard(res);
      throw this.notFound(reference);
    }
    if (res.status !== 200) throw await this.client.failure(res, what);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST) throw new FabricksError('ARTIFACT_INVALID', `${shown}: the manifest is ${bytes.length} bytes, more than a manifest can be`);
    const digest = sha256(bytes);
    const claimed = res.headers.get('docker-content-digest');
    const expected = isDigest(reference) ? reference : claimed && isDigest(claimed) ? claimed : undefined;
    if (expected && expected !== digest) {
      throw new FabricksError('DIGEST_MISMATCH', `${shown}: the manifest served has digest ${digest}, not ${expected}`, { hint: 'the registry or something between it and you altered the manifest; nothing was stored' });
    }
    return { desc: { mediaType: contentType(res), digest, size: bytes.length }, bytes };
  }

  /** The image manifest a tag or digest names, decoded (an index is WRONG_KIND, garbage ARTIFACT_INVALID). */
  async fetchReference(reference: string): Promise<ManifestContent> {
    const { desc, bytes } = await this.getManifest(reference);
    const manifest = decodeManifest(desc, bytes, this.shown(reference));
    return { desc: { mediaType: manifest.mediaType, digest: desc.digest, size: desc.size, ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}) }, bytes };
  }

  /** The descriptor a tag names, from a HEAD (a GET where the registry names no digest). */
  async resolve(reference: string): Promise<Descriptor> {
    const what = `access to ${this.shown(reference)}`;
    const res = await this.client.send({ method: 'HEAD', url: this.path('manifests', reference), scopes: [pullScope(this.name)], what, headers: { Accept: MANIFEST_TYPES.join(', ') } });
    await discard(res);
    if (res.status === 404) throw this.notFound(reference);
    if (res.status !== 200) throw await this.client.failure(res, what);
    const digest = res.headers.get('docker-content-digest');
    const size = Number(res.headers.get('content-length') ?? NaN);
    if (digest && isDigest(digest) && (!isDigest(reference) || reference === digest) && Number.isSafeInteger(size)) {
      return { mediaType: contentType(res), digest, size };
    }
    return (await this.getManifest(reference)).desc;
  }

  /** Puts the manifest the registry holds under `desc.digest` under a tag as well (NOT_FOUND if it holds none). */
  async tag(desc: Descriptor, reference: string): Promise<void> {
    const { bytes } = await this.getManifest(desc.digest);
    await this.pushReference(desc, bytes, reference);
  }

  /** Puts a manifest under a tag (or its digest). */
  async pushReference(desc: Descriptor, bytes: Uint8Array, reference: string): Promise<void> {
    verifyContent(desc, bytes, this.location);
    const what = `the push of ${this.shown(reference)}`;
    const res = await this.client.expect(
      { method: 'PUT', url: this.path('manifests', reference), scopes: [pushScope(this.name)], what, body: bytes, headers: { 'Content-Type': desc.mediaType } },
      [201, 200],
    );
    await discard(res);
    const digest = res.headers.get('docker-content-digest');
    if (digest && digest !== desc.digest) {
      throw new FabricksError('REGISTRY_REFUSED', `${what}: the registry recorded digest ${digest}, not ${desc.digest}`, { status: res.status });
    }
  }
}

/** The upload session broke; the whole blob upload starts over with a new session. */
class UploadLost extends Error {
  constructor(override readonly cause: unknown) {
    super('upload session lost');
  }
}

function isServerError(e: unknown): boolean {
  return e instanceof FabricksError && e.status !== undefined && retryableStatus(e.status);
}

function contentType(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
}

function locationOf(res: Response, base: string, what: string): string {
  const location = res.headers.get('location');
  if (!location) throw new FabricksError('REGISTRY_REFUSED', `${what}: the registry answered ${res.status} without a Location`, { status: res.status });
  return new URL(location, base).toString();
}

function digestError(location: string, desc: Descriptor, got: string): FabricksError {
  return new FabricksError('DIGEST_MISMATCH', `blob ${desc.digest} from ${location} does not match its digest: the registry sent ${got}`, {
    hint: 'nothing was stored; the registry (or a proxy before it) served wrong bytes; try again, and report it to the registry operator if it persists',
  });
}

export type { Digest };
