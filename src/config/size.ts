import { FabricksError } from '../util/errors.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 };

/** A size as users write it (`1GiB`, `500MB`, `0`, `1073741824`), in bytes; `what` names it in errors. */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new FabricksError('USAGE', `${what} is "${text}", not a size`, { hint: 'write a number of bytes, or one with a unit: 500MB, 1GiB, 0' });
  }
  return Math.floor(Number(m[1]) * unit);
}
