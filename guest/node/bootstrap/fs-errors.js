// The errors of fs in Node's terms (`CODE: description, syscall 'path'`), each naming the
// capability to add when the host refused a path.

import { ProcessExit } from './process.js';
import { absolute, findMount, guestPath, mountWritable, NOFOLLOW, pathString } from './mounts.js';

export const CONFIG = '[capabilities.filesystem] mounts in fabricks.toml';
const ERRNO = {
  access: 'EACCES', 'not-permitted': 'EPERM', 'no-entry': 'ENOENT', exist: 'EEXIST', 'is-directory': 'EISDIR',
  'not-directory': 'ENOTDIR', 'read-only': 'EROFS', 'not-empty': 'ENOTEMPTY', invalid: 'EINVAL', loop: 'ELOOP',
  'bad-descriptor': 'EBADF', 'cross-device': 'EXDEV', unsupported: 'ENOTSUP', 'name-too-long': 'ENAMETOOLONG',
  'would-block': 'EAGAIN', busy: 'EBUSY', 'insufficient-space': 'ENOSPC', quota: 'EDQUOT', 'file-too-large': 'EFBIG', io: 'EIO',
};
const DESCRIPTIONS = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', ENOENT: 'no such file or directory', EEXIST: 'file already exists',
  EISDIR: 'illegal operation on a directory', ENOTDIR: 'not a directory', ENOTEMPTY: 'directory not empty', EINVAL: 'invalid argument',
  ELOOP: 'too many symbolic links encountered', EXDEV: 'cross-device link not permitted', EIO: 'i/o error',
};

/** The top folder a path names, for messages: /etc for /etc/passwd. */
function topFolder(abs) {
  const segs = [];
  for (const s of abs.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segs.pop();
    else segs.push(s);
  }
  return `/${segs[0] ?? ''}`;
}

/** An Error as Node makes them: `CODE: description, syscall 'path'` (` -> 'dest'` for two paths). */
export function fsError(code, detail, syscall, path, wasi, dest) {
  const err = new Error(`${code}: ${detail}, ${syscall} '${path}'${dest === undefined ? '' : ` -> '${dest}'`}`);
  err.code = code;
  err.errno = -({ EPERM: 1, ENOENT: 2, EIO: 5, EACCES: 13, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EROFS: 30, ENOTEMPTY: 39, ELOOP: 40 }[code] ?? 5);
  err.syscall = syscall;
  err.path = path;
  if (dest !== undefined) err.dest = dest;
  if (wasi) err.wasi = wasi;
  return err;
}

/** A path in no mount: `missing`, the path itself or a rename's `dest`. */
export function notGranted(syscall, path, missing = path, dest = undefined) {
  const folder = `no folder is granted at ${topFolder(absolute(missing))}; add a mount for it to ${CONFIG}`;
  // a relative path may have meant a packed file
  const detail = missing.startsWith('/') ? folder : `no such file in the module layer, and ${folder}`;
  return fsError('ENOENT', detail, syscall, path, undefined, dest);
}

/** Operations that change a folder: refused on a read-only mount. */
const WRITING = new Set(['mkdir', 'unlink', 'rmdir', 'rm', 'rename']);

/**
 * A wasi:filesystem error-code (thrown as its name, or wrapped) in Node's terms. `to` is a
 * rename's destination, in the same mount.
 */
export function fromWasi(e, syscall, path, mount, writes, to) {
  if (e instanceof ProcessExit || (e instanceof Error && e.code && e.syscall)) return e;
  const wasi = typeof e === 'string' ? e : (e?.payload ?? e?.tag ?? (e instanceof Error ? e.message : String(e)));
  let code = ERRNO[wasi] ?? 'EIO';
  // wasmtime refuses a write to a read-only mount as not-permitted, where jco's host says read-only
  if (code === 'EPERM' && writes && !mountWritable(mount)) code = 'EROFS';
  let detail = DESCRIPTIONS[code] ?? String(wasi);
  if (code === 'EROFS') detail = `the folder ${mount.guest} is granted read-only; to write to it, set mode = "rw" for it in ${CONFIG}`;
  else if (code === 'EPERM' && syscall === 'symlink') detail = `operation not permitted (a service cannot make symbolic links in the folders it is granted)`;
  else if (code === 'EPERM') {
    const why = leadsOut(mount) ?? (to && leadsOut(to.mount));
    detail = why
      ? `operation not permitted (${why}; a service reaches only the folders mounted for it: to reach another one, add it to ${CONFIG})`
      : `operation not permitted (the host refused it in the folder ${mount.guest})`;
  }
  return fsError(code, detail, syscall, path, wasi, to?.path);
}

/**
 * Why the host refuses a path in a mount that it would otherwise allow: a `..` that climbs above
 * the mount, or a symbolic link on the way that points out of it (the first link found).
 */
function leadsOut(mount) {
  const segs = mount.rel.split('/').filter((s) => s !== '' && s !== '.');
  let depth = 0;
  for (const s of segs) {
    depth += s === '..' ? -1 : 1;
    if (depth < 0) return `'..' leads out of the mount ${mount.guest}`;
  }
  for (let i = 1; i <= segs.length; i++) {
    const rel = segs.slice(0, i).join('/');
    let type;
    try {
      type = mount.dir.statAt(NOFOLLOW, rel).type;
    } catch {
      return undefined;
    }
    if (type === 'symbolic-link') return `${guestPath(mount, rel)} is a symbolic link leading out of the mount ${mount.guest}`;
  }
  return undefined;
}

/** Runs `fn(mount)` for a path in a granted folder; a path in none fails as not granted. */
export function inMount(syscall, path, fn, writes = WRITING.has(syscall)) {
  const p = pathString(path);
  const mount = findMount(absolute(p));
  if (!mount) throw notGranted(syscall, p);
  try {
    return fn(mount);
  } catch (e) {
    throw fromWasi(e, syscall, p, mount, writes);
  }
}
