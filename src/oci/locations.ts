import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withFileLock } from '../util/file-lock.js';
import { writeAtomic } from '../util/atomic.js';

const KEEP = 8;

/**
 * Which registry repositories are known to hold a blob (pushed there or pulled from there), so a
 * push to another repository of the same registry can mount it instead of sending its bytes.
 * A hint only: a wrong entry costs one refused mount.
 */
export class BlobLocations {
  constructor(readonly file: string) {}

  static at(home: string): BlobLocations {
    return new BlobLocations(join(home, 'blob-locations.json'));
  }

  private async read(): Promise<Record<string, string[]>> {
    try {
      const value = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      return value && typeof value === 'object' ? (value as Record<string, string[]>) : {};
    } catch {
      return {};
    }
  }

  /** Per digest, the repositories of `registry` other than `except` that hold it, newest first. */
  async repositories(digests: string[], registry: string, except: string): Promise<Map<string, string[]>> {
    const all = await this.read();
    const prefix = `${registry}/`;
    return new Map(digests.map((d) => [d, (all[d] ?? []).filter((l) => l.startsWith(prefix) && l !== `${prefix}${except}`).map((l) => l.slice(prefix.length))]));
  }

  async record(digests: string[], location: string): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await withFileLock(`${this.file}.lock`, async () => {
      const all = await this.read();
      for (const d of digests) all[d] = [location, ...(all[d] ?? []).filter((l) => l !== location)].slice(0, KEEP);
      await writeAtomic(this.file, JSON.stringify(all, null, 1) + '\n');
    });
  }

  /** Drops the entries of blobs `keep` rejects (no longer stored here, so never pushed from here); returns how many. */
  async prune(keep: (digest: string) => boolean, dryRun = false): Promise<number> {
    return withFileLock(`${this.file}.lock`, async () => {
      const all = await this.read();
      const stale = Object.keys(all).filter((d) => !keep(d));
      if (stale.length === 0 || dryRun) return stale.length;
      for (const d of stale) delete all[d];
      await writeAtomic(this.file, JSON.stringify(all, null, 1) + '\n');
      return stale.length;
    });
  }
}
