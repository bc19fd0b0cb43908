"""The user and group ids WASI has no notion of: os.getuid() and its siblings, as on a system
with one user, root (the answer Emscripten's CPython gives). platformdirs imports os.geteuid to
pick a runtime folder, and packages that use it (fastmcp, many CLIs) failed at import; what the
service may touch is decided by its mounts, not by these ids."""

import os


def install() -> None:
    for name in ("getuid", "geteuid", "getgid", "getegid"):
        if not hasattr(os, name):
            setattr(os, name, lambda: 0)
    if not hasattr(os, "getgroups"):
        os.getgroups = lambda: [0]
