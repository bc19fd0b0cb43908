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

/** Lease files of this process, removed when it exits (one exit listener for all of them). */
const ours = new Set<string>();
let hooked = false;
function removeOnExit(file: string): void {
  ours.add(file);
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const f of ours) rmSync(f, { force: true });
  });
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

  constructor(readonly dir: string) {
    this.file = join(dir, `${process.pid}-${randomBytes(4).toString('hex')}.json`);
  }

  /** Holds `keys` until this process exits (or release); returns once the record is on disk. */
  async hold(keys: string[]): Promise<void> {
    const added = keys.filter((k) => !this.keys.has(k));
    if (added.length === 0) return;
    for (const k of added) this.keys.add(k);
    // one write at a time, each of the whole set as it is when it starts: a write that started
    // earlier, with fewer keys, can never land after this one
    const write = this.writing.then(() => this.flush());
    this.writing = write.catch(() => undefined);
    await write;
  }

  private writing: Promise<void> = Promise.resolve();
  private owner: LockOwner | undefined;

  private async flush(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.owner ??= me();
    removeOnExit(this.file);
    await writeAtomic(this.file, JSON.stringify({ owner: this.owner, keys: [...this.keys] } satisfies LeaseRecord));
  }

  holds(key: string): boolean {
    return this.keys.has(key);
  }

  /** Lets go of everything held (a process that ends does so by itself). */
  release(): void {
    this.keys.clear();
    ours.delete(this.file);
    rmSync(this.file, { force: true });
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
