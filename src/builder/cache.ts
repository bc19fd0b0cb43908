import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, digestHex, type Digest } from '../oci/digest.js';
import { writeAtomic } from '../util/atomic.js';
import type { Descriptor } from '../oci/content.js';

/** What a build produced, remembered under the digest of everything it was built from. */
export interface BuildRecord {
  manifest: Descriptor;
  module: { digest: Digest; size: number };
  component: { digest: Digest; size: number };
  /** Files the bundle read from outside the packed set (e.g. node_modules), with their digests. */
  external: Array<[string, Digest]>;
  /** Size and mtime of .fabricks/app.wasm when this build wrote it: unchanged means no need to hash it. */
  output?: { size: number; mtimeMs: number };
  /** Digests of the wheels built for the runtime that it was built with (gc keeps their cache entries while it is stored). */
  wheels?: Digest[];
}

export class BuildCache {
  constructor(private readonly dir: string) {}

  private file(key: Digest): string {
    return join(this.dir, `${digestHex(key)}.json`);
  }

  async get(key: Digest): Promise<BuildRecord | undefined> {
    try {
      const record = JSON.parse(await readFile(this.file(key), 'utf8')) as BuildRecord;
      for (const [path, digest] of record.external) {
        const bytes = await readFile(path).catch(() => undefined);
        if (!bytes || sha256(bytes) !== digest) return undefined;
      }
      return record;
    } catch {
      return undefined; // absent or unreadable: build again, and overwrite it
    }
  }

  async put(key: Digest, record: BuildRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeAtomic(this.file(key), JSON.stringify(record));
  }
}
