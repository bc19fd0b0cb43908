// The user's files in the module layer.

import { read } from './host.js';
import { absolute, findMount, pathString } from './mounts.js';

export function normalizePath(path) {
  return String(path).replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

export function readPacked(path) {
  const bytes = read(normalizePath(path));
  if (bytes === undefined || bytes === null) {
    const err = new Error(`ENOENT: no such file in the module layer, open '${path}'`);
    err.code = 'ENOENT';
    throw err;
  }
  return bytes;
}

/** A packed file for a path no mount covers, or undefined. */
export function packedBytes(path) {
  const p = pathString(path);
  if (findMount(absolute(p))) return undefined;
  const bytes = read(normalizePath(p));
  return bytes === undefined || bytes === null ? undefined : bytes;
}
