import { mkdir, readFile, rename, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { digestHex, isDigest, sha256, sha256File, type Digest } from './digest.js';
import { plainDescriptor, verifyContent, type Descriptor, type ManifestContent, type OnBytes, type Target } from './content.js';
import { decodeManifest } from './manifest.js';
import { Annotation, MediaType } from './media-types.js';
import { withFileLock } from '../util/file-lock.js';
import { writeAtomic } from '../util/atomic.js';

interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/**
 * An OCI image layout (image-layout spec) on disk. Blobs are written to a temporary file, checked,
 * then renamed into place, and never changed after; index.json is rewritten whole under a lock.
 */
export class LayoutStore implements Target {
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

  async exists(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<boolean> {
    try {
      const s = await stat(this.blobPath(desc.digest));
      return s.size === desc.size;
    } catch {
      return false;
    }
  }

  async fetch(desc: Descriptor, onBytes?: OnBytes): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(desc.digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new FabricksError('NOT_FOUND', `blob ${desc.digest} is not in the local store (${this.root})`);
      }
      throw new FabricksError('STORE_CORRUPT', `blob ${desc.digest} in ${this.root} cannot be read`, { cause: e });
    }
    if (sha256(bytes) !== desc.digest) {
      throw new FabricksError('STORE_CORRUPT', `blob ${desc.digest} in ${this.root} does not match its digest`, {
        hint: `delete ${this.blobPath(desc.digest)} and build or pull again`,
      });
    }
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
      if (!(await this.exists(desc))) await rename(tmp, this.blobPath(digest));
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
    return plainDescriptor(found);
  }

  /** Points a reference at a stored manifest; the reference moves if it named another. */
  async tag(desc: Descriptor, reference: string): Promise<void> {
    if (!(await this.exists(desc))) {
      throw new FabricksError('NOT_FOUND', `cannot tag ${reference}: manifest ${desc.digest} is not in the local store (${this.root})`);
    }
    await withFileLock(join(this.root, 'index.json.lock'), async () => {
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
