import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, digestHex, type Digest } from '../oci/digest.js';
import { writeAtomic } from '../util/atomic.js';
import { sameStamp, stampOf, type Stamp } from '../util/stamp.js';
import type { Descriptor } from '../oci/content.js';

/** What a build produced, remembered under the digest of everything it was built from. */
export interface BuildRecord {
  manifest: Descriptor;
  module: { digest: Digest; size: number };
  component: { digest: Digest; size: number };
  /** Files the bundle read from outside the packed set (e.g. node_modules), with their digests. */
  external: Array<[string, Digest]>;
  /**
   * Each external file's stamp (size, mtime, ctime, inode) when its digest was checked: a file
   * with the same stamp is not read again (a corpus server's 750 files of node_modules took
   * 124 ms to hash on every run; their stamps take 3 ms). null: hash it.
   */
  stamps?: Array<Stamp | null>;
  /** Size and mtime of .fabricks/app.wasm when this build wrote it: unchanged means no need to hash it. */
  output?: { size: number; mtimeMs: number };
  /** Digests of the wheels built for the runtime that it was built with (gc keeps their cache entries while it is stored). */
  wheels?: Digest[];
}

/**
 * Whether an external file still has `digest`, and its stamp: trusted as it is when it matches
 * `known`, else taken around a read whose digest matched (null when the file changed meanwhile:
 * it is hashed next time).
 */
async function checkExternal(path: string, digest: Digest, known: Stamp | null | undefined): Promise<{ same: boolean; stamp: Stamp | null }> {
  const before = await stampOf(path);
  if (sameStamp(known, before)) return { same: true, stamp: known! };
  const bytes = await readFile(path).catch(() => undefined);
  if (!bytes || sha256(bytes) !== digest) return { same: false, stamp: null };
  return { same: true, stamp: sameStamp(before ?? null, await stampOf(path)) ? before! : null };
}

export class BuildCache {
  constructor(private readonly dir: string) {}

  private file(key: Digest): string {
    return join(this.dir, `${digestHex(key)}.json`);
  }

  async get(key: Digest): Promise<BuildRecord | undefined> {
    try {
      const record = JSON.parse(await readFile(this.file(key), 'utf8')) as BuildRecord;
      const checked = await Promise.all(record.external.map(([path, digest], i) => checkExternal(path, digest, record.stamps?.[i])));
      if (!checked.every((c) => c.same)) return undefined;
      // the same files with new stamps (touched, copied): kept, so the next check is cheap
      const stamps = checked.map((c) => c.stamp);
      if (stamps.some((st, i) => st !== record.stamps?.[i])) await this.write(key, { ...record, stamps }).catch(() => undefined);
      return record;
    } catch {
      return undefined; // absent or unreadable: build again, and overwrite it
    }
  }

  /** Records it, with its external files' stamps taken now (and returns it so). */
  async put(key: Digest, record: BuildRecord): Promise<BuildRecord> {
    const checked = await Promise.all(record.external.map(([path, digest]) => checkExternal(path, digest, null)));
    const stamped = { ...record, stamps: checked.map((c) => c.stamp) };
    await this.write(key, stamped);
    return stamped;
  }

  private async write(key: Digest, record: BuildRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeAtomic(this.file(key), JSON.stringify(record));
  }
}
