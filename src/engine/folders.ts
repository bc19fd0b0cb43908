/**
 * Granted folders (mounts) as wasi:filesystem for one run, over preview2-shim's filesystem.
 *
 * preview2-shim alone is not enough: a directory descriptor remembers a host path and resolves
 * it again on each use, so a guest that opens a directory, renames it and moves an escaping
 * symlink into its place can step outside the preopen; and it has no read-only folders. Here
 * every descriptor is a mount plus a path inside it, joined lexically (no `..` past the mount,
 * no absolute paths), and every operation starts again from the mount's root descriptor, where
 * preview2-shim refuses symlinks that lead outside. The guest cannot make symlinks at all (one
 * could later be moved to where it points outside). Writes to a read-only mount fail with
 * `read-only` (EROFS in the guest).
 *
 * Left open: another process on the host that swaps a folder for a symlink between
 * preview2-shim's check of a path and its open of it (the guest itself cannot, it runs
 * synchronously in between).
 */
import * as filesystem from '@bytecodealliance/preview2-shim/filesystem';
import type { Mount } from './host.js';

/** preview2-shim's descriptor, as far as it is used here. */
type Inner = Record<string, (...args: unknown[]) => unknown>;
type Flags = Record<string, boolean | undefined>;

interface MountRoot {
  guest: string;
  readOnly: boolean;
  root: Inner;
}

interface State {
  mount: MountRoot;
  /** Path inside the mount, '' for its root. */
  rel: string;
  /** The open file or directory; undefined for the mount's root. */
  inner: Inner | undefined;
}

const dispose: symbol = (Symbol as unknown as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

/** Thrown as a wasi:filesystem error-code (jco lowers enums from strings). */
const NOT_PERMITTED = 'not-permitted';

/** `path` taken from `base` inside a mount, lexically; '.' for the mount's root. */
export function joinInside(base: string, path: string): string {
  const p = String(path).replace(/\/\/+/g, '/');
  if (p.startsWith('/')) throw NOT_PERMITTED;
  const segs = base ? base.split('/') : [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (segs.pop() === undefined) throw NOT_PERMITTED;
    } else segs.push(seg);
  }
  return segs.join('/') || '.';
}

export interface Folders {
  preopens: { getDirectories(): Array<[unknown, string]> };
  types: Record<string, unknown>;
}

