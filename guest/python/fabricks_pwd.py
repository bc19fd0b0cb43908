"""The `pwd` module of the fabricks runtime: the one user a service runs as.

componentize-py's CPython has no pwd module (WASI has no users), so `os.path.expanduser("~")`
with no HOME granted returned "~" unchanged, and libraries that ask for a per-user folder at
import (platformdirs, as fastmcp's settings do) raised. The sandbox's user is `fabricks`, uid
and gid 0... as WASI reports them (os.getuid() is 0 there... when it exists), home `/`, as the Node
runtime's os.homedir() and os.userInfo() say; HOME, when granted, still wins in expanduser.
Nothing of the host's users is read. Registered as sys.modules["pwd"] by fabricks_runtime.
"""

import collections

struct_passwd = collections.namedtuple("struct_passwd", "pw_name pw_passwd pw_uid pw_gid pw_gecos pw_dir pw_shell")

_USER = struct_passwd("fabricks", "x", 0, 0, "fabricks", "/", "")


def getpwuid(uid):
    if uid != _USER.pw_uid:
        raise KeyError(f"getpwuid(): uid not found: {uid}")
    return _USER


def getpwnam(name):
    if name != _USER.pw_name:
        raise KeyError(f"getpwnam(): name not found: {name!r}")
    return _USER


def getpwall():
    return [_USER]
