import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeAtomic } from '../../util/atomic.js';

/**
 * Upload sessions a push left open, by registry, repository and blob digest, so that the next
 * push of that blob asks the registry how much it holds and sends only the rest.
 */
export interface UploadSessions {
  get(key: string): Promise<string | undefined>;
  /** Remembers where the upload of `key` continues (its latest Location). */
  set(key: string, location: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The key of a blob's upload: the registry's base URL, the repository and the digest. */
export const uploadSessionKey = (base: string, repository: string, digest: string) => `${base}/${repository}@${digest}`;

interface Entry {
  location: string;
  /** When it was last moved on (ms since the epoch). */
  at: number;
}

/** Registries drop unfinished uploads after a while (distribution: a week); so does this file. */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * The sessions in one small JSON file (`<home>/uploads.json`), rewritten whole and atomically.
 * Two pushes at once may drop each other's entries: that costs a resume, never a wrong blob (the
 * registry checks the digest when the upload completes). Upload URLs are the registry's and may
 * carry its state, so the file is readable by its owner only.
 */
export class UploadSessionFile implements UploadSessions {
  constructor(readonly file: string) {}

  private async read(): Promise<Record<string, Entry>> {
    try {
      const value = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
      const now = Date.now();
      const entries = Object.entries(value as Record<string, Partial<Entry>>).filter(
        (e): e is [string, Entry] => typeof e[1].location === 'string' && typeof e[1].at === 'number' && now - e[1].at < MAX_AGE_MS,
      );
      return Object.fromEntries(entries);
    } catch {
      // absent or damaged: no session to resume, every upload starts afresh
      return {};
    }
  }

  private async write(entries: Record<string, Entry>): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await writeAtomic(this.file, JSON.stringify(entries, null, 1) + '\n', 0o600);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.read())[key]?.location;
  }

  async set(key: string, location: string): Promise<void> {
    const entries = await this.read();
    entries[key] = { location, at: Date.now() };
    await this.write(entries);
  }

  async delete(key: string): Promise<void> {
    const entries = await this.read();
    if (!(key in entries)) return;
    delete entries[key];
    await this.write(entries);
  }

  /**
   * Drops sessions of blobs `keep` rejects (no longer stored here, so never resumed) and those
   * registries have dropped by now; returns how many went.
   */
  async prune(keep: (digest: string) => boolean, dryRun = false): Promise<number> {
    const raw = await readFile(this.file, 'utf8').then((t) => Object.keys(JSON.parse(t) as object).length, () => 0);
    const entries = await this.read();
    const kept = Object.fromEntries(Object.entries(entries).filter(([key]) => keep(key.slice(key.lastIndexOf('@') + 1))));
    const dropped = raw - Object.keys(kept).length;
    if (dropped > 0 && !dryRun) await this.write(kept);
    return Math.max(0, dropped);
  }
}
