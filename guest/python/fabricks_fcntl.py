"""The `fcntl` module of the fabricks runtime: its names, without the operations WASI lacks.

componentize-py's CPython has no fcntl module, and WASI cannot duplicate a file descriptor, lock
a file or change descriptor flags through fcntl. But libraries import fcntl on every POSIX
system and handle OSError from what it cannot do: the official MCP SDK 2.x imports it in
mcp/server/stdio.py to move the wire off fd 0 and 1 (F_DUPFD_CLOEXEC), and when that raises
OSError it serves sys.stdin and sys.stdout in place, as 1.x did. So `import fcntl` works: the
constants are Linux's, and fcntl(), ioctl(), flock() and lockf() raise OSError (ENOTSUP) naming
the call. Registered as sys.modules["fcntl"] by fabricks_runtime.
"""

import errno

F_DUPFD = 0
F_GETFD = 1
F_SETFD = 2
F_GETFL = 3
F_SETFL = 4
F_GETLK = 5
F_SETLK = 6
F_SETLKW = 7
F_DUPFD_CLOEXEC = 1030
FD_CLOEXEC = 1
F_RDLCK = 0
F_WRLCK = 1
F_UNLCK = 2
LOCK_SH = 1
LOCK_EX = 2
LOCK_NB = 4
LOCK_UN = 8


def _unsupported(call: str) -> OSError:
    return OSError(errno.ENOTSUP, f"fcntl.{call} is not available in the fabricks runtime (WASI cannot duplicate, lock or reconfigure a file descriptor)")


def fcntl(fd, cmd, arg=0, /):
    raise _unsupported("fcntl")


def ioctl(fd, request, arg=0, mutate_flag=True, /):
    raise _unsupported("ioctl")


def flock(fd, operation, /):
    raise _unsupported("flock")


def lockf(fd, cmd, len=0, start=0, whence=0, /):
    raise _unsupported("lockf")
