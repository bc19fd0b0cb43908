import { FabricksError } from '../util/errors.js';
import { plainDescriptor, verifyContent, type Descriptor, type ManifestContent, type OnBytes, type Target } from './content.js';
import { decodeManifest } from './manifest.js';

/** Blobs held in memory: the source of an artifact that is never stored (push --format wasm). */
export class MemoryStore implements Target {
  private readonly blobs = new Map<string, Uint8Array>();
  private readonly tags = new Map<string, Descriptor>();

  async exists(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<boolean> {
    return this.blobs.get(desc.digest)?.length === desc.size;
  }

  async fetch(desc: Descriptor, onBytes?: OnBytes): Promise<Uint8Array> {
    const bytes = this.blobs.get(desc.digest);
    if (!bytes) throw new FabricksError('NOT_FOUND', `blob ${desc.digest} is not in memory`);
    // the bytes were checked on push; only the descriptor's size can be wrong here
    if (bytes.length !== desc.size) verifyContent(desc, bytes, 'memory');
    onBytes?.(bytes.length);
    return bytes;
  }

  async push(desc: Descriptor, content: Uint8Array, onBytes?: OnBytes): Promise<void> {
    verifyContent(desc, content, 'memory');
    // a copy: the caller may reuse its buffer, a stored blob never changes
    if (!this.blobs.has(desc.digest)) this.blobs.set(desc.digest, content.slice());
    onBytes?.(content.length);
  }

  async pushReference(desc: Descriptor, content: Uint8Array, reference: string): Promise<void> {
    await this.push(desc, content);
    await this.tag(desc, reference);
  }

  async resolve(reference: string): Promise<Descriptor> {
    const desc = this.tags.get(reference);
    if (!desc) throw new FabricksError('NOT_FOUND', `${reference} is not in memory`);
    return desc;
  }

  async tag(desc: Descriptor, reference: string): Promise<void> {
    if (!(await this.exists(desc))) throw new FabricksError('NOT_FOUND', `cannot tag ${reference}: manifest ${desc.digest} is not in memory`);
    this.tags.set(reference, plainDescriptor(desc));
  }

  async fetchReference(reference: string): Promise<ManifestContent> {
    const desc = await this.resolve(reference);
    const bytes = await this.fetch(desc);
    decodeManifest(desc, bytes, reference);
    return { desc, bytes };
  }
}
