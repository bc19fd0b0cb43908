import { mkdir, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A cross-process lock held as a directory (mkdir is atomic everywhere). A lock older than
 * `staleMs` is taken to belong to a process that died and is broken.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  { staleMs = 10 * 60_000, onWait }: { staleMs?: number; onWait?: () => void } = {},
): Promise<T> {
  let waited = false;
  for (;;) {
    try {
      await mkdir(lockPath);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > staleMs) {
        await rm(lockPath, { recursive: true, force: true });
        continue;
      }
      if (!waited) onWait?.();
      waited = true;
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}
