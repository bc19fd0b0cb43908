import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { FabricksError } from '../util/errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { writeAtomic } from '../util/atomic.js';

export const LOCK_FILE = 'fabricks.lock';

export interface LockFile {
  runtime: { image: string; digest: Digest; size: number };
}

export async function readLock(projectDir: string): Promise<LockFile | undefined> {
  const file = join(projectDir, LOCK_FILE);
  const display = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (e) {
    const at = e instanceof TomlError ? `:${e.line}:${e.column}` : '';
    throw new FabricksError('LOCK_INVALID', `${display}${at}: not valid TOML`, {
      hint: `delete ${LOCK_FILE}; the next build writes it again`,
    });
  }
  const rt = doc.runtime as Record<string, unknown> | undefined;
  if (!rt || typeof rt.image !== 'string' || typeof rt.digest !== 'string' || !isDigest(rt.digest) || typeof rt.size !== 'number') {
    throw new FabricksError('LOCK_INVALID', `${display}: [runtime] needs image, digest (sha256:...) and size`, {
      hint: `delete ${LOCK_FILE}; the next build writes it again`,
    });
  }
  return { runtime: { image: rt.image, digest: rt.digest, size: rt.size } };
}

export async function writeLock(projectDir: string, lock: LockFile): Promise<void> {
  const text =
    `# Written by fabricks build. Commit it: it pins the runtime this project builds on.\n` +
    `# Delete it (or change [from] image) to move to another runtime.\n` +
    `version = 1\n\n[runtime]\n` +
    `image = ${JSON.stringify(lock.runtime.image)}\n` +
    `digest = ${JSON.stringify(lock.runtime.digest)}\n` +
    `size = ${lock.runtime.size}\n`;
  await writeAtomic(join(projectDir, LOCK_FILE), text);
}
