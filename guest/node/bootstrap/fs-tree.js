// Calls on whole folders: listing (also recursively), removing and copying trees, making a
// fresh temporary folder.

import { close } from './resources.js';
import { FOLLOW, NOFOLLOW } from './mounts.js';
import { inMount, systemError } from './fs-errors.js';
import { Dirent } from './fs-stats.js';

const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The entries of a folder in a mount ({ name, type }), by name. */
export function listDir(mount, rel = mount.rel) {
  const d = rel === '.' ? mount.dir : mount.dir.openAt(FOLLOW, rel, { directory: true }, { read: true });
  try {
    const stream = d.readDirectory();
    const entries = [];
    for (let e; (e = stream.readDirectoryEntry()); ) entries.push(e);
    close(stream);
    return entries.sort(byName);
  } finally {
    if (d !== mount.dir) close(d);
  }
}

const join = (a, b) => (b === '.' ? a : a === '.' ? b : `${a}/${b}`);

function isFolder(mount, rel) {
  try {
    return mount.dir.statAt(FOLLOW, rel).type === 'directory';
  } catch {
    return false;
  }
}

/**
 * readdir: names, or Dirents; with `recursive`, every entry below, as paths relative to the
 * folder (names follow links to folders, Dirents do not, as in Node 20). `listing(sub)` gives
 * the entries of a folder below (`'.'` for the folder itself) and whether a link leads to a folder.
 */
export function walkFolder(parent, listing, options) {
  const out = [];
  const walk = (rel, shown, dirPath) => {
    for (const e of listing.entries(rel)) {
      out.push(options?.withFileTypes ? new Dirent(e.name, e.type, dirPath) : shown ? `${shown}/${e.name}` : e.name);
      const below = join(rel, e.name);
      if (options?.recursive && (e.type === 'directory' || (!options.withFileTypes && e.type === 'symbolic-link' && listing.isFolder(below)))) {
        walk(below, shown ? `${shown}/${e.name}` : e.name, `${dirPath}/${e.name}`);
      }
    }
  };
  walk('.', '', parent);
  return out;
}

/** readdir of a folder in a mount. */
export function readdirIn(path, options) {
  const parent = String(path).replace(/\/+$/, '') || '/';
  return inMount('scandir', path, (m) =>
    walkFolder(parent, { entries: (rel) => listDir(m, join(m.rel, rel)), isFolder: (rel) => isFolder(m, join(m.rel, rel)) }, options),
  );
}

export function removeTree(dir, rel) {
  const st = dir.statAt(NOFOLLOW, rel);
  if (st.type !== 'directory') return dir.unlinkFileAt(rel);
  const sub = dir.openAt(NOFOLLOW, rel, { directory: true }, { read: true });
  const names = [];
  try {
    const stream = sub.readDirectory();
    for (let e; (e = stream.readDirectoryEntry()); ) names.push(e.name);
    close(stream);
  } finally {
    close(sub);
  }
  for (const n of names) removeTree(dir, `${rel}/${n}`);
  dir.removeDirectoryAt(rel);
}

/** rm: a file or link; a folder only with `recursive`; nothing there is fine with `force`. */
export function rmPath(path, options) {
  let type;
  try {
    type = inMount('lstat', path, (m) => m.dir.statAt(NOFOLLOW, m.rel).type);
  } catch (e) {
    if (options?.force && e.code === 'ENOENT') return;
    throw e;
  }
  if (type === 'directory' && !options?.recursive) {
    throw systemError('ERR_FS_EISDIR', 'Path is a directory', { code: 'EISDIR', message: 'is a directory', path: String(path), syscall: 'rm', errno: 21 });
  }
  inMount('rm', path, (m) => removeTree(m.dir, m.rel));
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** mkdtemp: the prefix and six random letters, made as a new folder. */
export function makeTemp(prefix) {
  const shown = `${prefix}XXXXXX`;
  const random = new Uint8Array(6);
  for (let tries = 0; ; tries++) {
    crypto.getRandomValues(random);
    const path = prefix + Array.from(random, (b) => LETTERS[b % LETTERS.length]).join('');
    try {
      inMount('mkdtemp', path, (m) => m.dir.createDirectoryAt(m.rel));
      return path;
    } catch (e) {
      if (e.code === 'EEXIST' && tries < 100) continue;
      e.message = e.message.replace(`'${path}'`, `'${shown}'`);
      e.path = shown;
      throw e;
    }
  }
}

/**
 * cp: a file, a link (made again as a link) or, with `recursive`, a folder and all below, in the
 * mounts; `force` (the default) replaces files, `errorOnExist` refuses them, `filter` chooses.
 */
export function copyTree(fs, src, dest, options = {}) {
  const force = options.force !== false;
  const walk = (from, to) => {
    if (options.filter && !options.filter(from, to)) return;
    const st = options.dereference ? fs.statSync(from) : fs.lstatSync(from);
    if (st.isDirectory()) {
      if (!options.recursive) {
        throw systemError('ERR_FS_EISDIR', 'Path is a directory', { code: 'EISDIR', message: `${from} is a directory (not copied)`, path: from, syscall: 'cp', errno: 22 });
      }
      if (!fs.existsSync(to)) fs.mkdirSync(to);
      for (const name of fs.readdirSync(from)) walk(`${from}/${name}`, `${to}/${name}`);
      return;
    }
    const there = fs.lstatSync(to, { throwIfNoEntry: false });
    if (there) {
      if (!force) {
        if (options.errorOnExist) throw systemError('ERR_FS_CP_EEXIST', 'Target already exists', { code: 'EEXIST', message: `${to} already exists`, path: to, syscall: 'cp', errno: 17 });
        return;
      }
      fs.unlinkSync(to);
    }
    if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else fs.copyFileSync(from, to);
    if (options.preserveTimestamps) fs.utimesSync(to, st.atime, st.mtime);
  };
  const from = String(src).replace(/\/+$/, '');
  const to = String(dest).replace(/\/+$/, '');
  // a copy into itself would never end
  if (to.startsWith(`${from}/`) && fs.statSync(from, { throwIfNoEntry: false })?.isDirectory()) {
    throw systemError('ERR_FS_CP_EINVAL', 'Invalid src or dest', { code: 'EINVAL', message: `cannot copy ${from} to a subdirectory of self ${to}`, path: to, syscall: 'cp', errno: 22 });
  }
  walk(from, to);
}
