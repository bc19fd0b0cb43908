// The files packed into the module layer as a read-only tree for fs: a folder is any prefix of
// their paths (the layer lists files only), at `/` and relative paths alike, where no mount is.

import { list } from './host.js';
import { absolute, findMount, pathString } from './mounts.js';
import { normalizePath } from './packed-files.js';

let tree; // folder ('' is the top) -> Map(name -> wasi descriptor type)

function treeNow() {
  if (!tree) {
    tree = new Map([['', new Map()]]);
    for (const file of list()) {
      const segs = normalizePath(file).split('/');
      for (let i = 0; i < segs.length; i++) {
        const dir = segs.slice(0, i).join('/');
        if (!tree.has(dir)) tree.set(dir, new Map());
        tree.get(dir).set(segs[i], i === segs.length - 1 ? 'regular-file' : 'directory');
      }
    }
  }
  return tree;
}

/** The key of a path in the packed tree ('.' and '..' taken as written), or undefined where a mount is. */
function keyOf(path) {
  const p = pathString(path);
  if (findMount(absolute(p))) return undefined;
  const segs = [];
  for (const s of normalizePath(p).split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segs.pop();
    else segs.push(s);
  }
  return segs.join('/');
}

/** A packed folder's entries ({ name, type }, by name), or undefined if the path is none. */
export function packedFolder(path) {
  const key = keyOf(path);
  const entries = key === undefined ? undefined : treeNow().get(key);
  if (!entries) return undefined;
  return [...entries].map(([name, type]) => ({ name, type })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A packed path as the guest's absolute path ('.' and '..' resolved). */
export const packedPath = (path) => `/${keyOf(path) ?? ''}`;

export function isPackedFolder(path) {
  const key = keyOf(path);
  return key !== undefined && treeNow().has(key);
}
