// realpath in the guest's terms: each part of the path looked at without following it, and a
// symbolic link replaced by what it points to, as Node's JavaScript realpath does. The host still
// judges every step: a link that leads out of its mount ends in a folder no mount grants.

import { aboveMount, absolute, findMount, FOLLOW, NOFOLLOW, pathString } from './mounts.js';
import { fromWasi, notGranted, nodeError } from './fs-errors.js';
import { packedBytes } from './packed-files.js';
import { isPackedFolder, packedPath } from './fs-packed.js';

const MAX_LINKS = 40;

/** The canonical guest path; errors name `syscall` and, for lstat, the part that failed. */
export function realpath(path, native) {
  const given = pathString(path);
  // a packed file is where it is
  if (!findMount(absolute(given))) {
    const packed = packedPath(given);
    if (packedBytes(packed) || isPackedFolder(packed)) return packed;
  }
  const todo = absolute(given).split('/');
  const done = [];
  let links = 0;
  while (todo.length) {
    const seg = todo.shift();
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      done.pop();
      continue;
    }
    const here = `/${[...done, seg].join('/')}`;
    const mount = findMount(here);
    const syscall = native ? 'realpath' : 'lstat';
    const shown = native ? given : here;
    if (!mount) {
      // the folders above a mount exist for the guest, as the path to it
      if (aboveMount(here)) {
        done.push(seg);
        continue;
      }
      throw notGranted(syscall, shown, here);
    }
    let type;
    try {
      type = mount.dir.statAt(NOFOLLOW, mount.rel).type;
    } catch (e) {
      throw fromWasi(e, syscall, shown, mount, false);
    }
    if (type !== 'symbolic-link') {
      if (todo.some((s) => s !== '' && s !== '.') && type !== 'directory') throw nodeError('ENOTDIR', syscall, native ? given : `${here}/${todo.filter((s) => s !== '').join('/')}`);
      done.push(seg);
      continue;
    }
    if (++links > MAX_LINKS) throw nodeError('ELOOP', syscall, shown);
    // Node's JavaScript realpath looks at where a link leads before reading it
    if (!native) {
      try {
        mount.dir.statAt(FOLLOW, mount.rel);
      } catch (e) {
        throw fromWasi(e, 'stat', here, mount, false);
      }
    }
    let target;
    try {
      target = mount.dir.readlinkAt(mount.rel);
    } catch (e) {
      throw fromWasi(e, syscall, shown, mount, false);
    }
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/'));
  }
  return `/${done.join('/')}`;
}
