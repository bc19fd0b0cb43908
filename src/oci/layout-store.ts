import { mkdir, readFile, rename, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FabricksError } from '../util/errors.js';
import { digestHex, sha256, sha256File, type Digest } from './digest.js';
import type { Descriptor, Target } from './content.js';
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

  blobPath(digest: Digest): string {
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

  async fetch(desc: Descriptor): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(desc.digest));
    } catch {
      throw new FabricksError('NOT_FOUND', `blob ${desc.digest} is not in the local store (${this.root})`);
    }
    if (bytes.length !== desc.size || sha256(bytes) !== desc.digest) {
      throw new FabricksError('STORE_CORRUPT', `blob ${desc.digest} in ${this.root} does not match its digest`, {
        hint: `delete ${this.blobPath(desc.digest)} and build or pull again`,
      });
    }
    return bytes;
  }

  async push(desc: Descriptor, content: Uint8Array): Promise<void> {
    if (content.length !== desc.size || sha256(content) !== desc.digest) {
      throw new FabricksError('DIGEST_MISMATCH', `content does not match descriptor ${desc.digest} (${desc.size} bytes)`);
    }
    if (await this.exists(desc)) return;
    const tmp = this.tempPath();
    try {
      await writeFile(tmp, content);
      await rename(tmp, this.blobPath(desc.digest));
    } finally {
      await rm(tmp, { force: true });
    }
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

  async fetchReference(reference: string): Promise<{ desc: Descriptor; bytes: Uint8Array }> {
    const desc = await this.resolve(reference);
    return { desc, bytes: await this.fetch(desc) };
  }

  async resolve(reference: string): Promise<Descriptor> {
    const index = await this.readIndex();
    const found = index.manifests.find((m) => m.annotations?.[Annotation.refName] === reference);
    if (!found) throw new FabricksError('NOT_FOUND', `${reference} is not in the local store (${this.root})`);
    const { annotations, ...desc } = found;
    return desc;
  }

  async tag(desc: Descriptor, reference: string): Promise<void> {
    await withFileLock(join(this.root, 'index.json.lock'), async () => {
      const index = await this.readIndex();
      const kept = index.manifests.filter((m) => m.annotations?.[Annotation.refName] !== reference);
      const entry: Descriptor = {
        mediaType: desc.mediaType,
        digest: desc.digest,
        size: desc.size,
        ...(desc.artifactType ? { artifactType: desc.artifactType } : {}),
        annotations: { [Annotation.refName]: reference },
      };
      kept.push(entry);
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
