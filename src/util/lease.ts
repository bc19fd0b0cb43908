import { rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeAtomic } from './atomic.js';
import { isGone, me, type LockOwner } from './file-lock.js';

interface LeaseRecord {
  owner: LockOwner;
  keys: string[];
}

/**
 * What a live process uses (blob digests, cache entries), written down before it relies on them,
 * so a `fabricks gc` in another process spares them. One small file per process, rewritten when a
 * key is added (a process adds a handful); it goes when the process exits, and a file whose
 * process is gone (killed) is ignored and removed by the next reader.
 */
export class Leases {
  private readonly keys = new Set<string>();
  private readonly file: string;
  private cleanup: (() => void) | undefined;

  constructor(readonly dir: string) {
    this.file = join(dir, `${process.pid}-${randomBytes(4).toString('hex')}.json`);
  }

  /** Holds `keys` until this process exits (or release); returns once the record is on disk. */
  async hold(keys: string[]): Promise<void> {
    const added = keys.filter((k) => !this.keys.has(k));
    if (added.length === 0) return;
    for (const k of added) this.keys.add(k);
    await mkdir(this.dir, { recursive: true });
    const record: LeaseRecord = { owner: me(), keys: [...this.keys] };
    await writeAtomic(this.file, JSON.stringify(record));
    if (!this.cleanup) {
      this.cleanup = () => rmSync(this.file, { force: true });
      process.once('exit', this.cleanup);
    }
  }

  holds(key: string): boolean {
    return this.keys.has(key);
  }

  /** Lets go of everything held (a process that ends does so by itself). */
  release(): void {
    this.keys.clear();
    if (this.cleanup) process.off('exit', this.cleanup);
    this.cleanup?.();
    this.cleanup = undefined;
  }
}

/** Every key held by a live process (this one included); records of dead processes are removed. */
export async function liveLeases(dir: string): Promise<Set<string>> {
  const held = new Set<string>();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const path = join(dir, name);
    let record: LeaseRecord;
    try {
      record = JSON.parse(await readFile(path, 'utf8')) as LeaseRecord;
    } catch {
      continue; // vanished (its process exited) or being replaced: the next read sees the new one
    }
    if (isGone(record.owner)) {
      await rm(path, { force: true });
      continue;
    }
    for (const k of record.keys) held.add(k);
  }
  return held;
}
