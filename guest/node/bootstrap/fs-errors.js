// The errors of fs in Node's terms (`CODE: description, syscall 'path'`), each naming the
// capability to add when the host refused a path.

import { ProcessExit } from './process.js';
import { absolute, findMount, guestPath, mountWritable, NOFOLLOW, pathString } from './mounts.js';
import { isPackedFolder } from './fs-packed.js';

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
  EBADF: 'bad file descriptor', EROFS: 'read-only file system', ENAMETOOLONG: 'name too long', ENOSPC: 'no space left on device',
  ENOTSUP: 'operation not supported on socket', EAGAIN: 'resource temporarily unavailable', EBUSY: 'resource busy or locked',
  EFBIG: 'file too large', EDQUOT: 'disk quota exceeded',
};
const ERRNOS = {
  EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EAGAIN: 11, EACCES: 13, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21,
  EINVAL: 22, EFBIG: 27, ENOSPC: 28, EROFS: 30, ENAMETOOLONG: 36, ENOTEMPTY: 39, ELOOP: 40, ENOTSUP: 95, EDQUOT: 122,
};

/** An error as Node makes it for a code, with its usual description (`path` may be absent, as for read). */
export function nodeError(code, syscall, path, dest) {
  return fsError(code, DESCRIPTIONS[code] ?? code, syscall, path, undefined, dest);
}

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
  const where = path === undefined ? '' : ` '${path}'${dest === undefined ? '' : ` -> '${dest}'`}`;
  const err = new Error(`${code}: ${detail}, ${syscall}${where}`);
  err.errno = -(ERRNOS[code] ?? 5);
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  if (wasi) Object.defineProperty(err, 'wasi', { value: wasi, enumerable: false });
  return err;
}

/** A path in no mount: `missing`, the path itself or a rename's `dest`. */
export function notGranted(syscall, path, missing = path, dest = undefined) {
  // under a folder of the packed files, it is only missing
  const top = topFolder(absolute(missing));
  if (top !== '/' && isPackedFolder(top)) return fsError('ENOENT', DESCRIPTIONS.ENOENT, syscall, path, undefined, dest);
  const folder = `no folder is granted at ${top}; add a mount for it to ${CONFIG}`;
  // a relative path may have meant a packed file
  const detail = missing.startsWith('/') ? folder : `no such file in the module layer, and ${folder}`;
  return fsError('ENOENT', detail, syscall, path, undefined, dest);
}

/** Operations that change a folder: refused on a read-only mount. */
const WRITING = new Set(['mkdir', 'unlink', 'rmdir', 'rm', 'rename', 'copyfile', 'symlink', 'link', 'chmod', 'chown', 'utime', 'mkdtemp', 'cp', 'ftruncate']);

/**
 * A wasi:filesystem error-code (thrown as its name, or wrapped) in Node's terms. `to` is a
 * rename's destination, in the same mount.
 */
export function fromWasi(e, syscall, path, mount, writes, to) {
  if (e instanceof ProcessExit || (e instanceof Error && e.code && (e.syscall || /^ERR_/.test(e.code)))) return e;
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

/** Node's SystemError for what fs refuses before the system is asked (`rm` of a folder without recursive). */
export function systemError(key, prefix, context) {
  const err = new Error(`${prefix}: ${context.syscall} returned ${context.code} (${context.message}) ${context.path}`);
  err.name = 'SystemError';
  err.code = key;
  err.errno = context.errno;
  err.syscall = context.syscall;
  err.path = context.path;
  err.info = context;
  return err;
}

/** The same error said of another call (copyFile's open is Node's copyfile), keeping why. */
export function asCall(err, syscall, path, dest) {
  if (!err || typeof err.syscall !== 'string' || !err.code || /^ERR_/.test(err.code)) return err;
  const cut = err.message.lastIndexOf(`, ${err.syscall}`);
  const where = path === undefined ? '' : ` '${path}'${dest === undefined ? '' : ` -> '${dest}'`}`;
  err.message = `${cut < 0 ? err.message : err.message.slice(0, cut)}, ${syscall}${where}`;
  err.syscall = syscall;
  if (path === undefined) delete err.path;
  else err.path = path;
  if (dest === undefined) delete err.dest;
  else err.dest = dest;
  return err;
}

/** fs.watch and the like: a service is not told when files change. */
export function refusedWatch(name) {
  const err = new Error(`fs.${name} is not available inside a fabricks sandbox: the host does not tell a service when files change; poll with fs.stat instead`);
  err.code = 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM';
  return err;
}
