import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

/** Write a whole file so that readers see either the old or the new content, never a part. */
export async function writeAtomic(path: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}
