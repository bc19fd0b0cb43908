"""Clear errors for the folders a service is granted ([capabilities.filesystem] mounts).

The host enforces the grants (only mounts exist, contained, read-only ones refuse writes); a
refusal reaches Python as a bare errno ("[Errno 69] Read-only file system", "[Errno 63]
Operation not permitted"). An audit hook runs before each file operation and, when the host is
going to refuse it, raises the error the code expects, with the host's errno and a message that
names the mount and what to change: a folder not granted, '..' or a symbolic link leading out
of a mount, a write to a read-only mount. Everything it knows it asks the host (stat and access
on the path and its folders), so it never allows what the host refuses nor refuses what the host
allows, and an operation it cannot place goes to the host as is: one on a file descriptor, one
relative to a dir_fd, and any relative path (os.open's audit event does not say whether a dir_fd
came with it). A rename or hard link between two mounts works within one host file system and fails across
two (the engine says EIO): os.rename, os.replace and os.link then raise EXDEV, as between
devices on Linux, naming the two mounts. os.symlink says a service cannot make symbolic links.
"""

import errno
import functools
import os
import posixpath
import stat
import sys

_CONFIG = CONFIG = "[capabilities.filesystem] mounts in fabricks.toml"

# Audit events that name paths: the event, the indexes of its path arguments, whether it writes,
# the index of its dir_fd argument (None when it has none), and whether it follows a symbolic
# link that the path ends in (an entry removed, renamed or made is not followed).
_EVENTS = {
    "open": ((0,), None, None, None),  # decided from the flags
    "os.listdir": ((0,), False, None, True),
    "os.scandir": ((0,), False, None, True),
    "os.mkdir": ((0,), True, 2, False),
    "os.remove": ((0,), True, 1, False),
    "os.rmdir": ((0,), True, 1, False),
    "os.rename": ((0, 1), True, 2, False),
    "os.link": ((0, 1), True, 2, False),
    "os.symlink": ((1,), True, 2, False),
    "os.truncate": ((0,), True, None, True),
    "os.utime": ((0,), True, 4, True),
    "os.chmod": ((0,), True, 2, True),
    "os.chown": ((0,), True, 3, True),
}

_WRITE_FLAGS = os.O_CREAT | os.O_TRUNC | os.O_APPEND
_busy = False


def _opens_for_writing(flags) -> bool:
    if not isinstance(flags, int):
        return False
    # on WASI O_RDWR is O_RDONLY | O_WRONLY: test the write bit, not equality
    return bool(flags & os.O_WRONLY) or bool(flags & _WRITE_FLAGS)


def _open_follows(flags) -> bool:
    if not isinstance(flags, int):
        return True
    exclusive = os.O_CREAT | os.O_EXCL
    return not flags & os.O_NOFOLLOW and flags & exclusive != exclusive


def _exists(path: str) -> bool:
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _prefixes(path: str) -> list:
    """'/', '/a', '/a/b' ... of the path as written ('..' kept: the host decides what it means)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return ["/"] + ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _refused(e: OSError) -> bool:
    return e.errno in (errno.EPERM, errno.EACCES)


def _names(path: str) -> list:
    """The names along a path; '.' and empty ones change nothing."""
    return [n for n in path.split("/") if n not in ("", ".")]


def _is_mount_root(folder: str) -> bool:
    """A mount's root is a folder (not a link to one) whose '..' the host refuses to go up."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return False
    except OSError:
        return False
    try:
        os.stat(folder + "/..")
    except OSError as e:
        return _refused(e)
    return False


def _mount(path: str):
    """The mount a path is in, as wasi-libc picks it: the longest run of its first names that is
    a mount's root (mounts may be nested: /data and /data/out). None when there is none."""
    found, folder = None, ""
    for name in _names(path):
        if name == "..":
            break
        folder += "/" + name
        if _is_mount_root(folder):
            found = folder
    return found


def _the_mount(path: str) -> str:
    mount = _mount(path)
    return f"the mount {mount}" if mount else "its mount"


def _check_contained(path: str, follows: bool) -> None:
    """Explains a path the host refuses because '..' or a symbolic link in it leads out of its
    mount: the host is asked (stat) about the path, then about each of its first names."""
    names = _names(path)
    if names and not follows and names[-1] != "..":
        names = names[:-1]  # the entry itself is not followed: its folder must be reachable
    if not names:
        return
    try:
        os.stat("/" + "/".join(names))
        return
    except OSError as e:
        if not _refused(e):
            return  # missing, say: the host says so itself
    for i in range(1, len(names) + 1):
        prefix = "/" + "/".join(names[:i])
        try:
            os.stat(prefix)
            continue
        except OSError as e:
            if not _refused(e):
                return
            code = e.errno
        if names[i - 1] == "..":
            reason = f"'..' leads out of {_the_mount(prefix)}"
        else:
            try:
                if not stat.S_ISLNK(os.lstat(prefix).st_mode):
                    return  # refused for a reason this cannot name: the host's error stands
            except OSError:
                return
            reason = f"{prefix} is a symbolic link leading out of {_the_mount(prefix)}"
        raise PermissionError(
            code,
            f"{reason}; a service reaches only the folders mounted for it: to reach another one, add it to {_CONFIG}",
            path,
        )


