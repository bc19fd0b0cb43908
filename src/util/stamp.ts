import { stat } from 'node:fs/promises';

/**
 * What a file or folder looks like without reading it: size, mtime, ctime, inode. A file whose
 * stamp is unchanged is taken to be unchanged (as make, git's index and cargo take it); ctime
 * catches a change whose mtime was set back.
 */
export type Stamp = [number, number, number, number];

/** The path's stamp (links followed), or undefined when it does not exist. */
export async function stampOf(path: string): Promise<Stamp | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s ? [s.size, s.mtimeMs, s.ctimeMs, s.ino] : undefined;
}

/** Both present and alike. */
export const sameStamp = (a: Stamp | null | undefined, b: Stamp | null | undefined): boolean => a != null && b != null && a.every((v, i) => v === b[i]);
