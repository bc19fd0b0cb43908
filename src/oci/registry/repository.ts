import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { FabricksError } from '../../util/errors.js';
import { withFileLock } from '../../util/file-lock.js';
import { verifyContent, type Descriptor, type ManifestContent, type Mounter, type OnBytes, type Target } from '../content.js';
import { isDigest, sha256, type Digest } from '../digest.js';
import { decodeManifest } from '../manifest.js';
import { MediaType } from '../media-types.js';
import { pullScope, pushScope } from './challenge.js';
import { discard, type RegistryClient, type Response } from './client.js';
import { cancelBody, capText } from './http.js';
import { isNetworkError, retryableStatus } from './retry.js';
import { uploadSessionKey, type UploadSessions } from './upload-sessions.js';

export type { OnBytes };

/** Blobs up to this size go up in one request; larger ones in chunks of this size. */
export const CHUNK_SIZE = 4 * 1024 * 1024;
/** The most a manifest may be (what distribution accepts); reading stops past it. */
export const MAX_MANIFEST = 4 * 1024 * 1024;
/** The most a JSON blob (a config) may be when read into memory. */
export const MAX_JSON_BLOB = 4 * 1024 * 1024;
/** The most any blob may be when read into memory (larger ones go to files: pull into the local store). */
export const MAX_IN_MEMORY = 1024 * 1024 * 1024;

