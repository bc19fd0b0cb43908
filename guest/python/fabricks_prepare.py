"""What a pre-initialized app may and may not take into its snapshot (crates/engine/src/prepare.rs).

`prepare` imports the entrypoint's top-level imports once, ahead, so that every start skips them.
Nothing that differs from run to run may be frozen by that: the engine refuses the snapshot when
the guest asks the host for the wall clock, random bytes, the environment or the filesystem, or
writes anything; what the host never hears of is watched here, while the imports run: reads of
`sys.argv` (empty while preparing), draws from `random`'s global generator and the monotonic
clocks of `time` refuse the snapshot, and the app starts as it did without one. Variables looked
up in `os.environ` (empty while preparing: each was absent) are reported instead, by name, or
"*" when the imports listed them all: a run that sets one of them starts without the snapshot
(src/engine/prepared.ts), as what the imports saw would differ.
"""

import ast
import os
import random
import sys
import time

_touched: list = []
_armed = False


def _note(what: str) -> None:
    if _armed and what not in _touched:
        _touched.append(what)


class _WatchedArgv(list):
    """sys.argv while preparing: any read of it is noted."""


def _argv_reader(name: str):
    method = getattr(list, name)

    def read(self, *args, **kwargs):
        _note("sys.argv")
        return method(self, *args, **kwargs)

    read.__name__ = name
    return read


for _name in ("__getitem__", "__iter__", "__len__", "__contains__", "__reversed__", "__eq__", "__ne__", "__add__", "__mul__", "__repr__", "index", "count", "copy"):
    setattr(_WatchedArgv, _name, _argv_reader(_name))


# The variables the imports looked up by name; "*" when they listed them all.
_environ: set = set()


def _watched_environ_class(base: type) -> type:
    class WatchedEnviron(base):
        def __getitem__(self, key):
            if _armed:
                _environ.add(str(key))
            return super().__getitem__(key)

        def __iter__(self):
            if _armed:
                _environ.add("*")
            return super().__iter__()

        def __len__(self):
            if _armed:
                _environ.add("*")
            return super().__len__()

    return WatchedEnviron


def _watched(what: str, func):
    def watched(*args, **kwargs):
        _note(what)
        return func(*args, **kwargs)

    watched.__name__ = getattr(func, "__name__", "watched")
    watched.__qualname__ = getattr(func, "__qualname__", watched.__name__)
    watched.__doc__ = getattr(func, "__doc__", None)
    watched.__wrapped__ = func
    return watched


# random's module-level functions are bound methods of its global generator; the clocks that
# the host does not watch (the engine watches the wall clock itself)
_RANDOM = [n for n in getattr(random, "__all__", ()) if getattr(getattr(random, n, None), "__self__", None) is getattr(random, "_inst", object())]
_CLOCKS = ["monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "process_time", "process_time_ns", "thread_time", "thread_time_ns"]


class tripwires:
    """While it is entered, notes the per-run things touched; `touched` lists them after."""

    def __enter__(self):
        global _armed
        self._argv = sys.argv
        self._environ_class = type(os.environ)
        self._saved = []
        sys.argv = _WatchedArgv(self._argv)
        os.environ.__class__ = _watched_environ_class(self._environ_class)
        for module, names, what in ((random, _RANDOM, "random numbers (random)"), (time, _CLOCKS, "the monotonic clock (time)")):
            for name in names:
                func = getattr(module, name, None)
                if func is not None:
                    self._saved.append((module, name, func))
                    setattr(module, name, _watched(what, func))
        _touched.clear()
        _environ.clear()
        _armed = True
        return self

    def __exit__(self, *exc) -> None:
        global _armed
        _armed = False
        # a module that took a function with `from random import choice` keeps the watched one;
        # disarmed, it only calls through
        for module, name, func in self._saved:
            setattr(module, name, func)
        os.environ.__class__ = self._environ_class
        sys.argv = self._argv

    @property
    def touched(self) -> list:
        return list(_touched)

    @property
    def environ(self) -> list:
        """The variables looked up by name while armed, or ["*"] when all were listed."""
        return ["*"] if "*" in _environ else sorted(_environ)


def top_level_imports(code: bytes, path: str) -> list:
    """The absolute modules the entrypoint imports at its top level, in order (for `from a import
    b`, `a`; its `b` is imported too when it is a submodule). A syntax error gives none: the run
    reports it."""
    try:
        tree = ast.parse(code, path)
    except (SyntaxError, ValueError):
        return []
    names: list = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.append((alias.name, ()))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.module, tuple(a.name for a in node.names if a.name != "*")))
    return names
