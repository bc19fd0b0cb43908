"""Clear errors for the folders a service is granted ([capabilities.filesystem] mounts).

The host enforces the grants (only mounts exist, contained, read-only ones refuse writes); a
refusal reaches Python as a bare errno ("[Errno 69] Read-only file system"). An audit hook
runs before each file operation and, when the host is going to refuse it, raises the error the
code expects with a message that names the capability to add. Everything it knows it asks the
host (stat and access on the path's folders), so it never allows what the host refuses, and an
operation it cannot place goes to the host as is: one on a file descriptor, one relative to a
dir_fd, and any relative path (os.open's audit event does not say whether a dir_fd came with it).
"""

import errno
import os
import posixpath
import sys

_CONFIG = "[capabilities.filesystem] mounts in fabricks.toml"

# Audit events that name paths: the event, the indexes of its path arguments, whether it writes,
# and the index of its dir_fd argument (None when it has none).
_EVENTS = {
    "open": ((0,), None, None),  # decided from the flags
    "os.listdir": ((0,), False, None),
    "os.scandir": ((0,), False, None),
    "os.mkdir": ((0,), True, 2),
    "os.remove": ((0,), True, 1),
    "os.rmdir": ((0,), True, 1),
    "os.rename": ((0, 1), True, 2),
    "os.link": ((0, 1), True, 2),
    "os.symlink": ((1,), True, 2),
    "os.truncate": ((0,), True, None),
    "os.utime": ((0,), True, 4),
    "os.chmod": ((0,), True, 2),
    "os.chown": ((0,), True, 3),
}

_WRITE_FLAGS = os.O_CREAT | os.O_TRUNC | os.O_APPEND
_busy = False


def _opens_for_writing(flags) -> bool:
    if not isinstance(flags, int):
        return False
    # on WASI O_RDWR is O_RDONLY | O_WRONLY: test the write bit, not equality
    return bool(flags & os.O_WRONLY) or bool(flags & _WRITE_FLAGS)


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


def _check(path, writes: bool) -> None:
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
    indexes, writes, dir_fd = spec
    # CPython's audit events give -1 (some None) when no dir_fd was passed
    if dir_fd is not None and len(args) > dir_fd and args[dir_fd] not in (None, -1):
        return  # relative to an open folder: the host decides
    if event == "open":
        writes = _opens_for_writing(args[2] if len(args) > 2 else None)
    _busy = True
    try:
        for i in indexes:
            if i < len(args) and isinstance(args[i], (str, bytes, os.PathLike)) and os.fsdecode(args[i]).startswith("/"):
                _check(args[i], writes)
    finally:
        _busy = False


def install() -> None:
    """Adds the hook (once per run; audit hooks cannot be removed)."""
    sys.addaudithook(_hook)