const MANIFEST_TYPES: string[] = [
  MediaType.imageManifest,
  MediaType.imageIndex,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
export const isManifestType = (mediaType: string) => MANIFEST_TYPES.includes(mediaType);
const isJsonType = (mediaType: string) => /(^application\/json|\+json)$/.test(mediaType.split(';')[0]!.trim());

export interface RepositoryOptions {
  /** Where unfinished uploads are remembered, so a push cut off resumes on the next run. */
  uploads?: UploadSessions;
}

/**
 * One repository of a registry, as the OCI distribution spec defines it: blobs checked with
 * HEAD, fetched with their digest and size verified (into memory, or into a file that a later
 * run resumes with a Range request), uploaded whole or in chunks (resumed where the registry
 * says it stands, in this run or the next), mounted across repositories; manifests by tag or
 * digest, read up to 4 MiB.
 */
export class RemoteRepository implements Target, Mounter {
  constructor(
    readonly client: RegistryClient,
    readonly name: string,
    private readonly options: RepositoryOptions = {},
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

  private downloadWhat(desc: Descriptor): string {
    return `the download of blob ${desc.digest.slice(0, 19)} from ${this.location}`;
  }

  /** Downloads a blob into memory; its bytes are checked against size and digest before anyone sees them. */
  async fetch(desc: Descriptor, onBytes?: OnBytes): Promise<Uint8Array> {
    const cap = isJsonType(desc.mediaType) ? MAX_JSON_BLOB : MAX_IN_MEMORY;
    if (desc.size > cap) {
      throw new FabricksError('ARTIFACT_INVALID', `blob ${desc.digest} (${desc.mediaType}) in ${this.location} is ${desc.size} bytes, more than the ${capText(cap)} fabricks reads into memory${cap === MAX_JSON_BLOB ? ' for a JSON blob' : ''}`, {
        hint: 'nothing was downloaded; a manifest that names a config this large is not one fabricks writes',
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.fetchOnce(desc, onBytes);
      } catch (e) {
        // a connection dropped or stalled mid-body: fetch the blob again (not a digest error: that is final)
        if (!isNetworkError(e) || attempt >= this.client.retry.attempts) throw e;
        await this.client.pause(attempt, this.downloadWhat(desc), e);
      }
    }
  }

  private async fetchOnce(desc: Descriptor, onBytes?: OnBytes): Promise<Uint8Array> {
    const what = this.downloadWhat(desc);
    const res = await this.client.expect({ method: 'GET', url: this.path('blobs', desc.digest), scopes: [pullScope(this.name)], what }, [200]);
    const hash = createHash('sha256');
    const out = new Uint8Array(desc.size);
    let received = 0;
    await this.client.readBody(res, what, (chunk) => {
      // the descriptor's size is the cap: a registry that sends more is stopped at once
      if (received + chunk.length > desc.size) throw digestError(this.location, desc, `more than the ${desc.size} bytes its descriptor gives`);
      out.set(chunk, received);
      hash.update(chunk);
      received += chunk.length;
      onBytes?.(received);
    });
    if (received !== desc.size) throw digestError(this.location, desc, `${received} bytes, not the ${desc.size} its descriptor gives`);
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== desc.digest) throw digestError(this.location, desc, `bytes whose digest is ${got}`);
    return out;
  }

  /**
   * Downloads a blob into a file, never whole in memory. What the file already holds (a
   * download cut off, in this run or an earlier one) is kept: the rest is asked for with a Range
   * request. The file ends as exactly the blob (size and digest checked); a partial file that
   * does not lead to the digest is dropped and the blob fetched whole. Returns the bytes that
   * crossed the network. One process at a time writes a given file.
   */
  async fetchToFile(desc: Descriptor, path: string, onBytes?: OnBytes): Promise<number> {
    return withFileLock(`${path}.lock`, async () => {
      const state = { received: 0, whole: false };
      for (let attempt = 1; ; attempt++) {
        try {
          if (await this.downloadToFile(desc, path, state, onBytes)) return state.received;
          if (state.whole) {
            throw new FabricksError('REGISTRY_REFUSED', `registry ${this.client.host} answered ${this.downloadWhat(desc)} with a range of the blob it was not asked for`);
          }
          // what the file held before did not lead to the digest: once more, from nothing
          state.whole = true;
          attempt--;
        } catch (e) {
          if (!isNetworkError(e) || attempt >= this.client.retry.attempts) throw e;
          await this.client.pause(attempt, this.downloadWhat(desc), e);
        }
      }
    });
  }

  /** One try of fetchToFile: true when the file is the blob, false when a resumed file proved wrong. */
  private async downloadToFile(desc: Descriptor, path: string, state: { received: number; whole: boolean }, onBytes?: OnBytes): Promise<boolean> {
    const what = this.downloadWhat(desc);
    let have = state.whole ? 0 : await fileSize(path);
    if (have > desc.size) have = 0;
    let hash = createHash('sha256');
    if (have > 0) await hashFile(path, have, hash);
    const resumed = have > 0;
    if (have < desc.size) {
      const res = await this.client.expect(
        { method: 'GET', url: this.path('blobs', desc.digest), scopes: [pullScope(this.name)], what, ...(have > 0 ? { headers: { Range: `bytes=${have}-` } } : {}) },
        [200, 206],
      );
      if (res.status === 206 && rangeStart(res, desc.size) !== have) {
        // a range other than the one asked for: do not splice it in, start over
        await cancelBody(res);
        await rm(path, { force: true });
        return false;
      }
      if (res.status === 200 && have > 0) {
        // the registry (or a proxy) ignores Range: the whole blob comes, so the file starts over
        have = 0;
        hash = createHash('sha256');
      }
      const file = await open(path, have > 0 ? 'a' : 'w');
      try {
        await this.client.readBody(res, what, async (chunk) => {
          if (have + chunk.length > desc.size) throw digestError(this.location, desc, `more than the ${desc.size} bytes its descriptor gives`);
          // written before it is counted: the file never holds less than the hash has seen
          await file.write(chunk);
          hash.update(chunk);
          have += chunk.length;
          state.received += chunk.length;
          onBytes?.(have);
        });
      } finally {
        await file.close();
      }
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (have === desc.size && got === desc.digest) return true;
    await rm(path, { force: true });
    if (resumed) return false;
    throw digestError(this.location, desc, have === desc.size ? `bytes whose digest is ${got}` : `${have} bytes, not the ${desc.size} its descriptor gives`);
  }

  /** Uploads a blob (a manifest goes to the manifests endpoint, by digest). */
  async push(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes): Promise<void> {
    await this.pushCounted(desc, content, onBytes);
  }

  /** push, returning the bytes sent: fewer than the blob's size when an earlier upload of it resumed. */
  async pushCounted(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes): Promise<number> {
    verifyContent(desc, content, this.location);
    if (isManifestType(desc.mediaType)) {
      await this.pushReference(desc, content, desc.digest);
      onBytes?.(content.length);
      return content.length;
    }
    return this.upload(desc, { size: content.length, slice: async (start, end) => content.subarray(start, end) }, onBytes);
  }

  /**
   * Uploads a blob from a file, read a chunk at a time (a large layer never sits in memory
   * whole). The caller has checked the file against the digest; the registry checks it again
   * when the upload completes.
   */
  async pushFileCounted(desc: Descriptor, path: string, onBytes?: OnBytes): Promise<number> {
    // a manifest goes to the manifests endpoint whole (they are small)
    if (isManifestType(desc.mediaType)) return this.pushCounted(desc, await readFile(path), onBytes);
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      if (size !== desc.size) throw digestError(this.location, desc, `a file of ${size} bytes, not the ${desc.size} its descriptor gives`);
      return await this.upload(desc, { size, slice: (start, end) => readRange(file, start, end) }, onBytes);
    } finally {
      await file.close();
    }
  }

  private async upload(desc: Descriptor, content: BlobSource, onBytes?: OnBytes): Promise<number> {
    const sent = { bytes: 0 };
    for (let session = 1; ; session++) {
      try {
        await this.uploadOnce(desc, content, sent, session === 1, onBytes);
        return sent.bytes;
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

  /**
   * Where an upload session stands: the bytes the registry holds and the URL to go on at
   * (GET on the upload URL, 204 with a Range). Undefined when the registry no longer knows it.
   */
  private async uploadStatus(location: string, total: number, what: string): Promise<{ location: string; offset: number } | undefined> {
    const res = await this.client.send({ method: 'GET', url: location, scopes: [pushScope(this.name)], what });
    await discard(res);
    if (res.status !== 204) return undefined;
    // "0-0" is what distribution says for an empty upload: read as nothing held
    const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
    const end = range ? Number(range[1]) : 0;
    const offset = end > 0 ? end + 1 : 0;
    if (offset > total) return undefined;
    return { location: res.headers.get('location') ? locationOf(res, this.client.base, what) : location, offset };
  }

  private async uploadOnce(desc: Descriptor, content: BlobSource, sent: { bytes: number }, mayResume: boolean, onBytes?: OnBytes): Promise<void> {
    const what = `the upload of blob ${desc.digest.slice(0, 19)} to ${this.location}`;
    const scopes = [pushScope(this.name)];
    const chunked = content.size > CHUNK_SIZE;
    const sessions = chunked ? this.options.uploads : undefined;
    const key = uploadSessionKey(this.client.base, this.name, desc.digest);
    // an upload of this blob that an earlier run left open: go on from where the registry stands
    const earlier = mayResume ? await sessions?.get(key) : undefined;
    let at = earlier ? await this.uploadStatus(earlier, content.size, what) : undefined;
    if (at) onBytes?.(at.offset);
    else {
      at = { location: await this.startUpload(what), offset: 0 };
      await sessions?.set(key, at.location);
    }
    let { location, offset } = at;
    if (chunked) {
      let failures = 0;
      while (offset < content.size) {
        const end = Math.min(offset + CHUNK_SIZE, content.size);
        try {
          sent.bytes += end - offset;
          const res = await this.client.expect(
            {
              method: 'PATCH',
              url: location,
              scopes,
              what,
              retry: false,
              body: await content.slice(offset, end),
              headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end - 1}` },
            },
            [202],
          );
          await discard(res);
          location = locationOf(res, this.client.base, what);
          offset = end;
          failures = 0;
          await sessions?.set(key, location);
          onBytes?.(offset);
        } catch (e) {
          // the registry refused the range: this session is no use
          if (e instanceof FabricksError && e.status === 416) throw new UploadLost(e);
          // out of tries: the session stays remembered, so the next run goes on from it
          if (++failures >= this.client.retry.attempts || !(isNetworkError(e) || isServerError(e))) throw e;
          await this.client.pause(failures, what, e);
          // ask the registry how much it has, and go on from there
          const status = await this.uploadStatus(location, content.size, what);
          if (!status) throw new UploadLost(e);
          ({ location, offset } = status);
        }
      }
    }
    const url = new URL(location, this.client.base);
    url.searchParams.set('digest', desc.digest);
    const last = await content.slice(offset, content.size);
    sent.bytes += last.length;
    try {
      await discard(await this.client.expect({ method: 'PUT', url: url.toString(), scopes, what, body: last, headers: { 'Content-Type': 'application/octet-stream' } }, [201]));
    } catch (e) {
      // the answer to a PUT that completed may be what was lost
      if (await this.exists(desc).catch(() => false)) return void (await sessions?.delete(key));
      throw isNetworkError(e) || isServerError(e) ? new UploadLost(e) : e;
    }
    await sessions?.delete(key);
    onBytes?.(content.size);
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
    const bytes = await this.client.readCapped(
      res,
      what,
      MAX_MANIFEST,
      () =>
        new FabricksError('ARTIFACT_INVALID', `${shown}: registry ${this.client.host} sent a manifest larger than ${capText(MAX_MANIFEST)}, the most a manifest may be; stopped reading`, {
          hint: 'this is not a manifest fabricks (or any OCI registry) writes; check the reference',
        }),
    );
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
/** A blob's bytes as an upload reads them, a chunk at a time: from memory or from a file. */
interface BlobSource {
  size: number;
  slice(start: number, end: number): Promise<Uint8Array>;
}

async function readRange(file: Awaited<ReturnType<typeof open>>, start: number, end: number): Promise<Uint8Array> {
  const buf = Buffer.alloc(end - start);
  let at = 0;
  while (at < buf.length) {
    const { bytesRead } = await file.read(buf, at, buf.length - at, start + at);
    if (bytesRead === 0) throw new FabricksError('STORE_CORRUPT', `a blob file ended at ${start + at} bytes while it was being sent`);
    at += bytesRead;
  }
  return buf;
}

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

/** Where a 206 answer starts (Content-Range: bytes <start>-<end>/<size>); undefined when it is not that. */
function rangeStart(res: Response, size: number): number | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  if (!m || Number(m[2]) !== size - 1 || (m[3] !== '*' && Number(m[3]) !== size)) return undefined;
  return Number(m[1]);
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

/** Feeds the first `length` bytes of a file to a hash. */
async function hashFile(path: string, length: number, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) hash.update(chunk as Buffer);
}

function digestError(location: string, desc: Descriptor, got: string): FabricksError {
  return new FabricksError('DIGEST_MISMATCH', `blob ${desc.digest} from ${location} does not match its digest: the registry sent ${got}`, {
    hint: 'nothing was stored; the registry (or a proxy before it) served wrong bytes; try again, and report it to the registry operator if it persists',
  });
}

export type { Digest };