def _check(path, writes: bool, follows: bool) -> None:
    absolute = os.fsdecode(path)
    existing = [p for p in _prefixes(absolute) if _exists(p)]
    if not existing:
        top = "/" + posixpath.normpath(absolute).lstrip("/").split("/", 1)[0]
        raise FileNotFoundError(
            errno.ENOENT,
            f"no folder is granted at {top}; add a mount for it to {_CONFIG}"
            " (files packed with the service are read with fabricks.read_text() or importlib.resources)",
            os.fsdecode(path),
        )
    # before the read-only check: a path out of its mount stays refused on a read-write one
    _check_contained(absolute, follows)
    if not writes:
        return
    deepest = existing[-1]
    # wasi-libc answers access(W_OK) from the rights the host gives the folder's mount
    if os.access(deepest, os.W_OK):
        return
    folder = deepest
    for p in reversed(existing[:-1]):
        if os.access(p, os.W_OK):
            break
        folder = p
    raise PermissionError(
        errno.EROFS,
        f'the folder {folder} is granted read-only; to write to it, set mode = "rw" for it in {_CONFIG}',
        os.fsdecode(path),
    )


def _hook(event: str, args: tuple) -> None:
    global _busy
    spec = _EVENTS.get(event)
    if spec is None or _busy:
        return
    indexes, writes, dir_fd, follows = spec
    # CPython's audit events give -1 (some None) when no dir_fd was passed
    if dir_fd is not None and len(args) > dir_fd and args[dir_fd] not in (None, -1):
        return  # relative to an open folder: the host decides
    if event == "open":
        flags = args[2] if len(args) > 2 else None
        writes, follows = _opens_for_writing(flags), _open_follows(flags)
    _busy = True
    try:
        for i in indexes:
            if i < len(args) and isinstance(args[i], (str, bytes, os.PathLike)) and os.fsdecode(args[i]).startswith("/"):
                _check(args[i], writes, follows)
    finally:
        _busy = False


def _absolute(path, dir_fd):
    """The absolute path an os call works on, or None when it is relative to an open folder."""
    if dir_fd is not None or not isinstance(path, (str, bytes, os.PathLike)):
        return None
    return posixpath.join(os.getcwd(), os.fsdecode(path))


def _between_mounts(call, what: str, instead: str):
    """os.rename, os.replace or os.link, whose refusal across mounts names the two mounts."""

    @functools.wraps(call)
    def between(src, dst, *, src_dir_fd=None, dst_dir_fd=None, **more):
        try:
            return call(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd, **more)
        except OSError as e:
            # wasmtime reports a rename across host file systems as an I/O error
            if e.errno not in (errno.EXDEV, errno.EIO):
                raise
            paths = (_absolute(src, src_dir_fd), _absolute(dst, dst_dir_fd))
            mounts = [_mount(p) if p is not None else None for p in paths]
            if None in mounts or mounts[0] == mounts[1]:
                raise
            message = f"{what} between mounts {mounts[0]} and {mounts[1]} are not possible: {instead}"
            # (errno, message, filename, winerror, filename2), as CPython raises it; EXDEV, as
            # between devices on Linux, so code that copies on EXDEV does
            raise OSError(errno.EXDEV, message, os.fsdecode(src), None, os.fsdecode(dst)) from None

    return between


def _no_symlinks(call):
    """os.symlink: the engine makes no links for a service; say so rather than a bare EPERM."""

    @functools.wraps(call)
    def symlink(src, dst, *args, **kwargs):
        try:
            return call(src, dst, *args, **kwargs)
        except PermissionError as e:
            if e.errno != errno.EPERM:
                raise
            message = "operation not permitted (a service cannot make symbolic links in the folders it is granted)"
            raise PermissionError(errno.EPERM, message, os.fsdecode(src), None, os.fsdecode(dst)) from None

    return symlink


def check(path, writes: bool) -> None:
    """Raises what the host would refuse for a file operation on path, explained (for code that
    opens files below Python, as SQLite does)."""
    _check(path, writes, True)


def mount_of(path: str):
    return _mount(path)


def install() -> None:
    """Adds the hook (once per run; audit hooks cannot be removed) and the rename explanations."""
    sys.addaudithook(_hook)
    os.rename = _between_mounts(os.rename, "renames", "copy instead (shutil.move does)")
    os.replace = _between_mounts(os.replace, "renames", "copy instead (shutil.move does)")
    os.link = _between_mounts(os.link, "hard links", "copy instead")
    os.symlink = _no_symlinks(os.symlink)
