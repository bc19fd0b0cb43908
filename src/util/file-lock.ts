import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FabricksError, throwIfAborted } from './errors.js';

/** Who holds a lock: enough to tell, on this host, whether that process still lives. */
export interface LockOwner {
  pid: number;
  host: string;
  /** The process's start time (Linux clock ticks since boot): a reused pid is another process. */
  startTicks?: number;
  /** When the lock was taken (ms since the epoch). */
  since: number;
}

export interface LockOptions {
  /** Called once when the lock is held by a live process and this one starts to wait. */
  onWait?: (owner: LockOwner | undefined) => void;
  /** How long to wait for a live holder before giving up with LOCKED. */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

const OWNER = 'owner.json';
/** A lock folder without an owner file this old was left by a process that died while taking it. */
const UNOWNED_GRACE_MS = 5000;

function startTicks(pid: number | 'self'): number | undefined {
  try {
    // field 22 of /proc/<pid>/stat, counted after the command name (which may hold spaces)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/** This process, as a lock or lease records its owner. */
export const me = (): LockOwner => {
  const ticks = startTicks('self');
  return { pid: process.pid, host: hostname(), ...(ticks !== undefined ? { startTicks: ticks } : {}), since: Date.now() };
};

/** Whether the owner is gone: decided at once on this host; a holder on another host is trusted. */
export function isGone(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const ticks = startTicks(owner.pid);
  return owner.startTicks !== undefined && ticks !== undefined && ticks !== owner.startTicks;
}

async function readOwner(dir: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, OWNER), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

export function describeOwner(owner: LockOwner | undefined): string {
  return owner ? `process ${owner.pid} on ${owner.host}` : 'a process that is still taking it';
}

/**
 * Takes the lock, or breaks it when its holder is gone. Breaking renames the folder away first
 * and checks that what it moved is what it judged dead, so two processes breaking the same stale
 * lock cannot both win, nor take a lock a third process just took.
 */
async function tryTake(path: string): Promise<{ taken: true } | { taken: false; owner: LockOwner | undefined }> {
  try {
    await mkdir(path);
    await writeFile(join(path, OWNER), JSON.stringify(me()));
    return { taken: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const owner = await readOwner(path);
  const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
  const stale = owner ? isGone(owner) : age > UNOWNED_GRACE_MS;
  if (!stale) return { taken: false, owner };
  const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
  if (await rename(path, aside).then(() => true, () => false)) {
    const moved = await readOwner(aside);
    if (owner && moved && (moved.pid !== owner.pid || moved.since !== owner.since)) {
      // between our look and the rename, someone else broke it and took it: give it back
      await rename(aside, path).catch(() => undefined);
    } else {
      await rm(aside, { recursive: true, force: true });
    }
  }
  return { taken: false, owner: undefined };
}

/**
 * A cross-process lock held as a folder (mkdir is atomic) with its owner inside. It cannot
 * outlive its holder: a lock whose process is gone (killed, crashed) is broken at once by the
 * next process that wants it. A live holder is waited for, up to `timeoutMs`.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const { timeoutMs = 10 * 60_000, signal } = options;
  const started = Date.now();
  let waited = false;
  for (;;) {
    throwIfAborted(signal);
    const attempt = await tryTake(lockPath);
    if (attempt.taken) break;
    if (attempt.owner && !waited) {
      waited = true;
      options.onWait?.(attempt.owner);
    }
    if (Date.now() - started > timeoutMs) {
      throw new FabricksError('LOCKED', `${lockPath} is held by ${describeOwner(attempt.owner)}, for more than ${Math.round(timeoutMs / 1000)} s`, {
        hint: 'wait for that fabricks to finish, or stop it; a lock whose process has ended is broken by itself',
      });
    }
    await sleep(50);
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}
