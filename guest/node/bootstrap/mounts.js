// The folders the service is granted ([capabilities.filesystem] mounts), preopened by the host at
// their guest paths, and the mount a path is in.

import { getDirectories } from './host.js';

let mountTable; // [{ dir, guest }], longest guest path first

function mountsNow() {
  if (!mountTable) {
    mountTable = getDirectories()
      .map(([dir, guest]) => ({ dir, guest: guest === '/' ? '/' : guest.replace(/\/+$/, '') }))
      .sort((a, b) => b.guest.length - a.guest.length);
  }
  return mountTable;
}

/** The mount a guest path is under, as written (`..` is left for the host to judge). */
export function findMount(abs) {
  for (const m of mountsNow()) {
    if (m.guest === '/' || abs === m.guest || abs.startsWith(m.guest + '/')) {
      const rel = abs.slice(m.guest === '/' ? 1 : m.guest.length).replace(/^\/+/, '');
      return { ...m, rel: rel === '' ? '.' : rel };
    }
  }
  return undefined;
}

/** Whether a guest folder holds a mount further down (`/srv` for a mount at `/srv/data`). */
export function aboveMount(abs) {
  const dir = abs.replace(/\/+$/, '');
  return mountsNow().some((m) => m.guest.startsWith(`${dir}/`));
}

export function pathString(path) {
  if (path instanceof URL) return decodeURIComponent(path.pathname);
  if (path instanceof Uint8Array) return new TextDecoder().decode(path);
  if (typeof path !== 'string') {
    const got = path === undefined || path === null ? `Received ${path}` : typeof path === 'object' ? `Received an instance of ${path.constructor?.name ?? 'Object'}` : `Received type ${typeof path} (${String(path)})`;
    const err = new TypeError(`The "path" argument must be of type string or an instance of Buffer or URL. ${got}`);
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  return path;
}

export function absolute(path) {
  return path.startsWith('/') ? path : `/${path}`;
}

export const guestPath = (mount, rel) => `${mount.guest === '/' ? '' : mount.guest}/${rel}`;

export const FOLLOW = { symlinkFollow: true };
export const NOFOLLOW = { symlinkFollow: false };

/** Whether the host lets the guest change a mount (wasmtime: mutate-directory; jco's host: write). */
export function mountWritable(mount) {
  try {
    const flags = mount.dir.getFlags();
    return Boolean(flags.write || flags.mutateDirectory);
  } catch {
    return true;
  }
}
