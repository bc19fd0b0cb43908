import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile, copyFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { digestHex, isDigest, sha256, sha256File, type Digest } from './digest.js';
import { plainDescriptor, verifyContent, type Descriptor, type FileStager, type ManifestContent, type OnBytes, type Target, type Verifier } from './content.js';
import { decodeManifest } from './manifest.js';
import { Annotation, MediaType } from './media-types.js';
import { withFileLock } from '../util/file-lock.js';
import { writeAtomic } from '../util/atomic.js';
import type { Leases } from '../util/lease.js';

interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/** What a blob's file looked like when its content was last checked: any change means check again. */
type Stamp = string;
const stampOf = (s: Stats): Stamp => `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;

/**
 * An OCI image layout (image-layout spec) on disk. Blobs are written to a temporary file, checked,
 * then renamed into place, and never changed after; index.json is rewritten whole under a lock.
 *
 * Nothing damaged is used: every blob handed out, skipped or mounted is checked against its
 * digest. A check is remembered by the file's inode, size, mtime and ctime (in
 * `.fabricks/verified.json`), so a blob is hashed once and again only when its file changes. A
 * damaged blob is moved to `.fabricks/quarantine/`, so the next build or pull writes it afresh.
 *
 * With `leases` set, every blob this process looks at, reads or writes is first leased (so a
 * `fabricks gc` elsewhere spares it, see oci/store-gc.ts) and its last use recorded as the
 * mtime of an empty file in `.fabricks/used/` (atime-independent, one utimes per blob per process).
 */
export class LayoutStore implements Target, Verifier, FileStager {
  private verified: Map<string, Stamp> | undefined;
  /** Told of every damaged blob found and moved aside (the CLI shows it, so a rebuild is explained). */
  onDamaged: ((digest: Digest, movedTo: string) => void) | undefined;
  /** Where this process records what it uses; none for maintenance (ls, gc) that must not count as use. */
  leases: Leases | undefined;

  constructor(readonly root: string) {}

  static async open(root: string): Promise<LayoutStore> {
    const store = new LayoutStore(root);
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    const layoutFile = join(root, 'oci-layout');
    if (!(await exists(layoutFile))) {
      await writeAtomic(layoutFile, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
    return store;
  }

  private get where(): string {
    return `the local store (${this.root})`;
  }

  blobPath(digest: Digest): string {
    // a digest becomes a file name: anything but sha256 hex could point outside the store
    if (!isDigest(digest)) throw new FabricksError('ARTIFACT_INVALID', `"${digest}" is not a sha256 digest`);
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  /** True when the store holds this blob, whole and undamaged (a damaged one is moved aside: false). */
  async exists(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<boolean> {
    try {
      await this.verify(desc);
      return true;
    } catch (e) {
      if (e instanceof FabricksError && ['NOT_FOUND', 'STORE_CORRUPT', 'DIGEST_MISMATCH', 'ARTIFACT_INVALID'].includes(e.code)) return false;
      throw e;
    }
  }

  /**
   * Checks a stored blob against its digest without reading it out: hashed when its file is new
   * or changed since the last check, else answered from the record of checks.
   */
  async verify(desc: Pick<Descriptor, 'digest' | 'size'>, options: { force?: boolean } = {}): Promise<void> {
    const path = this.blobPath(desc.digest);
    await this.use(desc.digest);
    let s: Stats;
    try {
      s = await stat(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw this.missing(desc.digest);
      throw new FabricksError('STORE_CORRUPT', `blob ${desc.digest} in ${this.root} cannot be read`, { cause: e });
    }
    const checks = await this.checks();
    const stamp = stampOf(s);
    if (!options.force && s.size === desc.size && checks.get(digestHex(desc.digest)) === stamp) return;
    const { digest } = await sha256File(path);
    if (digest !== desc.digest) throw await this.damaged(desc.digest, `its content hashes to ${digest}`);
    if (s.size !== desc.size) {
      throw new FabricksError('DIGEST_MISMATCH', `blob ${desc.digest} is ${s.size} bytes, not the ${desc.size} its descriptor gives`, { hint: 'the descriptor is wrong, not the stored blob' });
    }
    await this.remember(desc.digest, stamp);
  }

  /** Every blob file the store holds (for a check of the whole store). */
  async blobs(): Promise<Array<{ digest: Digest; size: number }>> {
    const dir = join(this.root, 'blobs', 'sha256');
    const out: Array<{ digest: Digest; size: number }> = [];
    for (const name of (await readdir(dir)).sort()) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue; // temporary files of writes under way
      const s = await stat(join(dir, name)).catch(() => undefined);
      if (s?.isFile()) out.push({ digest, size: s.size });
    }
    return out;
  }

  /** Where the store keeps its own records: checks, quarantined blobs, partial downloads, leases. */
  get stateDir(): string {
    return join(this.root, '.fabricks');
  }

  /** Where processes record the blobs they use (util/lease.ts). */
  get leaseDir(): string {
    return join(this.stateDir, 'leases');
  }

  get partialDir(): string {
    return join(this.stateDir, 'partial');
  }

  private usedMarker(digest: Digest): string {
    return join(this.stateDir, 'used', digestHex(digest));
  }

  /** Leases a blob for this process before anything relies on it, and records its use (once per process). */
  private async use(digest: Digest): Promise<void> {
    const key = `blob:${digestHex(digest)}`;
    if (!this.leases || this.leases.holds(key)) return;
    await this.leases.hold([key]);
    const marker = this.usedMarker(digest);
    const now = new Date();
    await utimes(marker, now, now).catch(async () => {
      await mkdir(dirname(marker), { recursive: true });
      await writeFile(marker, '');
    });
  }

  /** When a blob was last used by a build, pull or run (ms since the epoch), if ever recorded. */
  async lastUsed(digest: Digest): Promise<number | undefined> {
    return stat(this.usedMarker(digest)).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
  }

  /** Drops what the store remembers of blobs that are gone (their checks and use records). */
  async forget(digests: Digest[]): Promise<void> {
    if (digests.length === 0) return;
    const checks = await this.checks();
    for (const d of digests) {
      checks.delete(digestHex(d));
      await rm(this.usedMarker(d), { force: true });
    }
    await mkdir(this.stateDir, { recursive: true });
    await writeAtomic(join(this.stateDir, 'verified.json'), JSON.stringify(Object.fromEntries(checks)));
  }

  private missing(digest: Digest): FabricksError {
    return new FabricksError('NOT_FOUND', `blob ${digest} is not in the local store (${this.root})`, {
      hint: 'build or pull again to restore it (fabricks verify checks the whole store)',
    });
  }

  /** Where damaged blobs are moved to. */
  get quarantineDir(): string {
    return join(this.stateDir, 'quarantine');
  }

  /** Moves a damaged blob aside and says so; the next write of that digest stores good bytes. */
  private async damaged(digest: Digest, why: string): Promise<FabricksError> {
    const aside = join(this.quarantineDir, `${digestHex(digest)}.${Date.now()}`);
    await mkdir(dirname(aside), { recursive: true });
    const moved = await rename(this.blobPath(digest), aside).then(
      () => true,
      () => false,
    );
    this.verified?.delete(digestHex(digest));
    if (moved) this.onDamaged?.(digest, aside);
    return new FabricksError('STORE_CORRUPT', `blob ${digest} in the local store is damaged: ${why}${moved ? `; it was moved to ${aside}` : ''}`, {
      hint: 'build or pull again to restore it (fabricks verify checks the whole store)',
    });
  }

  private async checks(): Promise<Map<string, Stamp>> {
    if (!this.verified) {
      const text = await readFile(join(this.stateDir, 'verified.json'), 'utf8').catch(() => '{}');
      let record: Record<string, Stamp> = {};
      try {
        record = JSON.parse(text) as Record<string, Stamp>;
      } catch {
        /* a damaged record only costs hashing again */
      }
      this.verified = new Map(Object.entries(record));
    }
    return this.verified;
  }

  /** Records a check. Concurrent writers may drop each other's entries: that only costs a hash. */
  private async remember(digest: Digest, stamp: Stamp): Promise<void> {
    const checks = await this.checks();
    if (checks.get(digestHex(digest)) === stamp) return;
    checks.set(digestHex(digest), stamp);
    await mkdir(this.stateDir, { recursive: true });
    await writeAtomic(join(this.stateDir, 'verified.json'), JSON.stringify(Object.fromEntries(checks)));
  }

  /** Records that the file just written holds the right bytes, so the next check is free. */
  private async rememberFile(digest: Digest): Promise<void> {
    const s = await stat(this.blobPath(digest)).catch(() => undefined);
    if (s) await this.remember(digest, stampOf(s));
  }

  async partialPath(desc: Descriptor): Promise<string> {
    await this.use(desc.digest);
    await mkdir(this.partialDir, { recursive: true });
    return join(this.partialDir, digestHex(desc.digest));
  }

  async adoptFile(path: string, desc: Descriptor): Promise<void> {
    await this.use(desc.digest);
    const s = await stat(path);
    if (s.size !== desc.size) throw new FabricksError('DIGEST_MISMATCH', `staged file ${path} is ${s.size} bytes, not the ${desc.size} of ${desc.digest}`);
    if (await this.exists(desc)) {
      await rm(path, { force: true });
      return;
    }
    await rename(path, this.blobPath(desc.digest));
    await this.rememberFile(desc.digest);
  }

  async fetch(desc: Descriptor, onBytes?: OnBytes): Promise<Uint8Array> {
    await this.use(desc.digest);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(desc.digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw this.missing(desc.digest);
      throw new FabricksError('STORE_CORRUPT', `blob ${desc.digest} in ${this.root} cannot be read`, { cause: e });
    }
    const actual = sha256(bytes);
    if (actual !== desc.digest) throw await this.damaged(desc.digest, `its content hashes to ${actual}`);
    await this.rememberFile(desc.digest);
    // the stored bytes are right; a size that differs is the descriptor's fault
    verifyContent(desc, bytes, this.where);
    onBytes?.(bytes.length);
    return bytes;
  }

  async push(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes): Promise<void> {
    verifyContent(desc, content, this.where);
    if (!(await this.exists(desc))) {
      const tmp = this.tempPath();
      try {
        await writeFile(tmp, content);
        await rename(tmp, this.blobPath(desc.digest));
      } finally {
        await rm(tmp, { force: true });
      }
      await this.rememberFile(desc.digest);
    }
    onBytes?.(content.length);
  }

  /** Stores a file's bytes as a blob without holding them in memory twice. */
  async pushFile(path: string, mediaType: string, annotations?: Record<string, string>): Promise<Descriptor> {
    const tmp = this.tempPath();
    try {
      await copyFile(path, tmp);
      const { digest, size } = await sha256File(tmp);
      const desc: Descriptor = { mediaType, digest, size, ...(annotations ? { annotations } : {}) };
      await this.use(digest);
      if (!(await this.exists(desc))) {
        await rename(tmp, this.blobPath(digest));
        await this.rememberFile(digest);
      }
      return desc;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Stores a manifest and points a reference at it. */
  async pushReference(desc: Descriptor, content: Uint8Array, reference: string): Promise<void> {
    await this.push(desc, content);
    await this.tag(desc, reference);
  }

  /** The image manifest a reference names, decoded (an index or a damaged manifest is refused). */
  async fetchReference(reference: string): Promise<ManifestContent> {
    const desc = await this.resolve(reference);
    const bytes = await this.fetch(desc);
    decodeManifest(desc, bytes, reference);
    return { desc, bytes };
  }

  async resolve(reference: string): Promise<Descriptor> {
    const index = await this.readIndex();
    const found = index.manifests.find((m) => m.annotations?.[Annotation.refName] === reference);
    if (!found) throw new FabricksError('NOT_FOUND', `${reference} is not in the local store (${this.root})`);
    await this.use(found.digest);
    return plainDescriptor(found);
  }

  /**
   * Runs `fn` holding index.json's lock: references change only under it, so a gc that holds it
   * sees every reference there will be until it lets go.
   */
  withIndexLock<T>(fn: () => Promise<T>): Promise<T> {
    // index writes take milliseconds: a holder that keeps it for a minute is stuck
    return withFileLock(join(this.root, 'index.json.lock'), fn, { timeoutMs: 60_000 });
  }

  /** Removes a reference; its blobs stay until a gc finds nothing else refers to them. */
  async untag(reference: string): Promise<Descriptor> {
    return this.withIndexLock(async () => {
      const index = await this.readIndex();
      const found = index.manifests.find((m) => refOf(m) === reference);
      if (!found) throw new FabricksError('NOT_FOUND', `${reference} is not in the local store (${this.root})`, { hint: 'fabricks ls lists what the store holds' });
      const kept = index.manifests.filter((m) => refOf(m) !== reference);
      await writeAtomic(join(this.root, 'index.json'), JSON.stringify({ ...index, manifests: kept }, null, 2) + '\n');
      return plainDescriptor(found);
    });
  }

  /** Points a reference at a stored manifest; the reference moves if it named another. */
  async tag(desc: Descriptor, reference: string): Promise<void> {
    if (!(await this.exists(desc))) {
      throw new FabricksError('NOT_FOUND', `cannot tag ${reference}: manifest ${desc.digest} is not in the local store (${this.root})`);
    }
    // already so (a build with nothing changed tags again): no write, no lock
    if ((await this.readIndex()).manifests.some((m) => refOf(m) === reference && m.digest === desc.digest)) return;
    await this.withIndexLock(async () => {
      const index = await this.readIndex();
      const kept = index.manifests.filter((m) => refOf(m) !== reference);
      kept.push({ ...plainDescriptor(desc), annotations: { [Annotation.refName]: reference } });
      kept.sort((a, b) => refOf(a).localeCompare(refOf(b)));
      await writeAtomic(join(this.root, 'index.json'), JSON.stringify({ ...index, manifests: kept }, null, 2) + '\n');
    });
  }

  async references(): Promise<Array<{ reference: string; descriptor: Descriptor }>> {
    const index = await this.readIndex();
    return index.manifests.map((m) => ({ reference: refOf(m), descriptor: m }));
  }

  private async readIndex(): Promise<ImageIndex> {
    try {
      const index = JSON.parse(await readFile(join(this.root, 'index.json'), 'utf8')) as ImageIndex;
      if (!Array.isArray(index.manifests)) throw new Error('manifests is not a list');
      return index;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        return { schemaVersion: 2, mediaType: MediaType.imageIndex, manifests: [] };
      }
      throw new FabricksError('STORE_CORRUPT', `${join(this.root, 'index.json')} is not a valid OCI index`, {
        cause: e,
        hint: 'move it aside; the blobs stay valid and the next build tags them again',
      });
    }
  }

  private tempPath(): string {
    return join(this.root, 'blobs', 'sha256', `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  }
}

function refOf(d: Descriptor): string {
  return d.annotations?.[Annotation.refName] ?? '';
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
