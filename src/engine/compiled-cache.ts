import { readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { liveLeases, type Leases } from '../util/lease.js';
import type { Home } from '../home/home.js';

/**
 * The engine's cache of compiled components (`<cache>/<hex>/component.cwasm` and its
 * `fabricks.json`, written by crates/engine/src/compiled.rs): an entry's last use is its
 * folder's mtime (set on every use, so it does not depend on atime), a run leases the entries it
 * loads (util/lease.ts), and trimming removes entries nothing leases, least recently used first.
 */

/** The lease key of a component's compiled form. */
export const compiledKey = (hex: string) => `compiled:${hex}`;

/** What a run or build tells the cache: who leases, and the size the cache trims itself to. */
export interface CachePolicy {
  leases: Leases;
  limit: number;
  dir: string;
}

/** This process's leases and the home's limit, over the compiled cache. */
export function cachePolicy(home: Pick<Home, 'leases' | 'cacheLimit' | 'compiledCacheDir'>): CachePolicy {
  return { leases: home.leases, limit: home.cacheLimit, dir: home.compiledCacheDir };
}

export interface CacheEntry {
  /** The component digest's hex (the folder's name). */
  name: string;
  /** The key a process leases it by (compiledKey). */
  lease: string;
  dir: string;
  bytes: number;
  lastUsed: number;
}

/** Records a use of an entry (its folder's mtime). */
export async function markUsed(dir: string): Promise<void> {
  const now = new Date();
  await utimes(dir, now, now).catch(() => undefined);
}

async function treeBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await treeBytes(p);
    else n += (await stat(p).catch(() => undefined))?.size ?? 0;
  }
  return n;
}

/** Every complete entry, with its size (recorded when it was made, else counted) and last use. */
export async function cacheEntries(cacheDir: string): Promise<CacheEntry[]> {
  const out: CacheEntry[] = [];
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue; // temporary folders of compiles under way
    const dir = join(cacheDir, name);
    const s = await stat(dir).catch(() => undefined);
    if (!s?.isDirectory()) continue;
    const meta = await readFile(join(dir, 'fabricks.json'), 'utf8').then((t) => JSON.parse(t) as { bytes?: number }, () => ({}) as { bytes?: number });
    out.push({ name, lease: compiledKey(name), dir, bytes: typeof meta.bytes === 'number' ? meta.bytes : await treeBytes(dir), lastUsed: s.mtimeMs });
  }
  return out;
}

/**
 * Removes an entry unless a live process leases it. The folder is moved aside first and the
 * leases read again: a run that leased it meanwhile gets it back (or, having found it gone,
 * compiles afresh), so a leased entry is never lost. True when it was removed.
 */
export async function removeEntry(entry: CacheEntry, leaseDir: string): Promise<boolean> {
  if ((await liveLeases(leaseDir)).has(entry.lease)) return false;
  const aside = `${entry.dir}.gc-${randomBytes(4).toString('hex')}`;
  if (!(await rename(entry.dir, aside).then(() => true, () => false))) return false;
  if ((await liveLeases(leaseDir)).has(entry.lease)) {
    await rename(aside, entry.dir).catch(() => undefined);
    await rm(aside, { recursive: true, force: true });
    return false;
  }
  await rm(aside, { recursive: true, force: true });
  return true;
}

/** Leftovers of compiles whose process is gone (`<hex>.tmp-<pid>-…`, `<hex>.gc-…`). */
export async function strayFolders(cacheDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    const tmp = /^[0-9a-f]{64}\.tmp-(\d+)-/.exec(name);
    if (tmp && !alive(Number(tmp[1]))) out.push(join(cacheDir, name));
    else if (/^[0-9a-f]{64}\.gc-/.test(name)) {
      const s = await stat(join(cacheDir, name)).catch(() => undefined);
      // a gc moves an entry aside for milliseconds; one left for a minute was left by a gc that died
      if (s && Date.now() - s.mtimeMs > 60_000) out.push(join(cacheDir, name));
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * The entries to remove, least recently used first, until the rest fit in `limit` bytes; `keep`
 * (leased entries) are never picked but count towards the size. Pure, so gc can show it (--dry-run).
 */
export function overLimit(entries: CacheEntry[], limit: number, keep: (e: CacheEntry) => boolean): CacheEntry[] {
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  const picked: CacheEntry[] = [];
  for (const e of [...entries].sort((a, b) => a.lastUsed - b.lastUsed)) {
    if (total <= limit) break;
    if (keep(e)) continue;
    picked.push(e);
    total -= e.bytes;
  }
  return picked;
}

/** Trims the cache to `limit` bytes, least recently used first, sparing leased entries; returns what went. */
export async function trimCache(dir: string, limit: number, leaseDir: string): Promise<CacheEntry[]> {
  const entries = await cacheEntries(dir);
  const leased = await liveLeases(leaseDir);
  const removed: CacheEntry[] = [];
  for (const e of overLimit(entries, limit, (x) => leased.has(x.lease))) {
    if (await removeEntry(e, leaseDir)) removed.push(e);
  }
  return removed;
}
