import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock, type LockOwner } from '../../src/util/file-lock.js';

async function lockHeldBy(owner: Partial<LockOwner> | undefined, ageMs = 0): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'fabricks-lock-')), 'x.lock');
  await mkdir(path);
  if (owner) await writeFile(join(path, 'owner.json'), JSON.stringify({ host: hostname(), since: Date.now(), ...owner }));
  if (ageMs) await utimes(path, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
  return path;
}

/** A pid that no process has: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('withFileLock', () => {
  it('breaks at once a lock whose holder is gone', async () => {
    const path = await lockHeldBy({ pid: await deadPid() });
    let waited = false;
    const started = Date.now();
    expect(await withFileLock(path, async () => 'ran', { onWait: () => (waited = true), timeoutMs: 5000 })).toBe('ran');
    expect(waited).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await readdir(join(path, '..'))).filter((n) => n.includes('.stale-'))).toEqual([]);
  });

  it('waits for a live holder, names it, and gives up with LOCKED', async () => {
    const holder = spawn('sleep', ['30']);
    try {
      const path = await lockHeldBy({ pid: holder.pid! });
      const seen: Array<LockOwner | undefined> = [];
      const e = await withFileLock(path, async () => 'ran', { onWait: (o) => seen.push(o), timeoutMs: 300 }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`process ${holder.pid} on ${hostname()}`) });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ pid: holder.pid });
    } finally {
      holder.kill();
    }
  });

  it('takes the lock as soon as a live holder lets go', async () => {
    const path = await lockHeldBy(undefined);
    await writeFile(join(path, 'owner.json'), JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now() }));
    setTimeout(() => void import('node:fs/promises').then((fs) => fs.rm(path, { recursive: true })), 200);
    expect(await withFileLock(path, async () => 'ran', { timeoutMs: 5000 })).toBe('ran');
  });

  it('treats a pid reused by another process as gone', async () => {
    // our own pid, but a start time that is not ours: the holder was another process
    const path = await lockHeldBy({ pid: process.pid, startTicks: 1 });
    expect(await withFileLock(path, async () => 'ran', { timeoutMs: 1000 })).toBe('ran');
  });

  it('leaves a lock being taken alone, and breaks one left half-taken', async () => {
    const young = await lockHeldBy(undefined);
    await expect(withFileLock(young, async () => 'ran', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'LOCKED' });
    const old = await lockHeldBy(undefined, 60_000);
    expect(await withFileLock(old, async () => 'ran', { timeoutMs: 1000 })).toBe('ran');
  });

  it('excludes another holder while held, and is released after an error', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'fabricks-lock-')), 'y.lock');
    const order: string[] = [];
    const first = withFileLock(path, async () => {
      order.push('a-in');
      await new Promise((r) => setTimeout(r, 150));
      order.push('a-out');
    });
    await new Promise((r) => setTimeout(r, 20));
    const second = withFileLock(path, async () => void order.push('b'));
    await Promise.all([first, second]);
    expect(order).toEqual(['a-in', 'a-out', 'b']);
    await expect(withFileLock(path, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withFileLock(path, async () => 'again', { timeoutMs: 200 })).toBe('again');
  });
});