/** wasi:filesystem/preopens and wasi:filesystem/types for one instance, granting `mounts` only. */
export function folders(mounts: Mount[]): Folders {
  const shim = filesystem as unknown as {
    types: { DirectoryEntryStream: unknown; filesystemErrorCode: unknown };
    _createPreopenDescriptor(host: string): Inner;
  };
  const state = new WeakMap<object, State>();
  const S = (d: unknown): State => {
    const s = state.get(d as object);
    if (!s) throw 'bad-descriptor';
    return s;
  };
  const writable = (s: State) => {
    if (s.mount.readOnly) throw 'read-only';
  };
  const at = (s: State, path: unknown) => joinInside(s.rel, String(path));
  const root = (s: State) => s.mount.root;

  // Each method is looked up by jco on the class it was given as wasi:filesystem/types.
  class Descriptor {
    static make(mount: MountRoot, rel: string, inner: Inner | undefined): Descriptor {
      const d = new Descriptor();
      state.set(d, { mount, rel, inner });
      return d;
    }
  }

  /** An operation on the open file itself (directories are re-opened from the root instead). */
  const onFile = (name: string, mutates = false) =>
    function (this: Descriptor, ...args: unknown[]): unknown {
      const s = S(this);
      if (mutates) writable(s);
      if (!s.inner) throw name === 'read' || name === 'readViaStream' ? 'is-directory' : 'bad-descriptor';
      return s.inner[name]!(...args);
    };

  const methods: Record<string | symbol, (this: Descriptor, ...args: never[]) => unknown> = {
    readViaStream: onFile('readViaStream'),
    read: onFile('read'),
    advise: onFile('advise'),
    syncData: onFile('syncData'),
    sync: onFile('sync'),
    writeViaStream: onFile('writeViaStream', true),
    appendViaStream: onFile('appendViaStream', true),
    write: onFile('write', true),
    setSize: onFile('setSize', true),
    setTimes: onFile('setTimes', true),
    getFlags(this: Descriptor) {
      const s = S(this);
      const ro = s.mount.readOnly ? { write: false, mutateDirectory: false } : {};
      if (s.inner) return { ...(s.inner.getFlags!() as Flags), ...ro };
      // the root of a mount: wasi-libc derives the rights it allows (access(W_OK)) from these
      return { read: true, write: !s.mount.readOnly, mutateDirectory: !s.mount.readOnly };
    },
    getType(this: Descriptor) {
      const s = S(this);
      return s.inner ? s.inner.getType!() : 'directory';
    },
    stat(this: Descriptor) {
      const s = S(this);
      return root(s).statAt!({ symlinkFollow: true }, s.rel || '.');
    },
    metadataHash(this: Descriptor) {
      const s = S(this);
      return root(s).metadataHashAt!({ symlinkFollow: true }, s.rel || '.');
    },
    // a listing re-opens the folder from the mount's root, never from a remembered host path
    readDirectory(this: Descriptor) {
      const s = S(this);
      const dir = root(s).openAt!({ symlinkFollow: true }, s.rel || '.', { directory: true }, { read: true }) as Inner;
      try {
        return dir.readDirectory!();
      } finally {
        (dir[dispose as unknown as string] as (() => void) | undefined)?.call(dir);
      }
    },
    statAt(this: Descriptor, pathFlags: never, path: never) {
      const s = S(this);
      return root(s).statAt!(pathFlags, at(s, path));
    },
    metadataHashAt(this: Descriptor, pathFlags: never, path: never) {
      const s = S(this);
      return root(s).metadataHashAt!(pathFlags, at(s, path));
    },
    readlinkAt(this: Descriptor, path: never) {
      const s = S(this);
      return root(s).readlinkAt!(at(s, path));
    },
    createDirectoryAt(this: Descriptor, path: never) {
      const s = S(this);
      writable(s);
      return root(s).createDirectoryAt!(at(s, path));
    },
    removeDirectoryAt(this: Descriptor, path: never) {
      const s = S(this);
      writable(s);
      return root(s).removeDirectoryAt!(at(s, path));
    },
    unlinkFileAt(this: Descriptor, path: never) {
      const s = S(this);
      writable(s);
      return root(s).unlinkFileAt!(at(s, path));
    },
    setTimesAt(this: Descriptor, pathFlags: never, path: never, atime: never, mtime: never) {
      const s = S(this);
      writable(s);
      return root(s).setTimesAt!(pathFlags, at(s, path), atime, mtime);
    },
    // a link the guest made could later be moved to where it points outside: none are made
    symlinkAt(this: Descriptor) {
      const s = S(this);
      writable(s);
      throw NOT_PERMITTED;
    },
    linkAt(this: Descriptor, oldFlags: never, oldPath: never, target: never, newPath: never) {
      const s = S(this);
      const t = S(target);
      writable(t);
      if (s.mount !== t.mount) throw 'cross-device';
      return root(s).linkAt!(oldFlags, at(s, oldPath), root(t), at(t, newPath));
    },
    renameAt(this: Descriptor, oldPath: never, target: never, newPath: never) {
      const s = S(this);
      const t = S(target);
      writable(s);
      writable(t);
      if (s.mount !== t.mount) throw 'cross-device';
      return root(s).renameAt!(at(s, oldPath), root(t), at(t, newPath));
    },
    openAt(this: Descriptor, pathFlags: never, path: never, openFlags: Flags, flags: Flags) {
      const s = S(this);
      if (flags.write || flags.mutateDirectory || openFlags.create || openFlags.truncate) writable(s);
      const rel = at(s, path);
      // wasi-libc asks mutate-directory on every write open, which preview2-shim refuses; what
      // it would allow (changes inside a folder) is checked here per operation instead
      const inner = root(s).openAt!(pathFlags, rel, openFlags, { ...flags, mutateDirectory: false }) as Inner;
      return Descriptor.make(s.mount, rel === '.' ? '' : rel, inner);
    },
    isSameObject(this: Descriptor, other: never) {
      const a = S(this);
      const b = S(other);
      return a.mount === b.mount && a.rel === b.rel;
    },
    [dispose](this: Descriptor) {
      const s = state.get(this);
      if (s?.inner) (s.inner[dispose as unknown as string] as (() => void) | undefined)?.call(s.inner);
    },
  };
  for (const key of Reflect.ownKeys(methods)) {
    Object.defineProperty(Descriptor.prototype, key, { value: methods[key as string], writable: true, configurable: true });
  }

  const entries: Array<[unknown, string]> = mounts.map((m) => {
    const mount: MountRoot = { guest: m.guest, readOnly: m.mode === 'ro', root: shim._createPreopenDescriptor(m.host) };
    return [Descriptor.make(mount, '', undefined), m.guest];
  });
  return {
    preopens: { getDirectories: () => [...entries] },
    types: { Descriptor, DirectoryEntryStream: shim.types.DirectoryEntryStream, filesystemErrorCode: shim.types.filesystemErrorCode },
  };
}
