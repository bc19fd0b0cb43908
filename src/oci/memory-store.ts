import { FabricksError } from '../util/errors.js';
import type { Descriptor } from './content.js';
import { sha256 } from './digest.js';

/** Blobs held in memory: the source of an artifact that is never stored (push --format wasm). */
export class MemoryStore {
  private readonly blobs = new Map<string, Uint8Array>();
  private readonly tags = new Map<string, Descriptor>();

  async exists(desc: Pick<Descriptor, 'digest'>): Promise<boolean> {
    return this.blobs.has(desc.digest);
  }

  async fetch(desc: Descriptor): Promise<Uint8Array> {
    const bytes = this.blobs.get(desc.digest);
    if (!bytes) throw new FabricksError('NOT_FOUND', `blob ${desc.digest} is not in memory`);
    return bytes;
  }

  async push(desc: Descriptor, content: Uint8Array): Promise<void> {
    if (content.length !== desc.size || sha256(content) !== desc.digest) {
      throw new FabricksError('DIGEST_MISMATCH', `content does not match descriptor ${desc.digest} (${desc.size} bytes)`);
    }
    this.blobs.set(desc.digest, content);
  }

  async pushReference(desc: Descriptor, content: Uint8Array, reference: string): Promise<void> {
    await this.push(desc, content);
    this.tags.set(reference, desc);
  }

  async fetchReference(reference: string): Promise<{ desc: Descriptor; bytes: Uint8Array }> {
    const desc = this.tags.get(reference);
    if (!desc) throw new FabricksError('NOT_FOUND', `${reference} is not in memory`);
    return { desc, bytes: await this.fetch(desc) };
  }
}
